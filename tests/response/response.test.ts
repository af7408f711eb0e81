/**
 * wsgiref/response: Response through the real server, checked on the wire with
 * raw sockets and Node's client: status, headers, content of every kind,
 * encoding, setError, HEAD, sendBodyForHeadRequest, closeConnection, and the
 * write()/writeStatusHeaders()/writeContent() steps.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  handlerApp,
  Request,
  Response,
  type ResponseContent,
  reasonPhrase,
} from "../../src/response/index.js";
import { ResponseOutput } from "../../src/response/response-output.js";
import type { FileLike, PartialEnvironment } from "../../src/types.js";
import { openFile, setupTestingDefaults } from "../../src/util.js";
import { needs } from "../helpers/peers.js";
import {
  collect,
  exchange,
  fetchNode,
  header,
  open,
  parseResponses,
  rawGet,
  readUntil,
  serveRoutes,
  signal,
} from "../helpers/response-server.js";
import type { Running } from "../helpers/server-client.js";

/** A Response over a test environ, for what needs no server. */
function offline(method = "GET"): Response {
  const environ: PartialEnvironment = { REQUEST_METHOD: method };
  setupTestingDefaults(environ);
  return new Response(new Request(environ), new ResponseOutput(environ, () => () => undefined));
}

/** An in-memory file: read(size) over `data`, with close() recorded. */
function memoryFile(data: string): FileLike & { closed: boolean } {
  const bytes = Buffer.from(data);
  let at = 0;
  return {
    closed: false,
    read(size: number) {
      const chunk = bytes.subarray(at, at + size);
      at += chunk.length;
      return chunk;
    },
    close() {
      this.closed = true;
    },
  };
}

describe("Response", () => {
  let server: Running;
  let dir: string;
  let filePath: string;
  const fileClosed = signal<boolean>();

  const text =
    (content: ResponseContent, extra?: (response: Response) => void) =>
    (_request: Request, response: Response) => {
      response.headers.set("Content-Type", "text/plain");
      response.content = content;
      extra?.(response);
    };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-response-"));
    filePath = join(dir, "file.txt");
    await writeFile(filePath, "0123456789".repeat(10_000));
    server = await serveRoutes({
      "/code": text("", (r) => {
        r.status = 201;
      }),
      "/pair": text("", (r) => {
        r.status = [299, "Custom Reason"];
      }),
      "/unknown": text("", (r) => {
        r.status = 599;
      }),
      "/headers": text("x", (r) => {
        r.headers.append("X-Multi", "1");
        r.headers.append("X-Multi", "2");
        r.headers.set("X-Once", "a");
        r.headers.set("x-once", "b");
        r.headers.set("X-Gone", "c");
        r.headers.delete("x-gone");
      }),
      "/string": text("héllo"),
      "/bytes": text(Buffer.from([0, 1, 2, 255])),
      "/latin1": text("héllo", (r) => {
        r.encoding = "latin1";
      }),
      "/parts": text([
        "a",
        () => "b",
        () => undefined,
        () => null,
        "",
        Buffer.from("c"),
        () => Buffer.from("d"),
      ]),
      "/generator": text(
        (function* () {
          yield "x";
          yield () => "y";
        })(),
      ),
      "/file": (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        const file = openFile(filePath);
        response.content = file;
        response.writer.fileChunkSize = 4096;
        // The body is sent after the handler returns; check the file once it is.
        setImmediate(function poll() {
          if (file.closed) fileClosed.resolve(true);
          else setImmediate(poll);
        });
      },
      "/error": (_request, response) => {
        response.headers.set("X-Dropped", "1");
        response.setError(418, 'short and "stout"');
      },
      "/explicit": (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.content = "whole";
        response.write();
        // Already written: what the handler changes now is not sent.
        response.content = "changed";
      },
      "/steps": (_request, response) => {
        response.status = 202;
        response.headers.set("Content-Type", "text/plain");
        response.content = ["one,", "two"];
        response.writeStatusHeaders();
        response.writeContent();
      },
      "/close": text("bye", (r) => {
        r.closeConnection = true;
      }),
      "/close-throws": (_request, response) => {
        response.closeConnection = true;
        throw new Error("the handler failed");
      },
      "/head-body": {
        mode: "raw",
        handler: text("body for HEAD", (r) => {
          r.sendBodyForHeadRequest = true;
        }),
      },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("fills the message of a numeric status with its reason phrase", async () => {
    const res = await fetchNode(server.port, "/code");
    assert.equal(res.status, 201);
    assert.equal(res.statusMessage, "Created");
  });

  it("sends a [code, message] status as given", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/pair"), "latin1"));
    assert.equal(response!.statusLine, "HTTP/1.1 299 Custom Reason");
  });

  it("sends an empty message for a code without a reason phrase", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/unknown"), "latin1"));
    assert.equal(response!.statusLine, "HTTP/1.1 599 ");
  });

  it("sends every header value, grouped by name, after set/append/delete", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/headers"), "latin1"));
    const names = response!.headers.map(([n]) => n);
    assert.deepEqual(
      response!.headers.filter(([n]) => n.startsWith("X-") || n.startsWith("x-")),
      [
        ["X-Multi", "1"],
        ["X-Multi", "2"],
        ["x-once", "b"],
      ],
    );
    assert.ok(!names.includes("X-Gone"));
    // Date and Server come from the server, as for every WSGI application.
    assert.ok(header(response!, "Date"));
    assert.match(header(response!, "Server") ?? "", /^WSGIServer\/\S+ Node\.js\//);
  });

  it("encodes string content as UTF-8 with its Content-Length", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/string"), "latin1"));
    assert.equal(header(response!, "Content-Length"), "6");
    assert.equal(response!.body.toString("utf8"), "héllo");
    assert.equal(response!.chunked, false);
  });

  it("sends bytes content as they are, with their Content-Length", async () => {
    const res = await fetchNode(server.port, "/bytes");
    assert.deepEqual([...res.body], [0, 1, 2, 255]);
    assert.equal(res.headers["content-length"], "4");
  });

  it("encodes text with the response's encoding", async () => {
    const res = await fetchNode(server.port, "/latin1");
    assert.deepEqual(res.body, Buffer.from("héllo", "latin1"));
    assert.equal(res.headers["content-length"], "5");
  });

  it("sends an iterable's parts in order, calling functions and skipping empty parts, chunked", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/parts"), "latin1"));
    assert.equal(response!.body.toString(), "abcd");
    assert.equal(response!.chunked, true);
    assert.equal(header(response!, "Content-Length"), undefined);
    const res = await fetchNode(server.port, "/generator");
    assert.equal(res.body.toString(), "xy");
  });

  it("streams a file content in chunks and closes it", async () => {
    const res = await fetchNode(server.port, "/file");
    assert.equal(res.body.toString(), "0123456789".repeat(10_000));
    assert.equal(res.headers["transfer-encoding"], "chunked");
    assert.equal(await fileClosed.promise, true);
  });

  it("sends setError's JSON body, status and headers, replacing the others", async () => {
    const [response] = parseResponses(Buffer.from(await rawGet(server.port, "/error"), "latin1"));
    assert.equal(response!.statusLine, "HTTP/1.1 418 I'm a Teapot");
    assert.equal(
      response!.body.toString(),
      '{"error": {"code": 418, "message": "short and \\"stout\\""}}',
    );
    assert.equal(header(response!, "Content-Type"), "application/json");
    assert.equal(header(response!, "Content-Length"), String(response!.body.length));
    assert.equal(header(response!, "X-Dropped"), undefined);
  });

  it("writes nothing more once the handler has written the response", async () => {
    const res = await fetchNode(server.port, "/explicit");
    assert.equal(res.body.toString(), "whole");
    assert.equal(res.headers["content-length"], "5");
  });

  it("writes status and headers, then the content, as separate steps", async () => {
    const res = await fetchNode(server.port, "/steps");
    assert.equal(res.status, 202);
    assert.equal(res.body.toString(), "one,two");
  });

  it("answers HEAD with the headers GET would have, Content-Length included, and no body", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.end(
      "HEAD /string HTTP/1.1\r\nHost: h\r\n\r\nGET /string HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    const [head, get] = parseResponses(await received, [0]);
    assert.equal(head!.status, 200);
    assert.equal(header(head!, "Content-Length"), "6");
    assert.equal(head!.body.length, 0);
    assert.equal(get!.body.toString(), "héllo", "the HEAD response had no body bytes");
  });

  it("sends the content for HEAD when sendBodyForHeadRequest is set (raw)", async () => {
    const text = await rawGet(server.port, "/head-body", "HEAD");
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nContent-Length: 13\r\n/);
    assert.ok(text.endsWith("\r\n\r\nbody for HEAD"), text);
  });

  it("closes the connection after the response when closeConnection is set", async () => {
    const socket = await open(server.port);
    const closed = once(socket, "close");
    const received = collect(socket);
    socket.write("GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
    await closed;
    const [response] = parseResponses(await received);
    assert.equal(response!.body.toString(), "bye");
  });

  it("says Connection: close on a closeConnection response, before a pipelined request", async () => {
    // Issue 13, finding 9: the head said keep-alive, then the connection closed,
    // and the client lost the request it had pipelined behind.
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write("GET /close HTTP/1.1\r\nHost: h\r\n\r\nGET /string HTTP/1.1\r\nHost: h\r\n\r\n");
    const responses = parseResponses(await received);
    assert.equal(responses.length, 1);
    const [response] = responses;
    assert.equal(header(response!, "Connection"), "close");
    assert.equal(header(response!, "Content-Length"), "3");
    assert.equal(response!.body.toString(), "bye");
  });

  it("says Connection: close on a HEAD response with closeConnection, with no body", async () => {
    // No Connection: close in the request, so the server would keep the connection.
    const text = (await exchange(server.port, "HEAD /close HTTP/1.1\r\nHost: h\r\n\r\n")).toString(
      "latin1",
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.match(text, /\r\nContent-Length: 3\r\n/);
    assert.ok(text.endsWith("\r\n\r\n"), text);
  });

  it("answers 500 when a handler that set closeConnection throws", async () => {
    const text = await rawGet(server.port, "/close-throws");
    assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
  });

  it("keeps the connection open otherwise", async () => {
    const socket = await open(server.port);
    socket.write("GET /string HTTP/1.1\r\nHost: h\r\n\r\n");
    await readUntil(socket, "héllo".replace("é", "\xc3\xa9"));
    socket.write("GET /bytes HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const rest = await collect(socket);
    assert.match(rest.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe("Response arguments", () => {
  it("refuses a request or an output that is not an object, and a status code that is not an integer", () => {
    const environ: PartialEnvironment = {};
    setupTestingDefaults(environ);
    const output = new ResponseOutput(environ, () => () => undefined);
    assert.throws(() => new Response(5 as unknown as Request, output), {
      name: "TypeError",
      message: "request must be an object: 5",
    });
    assert.throws(() => new Response(new Request(environ), null as unknown as ResponseOutput), {
      name: "TypeError",
      message: "output must be an object: null",
    });
    assert.throws(() => reasonPhrase("x" as unknown as number), {
      name: "TypeError",
      message: "code must be an integer: 'x'",
    });
    assert.equal(reasonPhrase(599), "");
    assert.equal(reasonPhrase(418), "I'm a Teapot");
  });
});

describe("Response outside a server", () => {
  it("gives status as [code, message] and checks what is set", () => {
    const response = offline();
    assert.deepEqual(response.status, [200, "OK"]);
    response.status = 404;
    assert.deepEqual(response.status, [404, "Not Found"]);
    response.status = [404, "Lost"];
    assert.deepEqual(response.status, [404, "Lost"]);
    assert.throws(() => {
      response.status = 1000;
    }, TypeError);
    assert.throws(() => {
      response.status = 2.5;
    }, TypeError);
    assert.throws(() => {
      response.status = [200] as unknown as [number, string];
    }, TypeError);
    assert.throws(() => {
      response.status = [200, 1] as unknown as [number, string];
    }, TypeError);
    assert.deepEqual(response.status, [404, "Lost"]);
  });

  it("produces an iterable content's parts as the gateway takes them, not all at write()", async () => {
    // A long generated content and a client that reads slowly: write() used to
    // run the whole iterable into the output queue at once.
    let produced = 0;
    const app = handlerApp((_request, response) => {
      response.headers.set("Content-Type", "application/octet-stream");
      response.content = (function* () {
        for (let i = 0; i < 64; i++) {
          yield () => {
            produced += 1;
            return Buffer.alloc(1024 * 1024, i);
          };
        }
      })();
    });
    const environ: PartialEnvironment = {};
    setupTestingDefaults(environ);
    const body = app(environ, () => () => undefined) as AsyncIterableIterator<Uint8Array> & {
      close(): Promise<void>;
    };
    const first = await body.next();
    assert.equal(first.value?.[0], 0);
    assert.ok(produced <= 2, `${produced} parts produced for one taken`);
    const second = await body.next();
    assert.equal(second.value?.[0], 1);
    assert.ok(produced <= 3, `${produced} parts produced for two taken`);
    let taken = 2;
    for (let next = await body.next(); next.done !== true; next = await body.next()) taken += 1;
    assert.equal(taken, 64);
    assert.equal(produced, 64);
    await body.close();
  });

  it("has wptserve's defaults", () => {
    const response = offline();
    assert.equal(response.encoding, "utf-8");
    assert.equal(response.addRequiredHeaders, true);
    assert.equal(response.sendBodyForHeadRequest, false);
    assert.equal(response.closeConnection, false);
    assert.deepEqual(response.content, []);
    assert.deepEqual(response.headers.items(), []);
    assert.equal(response.writer.defaultStatus, 200);
    assert.equal(response.writer.fileChunkSize, 32 * 1024);
  });

  it("iterates over content, reading a file whole when asked", () => {
    const response = offline();
    const file = memoryFile("file data");
    response.content = file;
    assert.deepEqual([...response.iterContent()], [file]);
    const again = memoryFile("file data");
    response.content = ["a", () => again];
    const parts = [...response.iterContent(true)];
    assert.equal(Buffer.from(parts[0] as Uint8Array).toString(), "a");
    assert.equal(Buffer.from(parts[1] as Uint8Array).toString(), "file data");
    assert.equal(again.closed, true);
    const top = memoryFile("top");
    response.content = top;
    assert.equal(Buffer.from([...response.iterContent(true)][0] as Uint8Array).toString(), "top");
  });

  it("refuses content and parts of other types", () => {
    const response = offline();
    response.content = 42 as unknown as ResponseContent;
    assert.throws(() => [...response.iterContent()], TypeError);
    response.content = [() => 42 as unknown as string];
    assert.throws(() => [...response.iterContent()], {
      name: "TypeError",
      message:
        "a part of response.content must be a string, a Uint8Array, a file or a function returning one: 42",
    });
  });

  it("closes a file content unread for HEAD", () => {
    const response = offline("HEAD");
    const file = memoryFile("x");
    response.content = file;
    response.writeContent();
    assert.equal(file.closed, true);
  });

  it("gives setError the bytes of wptserve's json.dumps, ASCII-only escapes included", {
    skip: needs("python3"),
  }, () => {
    const cases: Array<[number, string]> = [
      [404, ""],
      [400, 'plain "quoted" back\\slash /'],
      [418, "tab\tnew\nline\r feed\f back\b nul\u0000 unit\u001f del\u007f"],
      [422, "caf\u00e9 \u00ff \u0100 \u20ac \u65e5\u672c \ufeff\uffff"],
      [500, "astral \u{1f600} \u{10ffff} \u{1d11e}"],
      [409, "lone \ud800 and \udfff surrogates"],
    ];
    // The expected bytes come from Python itself: wptserve's set_error body,
    // json.dumps({"error": {"code": code, "message": message}}), one per line.
    // The cases go in as UTF-8 JSON (JSON.stringify escapes the lone surrogates,
    // which json.loads reads back as such); what comes out is ASCII.
    const python = execFileSync(
      "python3",
      [
        "-c",
        'import json, sys\nfor code, message in json.loads(sys.stdin.buffer.read()):\n    print(json.dumps({"error": {"code": code, "message": message}}))',
      ],
      { input: Buffer.from(JSON.stringify(cases), "utf8"), encoding: "latin1" },
    );
    const expected = python.split("\n").slice(0, -1);
    assert.equal(expected.length, cases.length);
    cases.forEach(([code, message], i) => {
      const response = offline();
      response.setError(code, message);
      assert.equal(response.content, expected[i], message);
      assert.deepEqual(response.headers.get("Content-Length"), [String(expected[i]!.length)]);
    });
  });

  it("writes a 500's message to wsgi.errors from setError", () => {
    const response = offline();
    response.setError(500, "it broke");
    const errors = response.request.environ["wsgi.errors"] as unknown as { getValue(): string };
    assert.equal(errors.getValue(), "it broke\n");
    assert.throws(() => response.setError(400, 1 as unknown as string), TypeError);
    // A message (often a client's input) cannot add a line to the log or drive its terminal.
    response.setError(500, 'bad\r\n127.0.0.1 - - "GET /admin HTTP/1.1" 200 0\x1b[2J');
    assert.equal(
      errors.getValue(),
      'it broke\nbad\\x0d\\x0a127.0.0.1 - - "GET /admin HTTP/1.1" 200 0\\x1b[2J\n',
    );
  });
});
