/**
 * The simple server over raw sockets: exact bytes, keep-alive, pipelining,
 * chunked and close-delimited bodies, HEAD, 100-continue, clients that leave or
 * dawdle, application errors before and after the headers, close() exactly once,
 * and taking the connection over.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  type RequestHandlerServer,
  type ServerConnection,
  ServerHandler,
  softwareVersion,
  WSGIRequestHandler,
} from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type {
  ErrorStream,
  PartialEnvironment,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../../src/types.js";
import {
  collect,
  exchange,
  header,
  normaliseDate,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

/** A body that counts its close() calls and can say when the first one happened. */
function tracked(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): {
  body: WSGIBody;
  closes: () => number;
  closed: Promise<void>;
} {
  let count = 0;
  let signal = (): void => {};
  const closed = new Promise<void>((resolve) => {
    signal = resolve;
  });
  const body = Object.assign(chunks, {
    close() {
      count += 1;
      signal();
    },
  }) as WSGIBody;
  return { body, closes: () => count, closed };
}

/** Routes the tests below share; the app records every PATH_INFO it sees. */
function routes(seen: string[]): WSGIApplication {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO as string;
    seen.push(path);
    switch (path) {
      case "/stream":
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return [Buffer.from("a"), Buffer.from("bc")];
      case "/write": {
        const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
        write(Buffer.from("written "));
        return [Buffer.from("returned")];
      }
      case "/boom":
        throw new Error("secret detail");
      case "/boom-after": {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return (function* () {
          yield Buffer.from("partial");
          throw new Error("late failure");
        })();
      }
      case "/boom-after-length": {
        startResponse("200 OK", [["Content-Length", "100"]]);
        return (function* () {
          yield Buffer.from("partial");
          throw new Error("late failure");
        })();
      }
      case "/echo": {
        const input = environ["wsgi.input"];
        const body = input?.read() ?? Buffer.alloc(0);
        startResponse("200 OK", [
          ["Content-Type", "application/octet-stream"],
          ["X-Content-Length", String(environ.CONTENT_LENGTH)],
        ]);
        return [body];
      }
      case "/errors":
        (environ["wsgi.errors"] as ErrorStream).write("app message\n");
        startResponse("204 No Content", []);
        return [];
      default:
        startResponse("200 OK", [
          ["Content-Type", "text/plain"],
          ["X-Dup", "1"],
          ["x-dup", "2"],
        ]);
        return [Buffer.from(`path=${path}`)];
    }
  };
}

describe("WSGIServer over raw sockets", () => {
  const seen: string[] = [];
  const errors = new StringErrors();
  let server: Running;
  class Handler extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }

  before(async () => {
    server = await serve(routes(seen), {}, Handler);
  });
  after(() => server.close());

  it("answers with exact bytes: status line, Date, Server, the app's headers", async () => {
    const received = await exchange(server.port, request("GET", "/hello", ["Connection: close"]));
    assert.equal(
      normaliseDate(received.toString("latin1")),
      "HTTP/1.1 200 OK\r\n" +
        "Date: <date>\r\n" +
        `Server: ${softwareVersion}\r\n` +
        "Content-Type: text/plain\r\n" +
        "X-Dup: 1\r\n" +
        "x-dup: 2\r\n" +
        "Content-Length: 11\r\n" +
        "Connection: close\r\n" +
        "\r\n" +
        "path=/hello",
    );
    assert.match(
      received.toString("latin1"),
      /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/,
    );
  });

  it("keeps HTTP/1.1 connections alive", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(request("GET", "/one"));
    await once(socket, "data");
    socket.end(request("GET", "/two"));
    const responses = parseResponses(await received);
    assert.deepEqual(
      responses.map((r) => [r.status, header(r, "Connection"), r.body.toString()]),
      [
        [200, "keep-alive", "path=/one"],
        [200, "keep-alive", "path=/two"],
      ],
    );
    assert.equal(header(responses[0]!, "Keep-Alive"), "timeout=5");
  });

  it("answers three pipelined requests sent in one write, in order", async () => {
    const received = await exchange(
      server.port,
      request("GET", "/p1") + request("GET", "/p2") + request("GET", "/p3", ["Connection: close"]),
    );
    const responses = parseResponses(received);
    assert.deepEqual(
      responses.map((r) => r.body.toString()),
      ["path=/p1", "path=/p2", "path=/p3"],
    );
  });

  it("sends a body of unknown length chunked to HTTP/1.1 and until close to HTTP/1.0", async () => {
    const [chunked] = parseResponses(
      await exchange(server.port, request("GET", "/stream", ["Connection: close"])),
    );
    assert.equal(chunked?.chunked, true);
    assert.equal(chunked?.body.toString(), "abc");
    const raw = await exchange(server.port, "GET /stream HTTP/1.0\r\n\r\n");
    const [plain] = parseResponses(raw);
    assert.equal(plain?.chunked, false);
    assert.equal(header(plain!, "Connection"), "close");
    assert.equal(plain?.body.toString(), "abc");
  });

  it("sends the headers of HEAD without the body", async () => {
    const received = await exchange(server.port, request("HEAD", "/head", ["Connection: close"]));
    const text = received.toString("latin1");
    assert.ok(text.endsWith("Content-Length: 10\r\nConnection: close\r\n\r\n"), text);
  });

  it("supports the write() callable before the returned body", async () => {
    const [response] = parseResponses(
      await exchange(server.port, request("GET", "/write", ["Connection: close"])),
    );
    assert.equal(response?.body.toString(), "written returned");
  });

  it("answers 100 Continue before reading the body when asked to", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(request("POST", "/echo", ["Content-Length: 5", "Expect: 100-continue"]));
    const [interim] = (await once(socket, "data")) as [Buffer];
    assert.equal(interim.toString("latin1"), "HTTP/1.1 100 Continue\r\n\r\n");
    socket.end("hello");
    const [, response] = parseResponses(await received);
    assert.equal(response?.body.toString(), "hello");
  });

  it("gives wsgi.errors to the application", async () => {
    await exchange(server.port, request("GET", "/errors", ["Connection: close"]));
    assert.match(errors.getValue(), /app message\n/);
  });

  it("answers 500 with the error page when the application fails before the headers", async () => {
    const [response] = parseResponses(
      await exchange(server.port, request("GET", "/boom", ["Connection: close"])),
    );
    assert.equal(response?.statusLine, "HTTP/1.1 500 Internal Server Error");
    assert.equal(
      response?.body.toString(),
      "A server error occurred.  Please contact the administrator.",
    );
    assert.match(errors.getValue(), /Error: secret detail\n\s+at /);
  });

  it("cuts the connection when the application fails after the headers", async () => {
    const before = seen.length;
    const socket = await open(server.port);
    const received = collect(socket);
    // The request after it on the connection is never answered.
    socket.write(request("GET", "/boom-after") + request("GET", "/never"));
    const [response, extra] = parseResponses(await received);
    assert.equal(response?.status, 200);
    assert.equal(response?.chunked, true);
    assert.equal(response?.complete, false);
    assert.equal(response?.body.toString(), "partial");
    assert.equal(extra, undefined);
    assert.deepEqual(seen.slice(before), ["/boom-after"]);
    assert.match(errors.getValue(), /Error: late failure/);

    const [short] = parseResponses(
      await exchange(server.port, request("GET", "/boom-after-length")),
    );
    assert.equal(short?.complete, false);
    assert.equal(short?.body.toString(), "partial");

    // A close-delimited body can only look incomplete through a reset, which the
    // server sends; whether the client sees it or an end depends on timing.
    const [plain] = parseResponses(await exchange(server.port, "GET /boom-after HTTP/1.0\r\n\r\n"));
    assert.equal(plain?.status, 200);
  });

  it("keeps serving after application errors", async () => {
    const [response] = parseResponses(
      await exchange(server.port, request("GET", "/after-errors", ["Connection: close"])),
    );
    assert.equal(response?.body.toString(), "path=/after-errors");
  });
});

describe("WSGIServer and pipelining", () => {
  it("answers a request pipelined behind a large response after it, in order", async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x62);
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return environ.PATH_INFO === "/big" ? [big] : [Buffer.from("small")];
    };
    const { port, close } = await serve(app);
    after(close);
    const socket = await open(port);
    const received = collect(socket);
    socket.write(request("GET", "/big") + request("GET", "/small", ["Connection: close"]));
    const [first, second] = parseResponses(await received);
    assert.equal(first?.body.length, big.length);
    assert.equal(second?.body.toString(), "small");
  });
});

describe("WSGIServer and failing request handlers", () => {
  it("reports a request handler that throws, drops its connection and keeps serving", async () => {
    class Broken extends WSGIRequestHandler {
      override async handle(): Promise<void> {
        if (this.path === "/broken") throw new Error("handler bug");
        return super.handle();
      }
    }
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Length", "2"]]);
      return [Buffer.from("ok")];
    };
    const { port, close } = await serve(app, {}, Broken);
    after(close);
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let broken: Buffer;
    try {
      broken = await exchange(port, request("GET", "/broken"));
    } finally {
      process.stderr.write = write;
    }
    assert.equal(broken.length, 0);
    assert.match(
      lines.join(""),
      /^Exception occurred during processing of request from 127\.0\.0\.1:\d+\n.*handler bug/s,
    );
    const [response] = parseResponses(
      await exchange(port, request("GET", "/", ["Connection: close"])),
    );
    assert.equal(response?.body.toString(), "ok");
  });

  it("names the server after serverVersion and sysVersion of a subclass", async () => {
    class Branded extends WSGIRequestHandler {
      override serverVersion = "MyServer/2.0";
      override sysVersion = "Tests/1";
    }
    let software: unknown;
    const app: WSGIApplication = (environ, startResponse) => {
      software = environ.SERVER_SOFTWARE;
      startResponse("200 OK", [["Content-Length", "0"]]);
      return [];
    };
    const { port, close } = await serve(app, {}, Branded);
    after(close);
    const [response] = parseResponses(
      await exchange(port, request("GET", "/", ["Connection: close"])),
    );
    assert.equal(header(response!, "Server"), "MyServer/2.0 Tests/1");
    assert.equal(software, "MyServer/2.0");
  });
});

describe("WSGIServer and close()", () => {
  it("closes the body exactly once on success, HEAD, errors and async bodies", async () => {
    const counts: Record<string, () => number> = {};
    const app: WSGIApplication = (environ, startResponse) => {
      const path = environ.PATH_INFO as string;
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      let t: ReturnType<typeof tracked>;
      if (path === "/async") {
        t = tracked(
          (async function* () {
            yield Buffer.from("x");
          })(),
        );
      } else if (path === "/fail") {
        t = tracked(
          (function* () {
            yield Buffer.from("x");
            throw new Error("iteration failed");
          })(),
        );
      } else {
        t = tracked([Buffer.from("x")]);
      }
      counts[`${environ.REQUEST_METHOD} ${path}`] = t.closes;
      return t.body;
    };
    class Silent extends WSGIRequestHandler {
      override getStderr(): ErrorStream {
        return new StringErrors();
      }
    }
    const { port, close } = await serve(app, {}, Silent);
    after(close);
    await exchange(
      port,
      request("GET", "/ok") +
        request("HEAD", "/ok") +
        request("GET", "/async") +
        request("GET", "/fail"),
    );
    assert.deepEqual(Object.fromEntries(Object.entries(counts).map(([k, f]) => [k, f()])), {
      "GET /ok": 1,
      "HEAD /ok": 1,
      "GET /async": 1,
      "GET /fail": 1,
    });
  });

  it("closes the body once when the client disconnects mid-response, and keeps serving", async () => {
    let t: ReturnType<typeof tracked> | undefined;
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      if (environ.PATH_INFO === "/endless") {
        const block = Buffer.alloc(64 * 1024, 0x61);
        t = tracked(
          (function* () {
            for (;;) yield block;
          })(),
        );
        return t.body;
      }
      return [Buffer.from("still here")];
    };
    const { port, close } = await serve(app);
    after(close);
    const socket = await open(port);
    socket.write(request("GET", "/endless"));
    await once(socket, "data");
    socket.destroy();
    await t?.closed;
    assert.equal(t?.closes(), 1);
    const [response] = parseResponses(
      await exchange(port, request("GET", "/", ["Connection: close"])),
    );
    assert.equal(response?.body.toString(), "still here");
    assert.equal(t?.closes(), 1);
  });
});

describe("WSGIServer and slow clients", () => {
  it("serves other clients while one trickles its headers", async () => {
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from(`path=${environ.PATH_INFO}`)];
    };
    const { port, close } = await serve(app);
    after(close);
    const slow = await open(port);
    const slowReceived = collect(slow);
    const text = request("GET", "/slow", ["Connection: close"]);
    let served = 0;
    for (let i = 0; i < text.length; i += 8) {
      slow.write(text.slice(i, i + 8));
      const [response] = parseResponses(
        await exchange(port, request("GET", `/fast${i}`, ["Connection: close"])),
      );
      assert.equal(response?.body.toString(), `path=/fast${i}`);
      served += 1;
    }
    const [response] = parseResponses(await slowReceived);
    assert.equal(response?.body.toString(), "path=/slow");
    assert.ok(served > 5);
  });
});

describe("wsgiref.connection", () => {
  it("lets the application take the connection over, then closes it", async () => {
    let closes = 0;
    const app: WSGIApplication = (environ, startResponse) => {
      const connection = environ["wsgiref.connection"] as ServerConnection;
      if (environ.PATH_INFO === "/raw") {
        const socket: Socket = connection.takeOver();
        socket.write("HTTP/1.1 299 Raw\r\nX: y\r\n\r\nraw bytes");
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return Object.assign([Buffer.from("dropped")], {
          close() {
            closes += 1;
          },
        });
      }
      assert.equal(connection.socket.remoteAddress, "127.0.0.1");
      startResponse("200 OK", [["Content-Length", "2"]]);
      return [Buffer.from("ok")];
    };
    const { port, close } = await serve(app);
    after(close);
    const received = await exchange(
      port,
      request("GET", "/plain") + request("GET", "/raw") + request("GET", "/never"),
    );
    const text = normaliseDate(received.toString("latin1"));
    assert.ok(text.endsWith("\r\n\r\nokHTTP/1.1 299 Raw\r\nX: y\r\n\r\nraw bytes"), text);
    assert.equal(closes, 1);
  });

  it("logs a taken-over request that never called startResponse with no status", async () => {
    const logged: Array<[string, string]> = [];
    class Handler extends WSGIRequestHandler {
      override logRequest(code: number | string = "-", size: number | string = "-"): void {
        logged.push([String(code), String(size)]);
      }
    }
    const app: WSGIApplication = (environ) => {
      const socket = (environ["wsgiref.connection"] as ServerConnection).takeOver();
      socket.write("HTTP/1.1 204 Raw\r\n\r\n");
      return [];
    };
    const { port, close } = await serve(app, {}, Handler);
    after(close);
    const received = await exchange(port, request("GET", "/"));
    assert.equal(received.toString("latin1"), "HTTP/1.1 204 Raw\r\n\r\n");
    assert.deepEqual(logged, [["-", "0"]]);
  });

  it("refuses a take-over once the response has started", async () => {
    let refusal: unknown;
    const app: WSGIApplication = (environ, startResponse) => {
      const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
      write(Buffer.from("started"));
      try {
        (environ["wsgiref.connection"] as ServerConnection).takeOver();
      } catch (err) {
        refusal = err;
      }
      return [];
    };
    const { port, close } = await serve(app);
    after(close);
    await exchange(port, request("GET", "/", ["Connection: close"]));
    assert.match(String(refusal), /cannot be taken over once the response has started/);
  });

  it("writes nothing, error page included, when a taken-over application fails", async () => {
    const errors = new StringErrors();
    class Handler extends WSGIRequestHandler {
      override getStderr(): ErrorStream {
        return errors;
      }
    }
    const app: WSGIApplication = (environ) => {
      (environ["wsgiref.connection"] as ServerConnection).takeOver().write("mine");
      throw new Error("after take-over");
    };
    const { port, close } = await serve(app, {}, Handler);
    after(close);
    const received = await exchange(port, request("GET", "/"));
    assert.equal(received.toString("latin1"), "mine");
    assert.match(errors.getValue(), /after take-over/);
  });
});

describe("ServerHandler", () => {
  /** Run `handler` for one request on a plain node:http server. */
  async function runOnNodeServer(
    make: (res: ServerResponse, environ: PartialEnvironment) => ServerHandler,
    app: WSGIApplication,
  ): Promise<Buffer> {
    const server = createServer((req, res) => {
      const environ: PartialEnvironment = {
        REQUEST_METHOD: req.method,
        SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
        PATH_INFO: req.url,
      };
      void make(res, environ).run(app);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    try {
      return await exchange(port, request("GET", "/", ["Connection: close"]));
    } finally {
      server.close();
    }
  }

  it("gives handleError the thrown value, as a subclass sees it", async () => {
    const thrown: unknown[] = [];
    const errors = new StringErrors();
    class Recording extends ServerHandler {
      override handleError(err: unknown): void | Promise<void> {
        thrown.push(err);
        return super.handleError(err);
      }
    }
    const failure = { custom: "not an Error" };
    const received = await runOnNodeServer(
      (res, environ) => new Recording(new BytesInput(), res, errors, environ),
      () => {
        throw failure;
      },
    );
    assert.deepEqual(thrown, [failure]);
    assert.equal(parseResponses(received)[0]?.status, 500);
    assert.match(errors.getValue(), /custom: 'not an Error'/);
    assert.ok(!received.toString("latin1").includes("not an Error"));
  });

  it("copies the environ it is given, unless told it owns it (once)", async () => {
    const given: PartialEnvironment[] = [];
    const seen: WSGIEnvironment[] = [];
    const app: WSGIApplication = (environ, startResponse) => {
      seen.push(environ);
      startResponse("200 OK", []);
      return [];
    };
    for (const owned of [false, true]) {
      await runOnNodeServer((res, environ) => {
        given.push(environ);
        const handler = new ServerHandler(new BytesInput(), res, new StringErrors(), environ);
        handler.ownsEnviron = owned;
        return handler;
      }, app);
    }
    assert.notEqual(seen[0], given[0]);
    assert.equal("wsgi.input" in (given[0] as WSGIEnvironment), false);
    assert.equal(seen[1], given[1]);
    assert.equal(typeof seen[1]?.["wsgiref.connection"], "object");
    assert.equal(seen[1]?.PATH_INFO, "/");
  });

  it("adds Date and Server unless the application set them", async () => {
    const received = await runOnNodeServer(
      (res, environ) => new ServerHandler(new BytesInput(), res, new StringErrors(), environ),
      (_environ, startResponse) => {
        startResponse("200 OK", [
          ["Server", "mine"],
          ["Date", "Thu, 01 Jan 1970 00:00:00 GMT"],
        ]);
        return [Buffer.from("x")];
      },
    );
    const [response] = parseResponses(received);
    assert.deepEqual(
      response?.headers.filter(([n]) => n === "Server" || n === "Date"),
      [
        ["Server", "mine"],
        ["Date", "Thu, 01 Jan 1970 00:00:00 GMT"],
      ],
    );
  });

  it("answers 500 when Node refuses a header value", async () => {
    const errors = new StringErrors();
    const received = await runOnNodeServer(
      (res, environ) => new ServerHandler(new BytesInput(), res, errors, environ),
      (_environ, startResponse) => {
        const headers: Array<[string, string]> = [];
        startResponse("200 OK", headers);
        // Pushed past Headers' checks, straight into the list.
        headers.push(["X-Bad", "\u0100"]);
        return [Buffer.from("x")];
      },
    );
    assert.equal(parseResponses(received)[0]?.status, 500);
    assert.match(errors.getValue(), /X-Bad/);
  });
});

describe("WSGIRequestHandler without a WSGIServer", () => {
  it("serves one node:http (req, res) pair given any RequestHandlerServer: checks, body, environ, framing", async () => {
    const seen: Array<[string, string]> = [];
    const app: WSGIApplication = (environ, startResponse) => {
      const input = environ["wsgi.input"];
      const body = input.read(Number(environ.CONTENT_LENGTH || 0));
      seen.push([String(environ.PATH_INFO), Buffer.from(body).toString()]);
      startResponse("200 OK", [["Content-Length", "4"]]);
      return [Buffer.from("long body")];
    };
    const context: RequestHandlerServer = {
      baseEnviron: { SERVER_NAME: "plain", SERVER_PORT: "80", SCRIPT_NAME: "" },
      wsgiMultiprocess: false,
      options: { maxBodySize: 16, spoolThreshold: 8, maxHeaders: 100, quiet: true },
      getApp: () => app,
      errorStream: new StringErrors(),
    };
    const server = createServer((req, res) => {
      void new WSGIRequestHandler(req, res, context).handle();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    after(() => server.close());
    const port = (server.address() as { port: number }).port;
    // One request per connection: what is pipelined, and what is served after a
    // response that closes the connection, is the connection stage's to decide.
    const responses = parseResponses(
      await exchange(
        port,
        request("POST", "/echo", ["Content-Length: 5", "Connection: close"], "hello"),
      ),
    );
    // The body cut at its Content-Length.
    assert.equal(responses[0]?.status, 200);
    assert.equal(responses[0]?.body.toString(), "long");
    assert.deepEqual(seen, [["/echo", "hello"]]);
    // Past maxBodySize before reading: 413.
    const refused = parseResponses(
      await exchange(port, request("POST", "/big", ["Content-Length: 17", "Connection: close"])),
    );
    assert.equal(refused[0]?.status, 413);
    assert.deepEqual(seen, [["/echo", "hello"]]);
    assert.equal((context.errorStream as StringErrors).getValue().includes("longer than"), true);
  });
});
