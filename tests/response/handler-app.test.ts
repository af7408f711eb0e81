/**
 * wsgiref/response: handlerApp, a wptserve-style handler as a WSGI application:
 * sync and async handlers, what is written when the handler writes nothing,
 * errors before and after the response started, errors once the client has
 * gone, the connection key shared with simple-server.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SimpleHandler } from "../../src/handlers/index.js";
import { FormError, type Handler, handlerApp } from "../../src/response/index.js";
import { CONNECTION_KEY as RESPONSE_CONNECTION_KEY } from "../../src/response/response-output.js";
import { CONNECTION_KEY, WSGIRequestHandler } from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { ErrorStream, PartialEnvironment } from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";
import { validator } from "../../src/validate.js";
import {
  collect,
  fetchNode,
  open,
  parseResponses,
  rawGet,
  readUntil,
  signal,
} from "../helpers/response-server.js";
import { type Running, serve } from "../helpers/server-client.js";

describe("handlerApp", () => {
  let server: Running;
  const errors = new StringErrors();
  const afterLeaving = signal<void>();

  class Handler500 extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }

  const routes: Record<string, Handler> = {
    "/sync": (_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.content = "sync";
    },
    "/async": async (_request, response) => {
      await new Promise((resolve) => setImmediate(resolve));
      response.headers.set("Content-Type", "text/plain");
      response.content = "async";
    },
    "/nothing": () => undefined,
    "/throws": () => {
      throw new Error("handler failed early");
    },
    "/rejects": async (_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      await Promise.resolve();
      throw new Error("handler failed late");
    },
    "/throws-mid-stream": async (_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.writeStatusHeaders();
      response.writer.write("partial");
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error("handler failed mid-stream");
    },
    "/form-after-start": (request, response) => {
      response.writer.writeStatus(200);
      response.writer.writeHeader("Content-Type", "text/plain");
      response.content = String(request.POST.length);
    },
    "/form-error": () => {
      throw new FormError("made up", 413);
    },
    "/throws-after-leaving": async (_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.writeStatusHeaders();
      while (response.writer.write("x".repeat(1024))) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      afterLeaving.resolve();
      throw new Error("handler failed after the client left");
    },
  };

  before(async () => {
    const apps = new Map(
      Object.entries(routes).map(([path, handler]) => [path, validator(handlerApp(handler))]),
    );
    // /nothing sends no Content-Type, which validator() would refuse.
    apps.set("/nothing", handlerApp(routes["/nothing"]!));
    server = await serve(
      (environ, startResponse) => apps.get(environ.PATH_INFO ?? "")!(environ, startResponse),
      {},
      Handler500,
    );
  });
  after(() => server.close());

  it("refuses a handler that is not a function and invalid limits", () => {
    assert.throws(() => handlerApp("nope" as unknown as Handler), {
      name: "TypeError",
      message: "handler must be a function: 'nope'",
    });
    assert.throws(() => handlerApp(() => undefined, { maxPartSize: 1.5 }), TypeError);
  });

  it("writes the response a sync or an async handler filled in", async () => {
    assert.equal((await fetchNode(server.port, "/sync")).body.toString(), "sync");
    assert.equal((await fetchNode(server.port, "/async")).body.toString(), "async");
  });

  it("answers 200 with no content when the handler set nothing", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/nothing"), "latin1"));
    assert.equal(response!.status, 200);
    assert.equal(response!.body.length, 0);
  });

  it("answers the gateway's 500 when the handler throws before writing, and logs it", async () => {
    for (const [path, message] of [
      ["/throws", "handler failed early"],
      ["/rejects", "handler failed late"],
    ] as const) {
      const res = await fetchNode(server.port, path);
      assert.equal(res.status, 500);
      assert.equal(
        res.body.toString(),
        "A server error occurred.  Please contact the administrator.",
      );
      assert.ok(!res.body.toString().includes(message));
      assert.ok(errors.getValue().includes(`Error: ${message}`), errors.getValue());
    }
  });

  it("cuts the response when the handler throws after it started", async () => {
    const [response] = parseResponses(
      Buffer.from(await rawGet(server.port, "/throws-mid-stream"), "latin1"),
    );
    assert.equal(response!.status, 200);
    assert.equal(response!.body.toString(), "partial");
    assert.equal(response!.complete, false, "no last chunk: the client can tell");
  });

  it("answers a FormError that escapes the handler with its JSON error", async () => {
    const res = await fetchNode(server.port, "/form-error");
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.body.toString()), { error: { code: 413, message: "made up" } });
  });

  it("answers 500 for a FormError once the handler has started writing", async () => {
    const res = await fetchNode(server.port, "/form-after-start", {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=B" },
      body: "--B\r\nbroken",
    });
    assert.equal(res.status, 500);
  });

  it("logs an error the handler throws after the client has gone, and keeps serving", async () => {
    const socket = await open(server.port);
    const closed = collect(socket);
    socket.write("GET /throws-after-leaving HTTP/1.1\r\nHost: h\r\n\r\n");
    await readUntil(socket, "xxxx");
    socket.destroy();
    await closed;
    await afterLeaving.promise;
    assert.equal((await fetchNode(server.port, "/sync")).body.toString(), "sync");
    // The body waits for the handler before the server finishes the request, so
    // by the time the handler's error is logged, the next request may be served;
    // wait for the line rather than for time.
    for (;;) {
      if (errors.getValue().includes("handler failed after the client left")) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it("uses the connection key simple-server offers", () => {
    assert.equal(RESPONSE_CONNECTION_KEY, CONNECTION_KEY);
  });
});

describe("handlerApp under SimpleHandler", () => {
  it("runs a validated handler in process, body and all", async () => {
    const environ: PartialEnvironment = { QUERY_STRING: "name=wsgi", REQUEST_METHOD: "GET" };
    setupTestingDefaults(environ);
    const chunks: Buffer[] = [];
    const gateway = new SimpleHandler(
      new BytesInput(),
      {
        write: (data: Uint8Array) => {
          chunks.push(Buffer.from(data));
        },
      },
      new StringErrors(),
      environ,
    );
    await gateway.run(
      validator(
        handlerApp((request, response) => {
          response.headers.set("Content-Type", "text/plain");
          response.content = ["Hello, ", () => request.GET.first("name")];
        }),
      ),
    );
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.0 200 OK\r\n/);
    assert.ok(text.endsWith("\r\n\r\nHello, wsgi"), text);
  });
});
