/**
 * wsgiref/simple-server: makeServer and WSGIServer's serving loop (Python's
 * serve_forever/handle_request/shutdown/server_close), options, demoApp, and
 * subclassing WSGIRequestHandler as Python's users do.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { after, describe, it } from "node:test";
import {
  demoApp,
  makeServer,
  serverVersion,
  WSGIRequestHandler,
  WSGIServer,
} from "../../src/simple-server.js";
import { StringErrors } from "../../src/streams.js";
import type {
  ErrorStream,
  PartialEnvironment,
  WSGIApplication,
  WSGIEnvironment,
} from "../../src/types.js";
import {
  collect,
  exchange,
  open,
  parseResponses,
  request,
  serve,
} from "../helpers/server-client.js";

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("Hello, world!")];
};

/** GET `path` with Node's client; resolves to status and body. */
async function get(
  port: number,
  path = "/",
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; res: IncomingMessage }> {
  const req = httpRequest({ host: "127.0.0.1", port, path, headers, agent: false });
  req.end();
  const [res] = (await once(req, "response")) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("latin1"), res };
}

describe("makeServer", () => {
  it("binds before it resolves, with the real port in serverAddress", async () => {
    await using httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, {
      quiet: true,
    });
    const [host, port] = httpd.serverAddress;
    assert.equal(host, "127.0.0.1");
    assert.ok(port > 0);
    assert.equal(httpd.serverPort, port);
    assert.equal(httpd.getApp(), hello);
    assert.ok(httpd instanceof WSGIServer);
    assert.deepEqual(
      { name: httpd.baseEnviron.SERVER_NAME, port: httpd.baseEnviron.SERVER_PORT },
      { name: "127.0.0.1", port: String(port) },
    );
  });

  it("rejects with Node's error when the port is taken", async () => {
    await using first = await makeServer("127.0.0.1", 0, hello);
    await assert.rejects(makeServer("127.0.0.1", first.serverAddress[1], hello), {
      code: "EADDRINUSE",
    });
  });

  it("rejects arguments of the wrong kind with a TypeError naming them, binding nothing", async () => {
    const cases: Array<[unknown[], string]> = [
      [[5, 0, hello], "host must be a string: 5"],
      [["127.0.0.1", "0", hello], "port must be an integer from 0 to 65535: '0'"],
      [["127.0.0.1", -1, hello], "port must be an integer from 0 to 65535: -1"],
      [["127.0.0.1", 70000, hello], "port must be an integer from 0 to 65535: 70000"],
      [["127.0.0.1", 0, 5], "app must be a function: 5"],
      [["127.0.0.1", 0, hello, 5], "serverClass must be a WSGIServer class: 5"],
      [
        ["127.0.0.1", 0, hello, undefined, {}],
        "requestHandlerClass must be a WSGIRequestHandler class: {}",
      ],
    ];
    const make = makeServer as (...args: unknown[]) => Promise<WSGIServer>;
    for (const [args, message] of cases) {
      await assert.rejects(make(...args), { name: "TypeError", message });
    }
    const httpd = new WSGIServer(["127.0.0.1", 0]);
    assert.throws(() => httpd.setApp(null as unknown as typeof hello), {
      name: "TypeError",
      message: "application must be a function: null",
    });
    await httpd.serverClose();
  });

  it("uses the server and handler classes it is given", async () => {
    class MyServer extends WSGIServer {}
    class MyHandler extends WSGIRequestHandler {}
    await using httpd = await makeServer("127.0.0.1", 0, hello, MyServer, MyHandler);
    assert.ok(httpd instanceof MyServer);
    assert.equal(httpd.requestHandlerClass, MyHandler);
  });

  it("refuses unknown and out-of-range options", async () => {
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { nope: 1 } as object),
      TypeError,
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { maxHeaders: 0 }),
      /maxHeaders must be a positive integer: 0/,
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { maxBodySize: -1 }),
      /maxBodySize must be a non-negative integer/,
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { quiet: "yes" } as object),
      /quiet must be a boolean/,
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { http2: 1 } as object),
      { name: "TypeError", message: "http2 must be a boolean: 1" },
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { tls: "cert.pem" } as object),
      { name: "TypeError", message: "tls must be an object of secure-context options: 'cert.pem'" },
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, { maxConcurrentStreams: 0 }),
      /maxConcurrentStreams must be a positive integer: 0/,
    );
    await assert.rejects(
      makeServer("127.0.0.1", 0, hello, undefined, undefined, {
        headersTimeout: 2000,
        requestTimeout: 1000,
      }),
      RangeError,
    );
  });

  it("fills the defaults of ServerOptions", async () => {
    await using httpd = await makeServer("127.0.0.1", 0, hello);
    assert.deepEqual(httpd.options, {
      maxBodySize: 1024 ** 3,
      spoolThreshold: 1024 ** 2,
      maxHeaderSize: 65536,
      maxHeaders: 100,
      headersTimeout: 20000,
      requestTimeout: 300000,
      bodyTimeout: 30000,
      sendTimeout: 60000,
      keepAliveTimeout: 5000,
      quiet: false,
      workers: 1,
      tls: undefined,
      http2: false,
      maxConcurrentStreams: 100,
    });
  });
});

describe("WSGIServer", () => {
  it("serves until shutdown(), then resolves serveForever()", async () => {
    await using httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, {
      quiet: true,
    });
    const served = httpd.serveForever();
    const port = httpd.serverAddress[1];
    assert.equal((await get(port)).body, "Hello, world!");
    assert.equal((await get(port)).body, "Hello, world!");
    await httpd.shutdown();
    await served;
  });

  it("refuses a second serving loop and serving after serverClose()", async () => {
    const httpd = await makeServer("127.0.0.1", 0, hello);
    const served = httpd.serveForever();
    await assert.rejects(httpd.serveForever(), /serveForever\(\) was called while/);
    await assert.rejects(httpd.handleRequest(), /handleRequest\(\) was called while/);
    await httpd.serverClose();
    await served;
    await assert.rejects(httpd.serveForever(), /after serverClose\(\)/);
  });

  it("holds requests until a serving method runs, then serves them in order", async () => {
    const seen: string[] = [];
    const app: WSGIApplication = (environ, startResponse) => {
      seen.push(environ.PATH_INFO as string);
      return hello(environ, startResponse);
    };
    await using httpd = await makeServer("127.0.0.1", 0, app, undefined, undefined, {
      quiet: true,
    });
    const port = httpd.serverAddress[1];
    const socket = await open(port);
    const received = collect(socket);
    socket.write(request("GET", "/early"));
    // The server has parsed it (Node answers nothing yet): prove the order with a
    // second connection's request, which is parsed after it.
    const second = get(port, "/later");
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, []);
    await httpd.handleRequest();
    assert.deepEqual(seen, ["/early"]);
    await httpd.handleRequest();
    assert.deepEqual(seen, ["/early", "/later"]);
    assert.equal((await second).status, 200);
    socket.end();
    assert.equal(parseResponses(await received)[0]?.status, 200);
  });

  it("handleRequest() waits for a request, serves one and returns", async () => {
    await using httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, {
      quiet: true,
    });
    const one = httpd.handleRequest();
    const response = await get(httpd.serverAddress[1]);
    await one;
    assert.equal(response.body, "Hello, world!");
  });

  it("serverClose() lets the request in progress finish, with Connection: close", async () => {
    let release = (): void => {};
    let started = (): void => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const app: WSGIApplication = async (environ, startResponse) => {
      started();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return hello(environ, startResponse);
    };
    const { httpd, port, served } = await serve(app);
    const response = get(port);
    await running;
    const closing = httpd.serverClose();
    release();
    const { body, res } = await response;
    assert.equal(body, "Hello, world!");
    assert.equal(res.headers.connection, "close");
    await closing;
    await served;
    assert.equal(httpd.listener.listening, false);
  });

  it("serverClose() drops requests no one was serving; shutdown() without a loop returns", async () => {
    const httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, { quiet: true });
    await httpd.shutdown();
    const socket = await open(httpd.serverAddress[1]);
    const received = collect(socket);
    socket.write(request("GET", "/never-served"));
    await once(httpd.httpServer, "request");
    await httpd.serverClose();
    assert.equal((await received).length, 0);
  });

  it("serverClose() closes idle keep-alive connections", async () => {
    const { port, close } = await serve(hello);
    const socket = await open(port);
    const received = collect(socket);
    socket.write(request("GET", "/"));
    await once(socket, "data");
    await close();
    const [response] = parseResponses(await received);
    assert.equal(response?.status, 200);
  });

  it("marks wsgi.multiprocess only with several workers", async () => {
    let environ: PartialEnvironment = {};
    const app: WSGIApplication = (env, startResponse) => {
      environ = env;
      return hello(env, startResponse);
    };
    const single = await serve(app);
    after(() => single.close());
    await get(single.port);
    assert.equal(environ["wsgi.multiprocess"], false);
    assert.equal(environ["wsgi.multithread"], false);
    const several = await serve(app, { workers: 4 });
    after(() => several.close());
    await get(several.port);
    assert.equal(environ["wsgi.multiprocess"], true);
    assert.equal(several.httpd.wsgiMultiprocess, true);
  });

  it("switches applications with setApp()", async () => {
    const { httpd, port, close } = await serve(hello);
    after(close);
    httpd.setApp((_e, startResponse) => {
      startResponse("202 Accepted", [["Content-Length", "0"]]);
      return [];
    });
    assert.equal((await get(port)).status, 202);
  });
});

describe("demoApp", () => {
  it("says hello, then lists the environ sorted, one key = value per line", async () => {
    const { port, close } = await serve(demoApp);
    after(close);
    const { body, res } = await get(port, "/xyz?abc", { "X-Demo": "1" });
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    const lines = body.split("\n");
    assert.deepEqual(lines.slice(0, 2), ["Hello world!", ""]);
    const keys = lines.slice(2, -1).map((line) => line.split(" = ")[0] as string);
    assert.deepEqual(keys, [...keys].sort());
    assert.ok(lines.includes("PATH_INFO = '/xyz'"));
    assert.ok(lines.includes("QUERY_STRING = 'abc'"));
    assert.ok(lines.includes("HTTP_X_DEMO = '1'"));
    assert.ok(lines.includes(`SERVER_SOFTWARE = '${serverVersion}'`));
  });
});

describe("WSGIRequestHandler", () => {
  it("lets a subclass change getEnviron()", async () => {
    class Tagged extends WSGIRequestHandler {
      override getEnviron(): PartialEnvironment {
        const env = super.getEnviron();
        env["myapp.tag"] = "tagged";
        env.SCRIPT_NAME = "/mount";
        return env;
      }
    }
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from(`${environ["myapp.tag"]} ${environ.SCRIPT_NAME}${environ.PATH_INFO}`)];
    };
    const { port, close } = await serve(app, {}, Tagged);
    after(close);
    assert.equal((await get(port, "/x")).body, "tagged /mount/x");
  });

  it("gives the application the environ getEnviron() built, in Python's key order", async () => {
    let seen: PartialEnvironment = {};
    const app: WSGIApplication = (environ, startResponse) => {
      seen = environ;
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    };
    const { port, close } = await serve(app);
    after(close);
    assert.equal((await get(port, "/p?q", { "X-One": "1" })).status, 200);
    const keys = Object.keys(seen);
    assert.deepEqual(keys.slice(0, 15), [
      "SERVER_NAME",
      "GATEWAY_INTERFACE",
      "SERVER_PORT",
      "REMOTE_HOST",
      "CONTENT_LENGTH",
      "SCRIPT_NAME",
      "wsgi.input_terminated",
      "SERVER_PROTOCOL",
      "REQUEST_METHOD",
      "PATH_INFO",
      "QUERY_STRING",
      "REQUEST_URI",
      "REMOTE_ADDR",
      "REMOTE_PORT",
      "CONTENT_TYPE",
    ]);
    // Headers, then SERVER_SOFTWARE (getEnviron), then what the handler adds.
    const software = keys.indexOf("SERVER_SOFTWARE");
    assert.deepEqual(keys.slice(15, software).sort(), [
      "HTTP_CONNECTION",
      "HTTP_HOST",
      "HTTP_X_ONE",
    ]);
    assert.ok(keys.indexOf("SERVER_SOFTWARE") < keys.indexOf("wsgi.input"));
    assert.equal(keys.at(-1), "wsgiref.connection");
  });

  it("copies the environ of a getEnviron() that hands out an object it keeps", async () => {
    const kept: PartialEnvironment = {};
    class Keeping extends WSGIRequestHandler {
      override getEnviron(): PartialEnvironment {
        Object.assign(kept, super.getEnviron());
        return kept;
      }
    }
    const seen: WSGIEnvironment[] = [];
    const app: WSGIApplication = (environ, startResponse) => {
      seen.push(environ);
      environ["myapp.mark"] = seen.length;
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    };
    const { port, close } = await serve(app, {}, Keeping);
    after(close);
    assert.equal((await get(port, "/a")).status, 200);
    assert.equal((await get(port, "/b")).status, 200);
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0], kept);
    assert.notEqual(seen[1], kept);
    // Python's handler copies: what the handler and the application add stays out of it.
    assert.equal("wsgi.input" in kept, false);
    assert.equal("myapp.mark" in kept, false);
    assert.equal(kept.PATH_INFO, "/b");
  });

  it("lets a subclass capture getStderr() and logMessage()", async () => {
    const errors = new StringErrors();
    const logged: string[] = [];
    class Capturing extends WSGIRequestHandler {
      override getStderr(): ErrorStream {
        return errors;
      }
      override logMessage(format: string, ...args: unknown[]): void {
        logged.push(
          `${this.addressString()} - - [${this.logDateTimeString()}] ${format} ${args.join("|")}`,
        );
      }
    }
    const app: WSGIApplication = (environ, startResponse) => {
      (environ["wsgi.errors"] as ErrorStream).write("from the app\n");
      return hello(environ, startResponse);
    };
    const { port, close } = await serve(app, { quiet: false }, Capturing);
    after(close);
    await get(port, "/logged?q=1");
    assert.equal(errors.getValue(), "from the app\n");
    assert.equal(logged.length, 1);
    assert.match(
      logged[0] as string,
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4} \d\d:\d\d:\d\d\] "%s" %s %s GET \/logged\?q=1 HTTP\/1\.1\|200\|13$/,
    );
  });

  it("writes Python's access log line to process.stderr", async () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const { port, close } = await serve(hello, { quiet: false });
      await get(port, "/a%1Bb");
      await close();
    } finally {
      process.stderr.write = write;
    }
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] as string,
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4} \d\d:\d\d:\d\d\] "GET \/a%1Bb HTTP\/1\.1" 200 13\n$/,
    );
  });

  it("escapes control characters and backslashes in log messages", () => {
    const lines: string[] = [];
    class Capturing extends WSGIRequestHandler {
      override logDateTimeString(): string {
        return "23/Nov/2026 18:30:00";
      }
    }
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const fake = {
        socket: { remoteAddress: "10.0.0.1", remotePort: 5 },
        method: "GET",
        url: "/",
        httpVersion: "1.1",
      } as unknown as IncomingMessage;
      const handler = new Capturing(fake, {} as never, {} as never);
      handler.logMessage("%s", "a\x1b[31mb\\c\x85");
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(lines, ["10.0.0.1 - - [23/Nov/2026 18:30:00] a\\x1b[31mb\\\\c\\x85\n"]);
  });

  it("logs nothing when quiet", async () => {
    const logged: string[] = [];
    class Capturing extends WSGIRequestHandler {
      override logMessage(format: string): void {
        logged.push(format);
      }
    }
    const { port, close } = await serve(hello, { quiet: true }, Capturing);
    after(close);
    await get(port);
    assert.deepEqual(logged, []);
  });

  it("logs refused requests with their status and no size", async () => {
    const logged: string[] = [];
    class Capturing extends WSGIRequestHandler {
      override logMessage(format: string, ...args: unknown[]): void {
        logged.push([format, ...args].join("|"));
      }
    }
    const { port, close } = await serve(hello, { quiet: false }, Capturing);
    after(close);
    await exchange(port, "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    assert.deepEqual(logged, ['"%s" %s %s|GET /x HTTP/1.1|400|-']);
  });
});
