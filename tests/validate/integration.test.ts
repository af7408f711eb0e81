/**
 * `validator()` between a real gateway and real applications, run twice: over
 * `SimpleHandler` on in-memory streams, and over `WSGIServer` on 127.0.0.1
 * port 0 (STYLE.md §8). Ports test_wsgiref's IntegrationTests that use the
 * validator (test_validated_hello, test_simple_validation_error,
 * test_status_validation_errors, test_wsgi_input, test_bytes_validation,
 * test_cp1252_url): a violation reaches `wsgi.errors` and the client gets the
 * 500. Also: demoApp and the CGI example validated without complaint, async
 * applications, and a violation after the headers went out.
 */
import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { app as cgiExampleApp } from "../../examples/cgi/app.js";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import {
  demoApp,
  makeServer,
  WSGIRequestHandler,
  type WSGIServer,
} from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type {
  ErrorStream,
  PartialEnvironment,
  WSGIApplication,
  WSGIBody,
} from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";
import { validator } from "../../src/validate.js";

const ERROR_BODY = "A server error occurred.  Please contact the administrator.";
const DATE = "Mon, 05 Jun 2006 18:49:54 GMT";

/** What a client got, and what the application's `wsgi.errors` received. */
interface Reply {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** The raw bytes (SimpleHandler) or `undefined` (the server adds its own headers). */
  raw: string | undefined;
  /** Whether the body arrived whole, as its framing says (always true in memory). */
  complete: boolean;
  errors: string;
}

/** A request: a path (bytes as latin-1, percent-escapes left as they are), a method. */
interface Request {
  path?: string;
  method?: string;
  body?: string;
}

/** A gateway that serves one request to an application and reports the reply. */
interface Transport {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  serve(app: WSGIApplication, request?: Request): Promise<Reply>;
}

/** SimpleHandler over in-memory streams, with the environ a server would build. */
const inMemory: Transport = {
  name: "SimpleHandler (in memory)",
  async start() {},
  async stop() {},
  async serve(app, { path = "/", method = "GET", body = "" } = {}) {
    const [pathPart = "", query = ""] = path.split("?");
    const environ: PartialEnvironment = {
      REQUEST_METHOD: method,
      PATH_INFO: decodeURIComponentLatin1(pathPart),
      QUERY_STRING: query,
    };
    if (body !== "") {
      environ.CONTENT_LENGTH = String(body.length);
    }
    setupTestingDefaults(environ);
    const chunks: Uint8Array[] = [];
    const errors = new StringErrors();
    const handler = new SimpleHandler(
      new BytesInput(Buffer.from(body, "latin1")),
      { write: (data: Uint8Array) => void chunks.push(Buffer.from(data)) },
      errors,
      environ,
    );
    await handler.run(app);
    const raw = Buffer.concat(chunks).toString("latin1");
    const end = raw.indexOf("\r\n\r\n");
    const lines = raw.slice(0, end).split("\r\n");
    return {
      status: Number(lines[0]?.split(" ")[1]),
      headers: lines.slice(1).map((line): [string, string] => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon), line.slice(colon + 1).trim()];
      }),
      body: Buffer.from(raw.slice(end + 4), "latin1"),
      raw,
      complete: true,
      errors: errors.getValue(),
    };
  },
};

/** Percent-decode a path to bytes, then read them as latin-1 (PEP 3333's PATH_INFO). */
function decodeURIComponentLatin1(path: string): string {
  const bytes = Buffer.from(path, "latin1");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length) {
      out.push(Number.parseInt(bytes.subarray(i + 1, i + 3).toString("latin1"), 16));
      i += 2;
    } else {
      out.push(bytes[i]!);
    }
  }
  return Buffer.from(out).toString("latin1");
}

// The error stream of the request being served: one per test, as Python's
// run_amock gives each request a fresh StringIO.
let currentErrors = new StringErrors();

/** Python's WSGIRequestHandler with its stderr captured. */
class CapturingHandler extends WSGIRequestHandler {
  override getStderr(): ErrorStream {
    return currentErrors;
  }
}

let httpd: WSGIServer | undefined;
let serving: Promise<void> | undefined;

/** WSGIServer on 127.0.0.1 port 0; each request a raw HTTP/1.1 exchange. */
const overServer: Transport = {
  name: "WSGIServer (127.0.0.1)",
  async start() {
    httpd = await makeServer("127.0.0.1", 0, demoApp, undefined, CapturingHandler, {
      quiet: true,
    });
    serving = httpd.serveForever();
  },
  async stop() {
    await httpd?.serverClose();
    await serving;
  },
  async serve(app, { path = "/", method = "GET", body = "" } = {}) {
    const server = httpd as WSGIServer;
    server.setApp(app);
    currentErrors = new StringErrors();
    const reply = await fetchOnce(server.serverAddress[1], method, path, body);
    return { ...reply, raw: undefined, errors: currentErrors.getValue() };
  },
};

/** One request on a fresh connection; `complete` is false when the body was cut short. */
function fetchOnce(
  port: number,
  method: string,
  path: string,
  body: string,
): Promise<Omit<Reply, "raw" | "errors">> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (): void => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        }
        resolve({
          status: res.statusCode ?? 0,
          headers,
          body: Buffer.concat(chunks),
          complete: res.complete,
        });
      };
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", done);
      // A response cut short (the server's way to say "incomplete") ends here.
      res.on("error", done);
    });
    req.on("error", reject);
    req.end(body === "" ? undefined : Buffer.from(body, "latin1"));
  });
}

function header(reply: Reply, name: string): string | undefined {
  return reply.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** The last line Python's traceback shows, as `err.splitlines()[-2]` does in test_wsgiref. */
function assertionLine(errors: string): string | undefined {
  return errors.split("\n").find((line) => line.startsWith("AssertionError"));
}

// test_wsgiref's hello_app.
const helloApp: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["Date", DATE],
  ]);
  return [Buffer.from("Hello, world!")];
};

for (const transport of [inMemory, overServer]) {
  describe(`validator over ${transport.name}`, () => {
    before(() => transport.start());
    after(() => transport.stop());

    it("serves a validated hello world, without Content-Length (test_validated_hello)", async (t) => {
      const emit = t.mock.method(process, "emitWarning", () => {});
      const reply = await transport.serve(validator(helloApp));
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), "Hello, world!");
      assert.equal(reply.errors, "");
      assert.equal(emit.mock.callCount(), 0);
      // The wrapper has no length, so the gateway cannot compute a Content-Length.
      assert.equal(header(reply, "Content-Length"), undefined);
      if (reply.raw !== undefined) {
        assert.equal(
          reply.raw,
          `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nDate: ${DATE}\r\n\r\nHello, world!`,
        );
      }
      const plain = await transport.serve(helloApp);
      assert.equal(header(plain, "Content-Length"), "13");
    });

    it("answers 500 and logs the AssertionError for a tuple-like header list (test_simple_validation_error)", async () => {
      const badApp: WSGIApplication = (_environ, startResponse) => {
        (startResponse as (...a: unknown[]) => unknown)("200 OK", ["Content-Type", "text/plain"]);
        return ["Hello, world!"] as unknown as WSGIBody;
      };
      const reply = await transport.serve(validator(badApp));
      assert.equal(reply.status, 500);
      assert.equal(reply.body.toString(), ERROR_BODY);
      assert.equal(
        assertionLine(reply.errors),
        "AssertionError [ERR_ASSERTION]: Individual headers ('Content-Type') must be of type tuple: string",
      );
    });

    for (const [status, message] of [
      ["20X OK", "Status message must begin w/3-digit code: '20X'"],
      ["200OK", "Status codes must be three characters: '200OK'"],
    ] as const) {
      it(`answers 500 for the status ${JSON.stringify(status)} (test_status_validation_errors)`, async () => {
        const reply = await transport.serve(
          validator((_environ, startResponse) => {
            startResponse(status, [["Content-Type", "text/plain; charset=utf-8"]]);
            return [Buffer.from("Hello, world!")];
          }),
        );
        assert.equal(reply.status, 500);
        assert.equal(reply.body.toString(), ERROR_BODY);
        assert.equal(assertionLine(reply.errors), `AssertionError [ERR_ASSERTION]: ${message}`);
      });
    }

    it("warns about the status '200', then the handler refuses it (test_status_validation_errors)", async (t) => {
      const emit = t.mock.method(process, "emitWarning", () => {});
      const reply = await transport.serve(
        validator((_environ, startResponse) => {
          startResponse("200", [["Content-Type", "text/plain; charset=utf-8"]]);
          return [Buffer.from("Hello, world!")];
        }),
      );
      assert.equal(reply.status, 500);
      assert.equal(
        assertionLine(reply.errors),
        "AssertionError [ERR_ASSERTION]: Status must be at least 4 characters",
      );
      assert.deepEqual(emit.mock.calls[0]?.arguments, [
        "The status string ('200') should be a three-digit integer followed by a single space and a status explanation",
        "WSGIWarning",
      ]);
    });

    it("answers 500 when the app calls read() without a size (test_wsgi_input)", async () => {
      const badApp: WSGIApplication = (environ, startResponse) => {
        environ["wsgi.input"]?.read();
        startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
        return [Buffer.from("data")];
      };
      const reply = await transport.serve(validator(badApp));
      assert.equal(reply.status, 500);
      assert.equal(reply.body.toString(), ERROR_BODY);
      assert.equal(
        assertionLine(reply.errors),
        "AssertionError [ERR_ASSERTION]: wsgi.input.read() must be called with exactly one argument (got 0); pass a size, or use validator(app, { readRequiresSize: false })",
      );
      const relaxed = await transport.serve(validator(badApp, { readRequiresSize: false }));
      assert.equal(relaxed.status, 200);
    });

    it("passes bytes through unchanged (test_bytes_validation)", async () => {
      const app: WSGIApplication = (_environ, startResponse) => {
        startResponse("200 OK", [
          ["Content-Type", "text/plain; charset=utf-8"],
          ["Date", "Wed, 24 Dec 2008 13:29:32 GMT"],
        ]);
        return [Buffer.from("data")];
      };
      const reply = await transport.serve(validator(app));
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), "data");
      assert.equal(header(reply, "Date"), "Wed, 24 Dec 2008 13:29:32 GMT");
      if (reply.raw !== undefined) {
        assert.equal(
          reply.raw,
          "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Wed, 24 Dec 2008 13:29:32 GMT\r\n\r\ndata",
        );
      }
    });

    it("accepts a PATH_INFO of raw bytes as latin-1 (test_cp1252_url)", async () => {
      const app: WSGIApplication = (environ, startResponse) => {
        startResponse("200 OK", [
          ["Content-Type", "text/plain"],
          ["Date", "Wed, 24 Dec 2008 13:29:32 GMT"],
        ]);
        // PEP 3333 says environ variables are decoded as latin1: encode back to the bytes.
        return [Buffer.from(environ.PATH_INFO ?? "", "latin1")];
      };
      // Python sends "/\x80%80"; llhttp refuses a raw byte above 0x7F in the target
      // (400), so both bytes come percent-encoded here.
      const reply = await transport.serve(validator(app), { path: "/%80%80" });
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, Buffer.from([0x2f, 0x80, 0x80]));
    });

    it("wraps demoApp without complaint", async (t) => {
      const emit = t.mock.method(process, "emitWarning", () => {});
      const reply = await transport.serve(validator(demoApp), { path: "/demo?x=1" });
      assert.equal(reply.status, 200);
      assert.match(reply.body.toString(), /^Hello world!\n\n/);
      assert.match(reply.body.toString(), /^QUERY_STRING = 'x=1'$/m);
      assert.equal(reply.errors, "");
      assert.equal(emit.mock.callCount(), 0);
    });

    it("wraps the CGI example without complaint once read() may go without a size", async (t) => {
      const emit = t.mock.method(process, "emitWarning", () => {});
      const request = { method: "POST", path: "/cgi", body: "abc" };
      const reply = await transport.serve(
        validator(cgiExampleApp, { readRequiresSize: false }),
        request,
      );
      assert.equal(reply.status, 200);
      assert.match(reply.body.toString(), /^body bytes: {3}3$/m);
      assert.equal(reply.errors, "");
      assert.equal(emit.mock.callCount(), 0);
      // It reads with read(), which Python's validator refuses: so does the default.
      const strict = await transport.serve(validator(cgiExampleApp), request);
      assert.equal(strict.status, 500);
    });

    it("serves an async app with an async generator body, checking chunks as they stream", async () => {
      const app: WSGIApplication = async (_environ, startResponse) => {
        await Promise.resolve();
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return (async function* () {
          yield Buffer.from("one ");
          await new Promise((resolve) => setImmediate(resolve));
          yield Buffer.from("two");
        })();
      };
      const reply = await transport.serve(validator(app));
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), "one two");
      assert.equal(reply.errors, "");
    });

    it("logs a bad chunk met after the headers went out, and cuts the response short", async () => {
      const app: WSGIApplication = (_environ, startResponse) => {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return (function* () {
          yield Buffer.from("partial ");
          yield "text" as unknown as Uint8Array;
        })();
      };
      const reply = await transport.serve(validator(app));
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), "partial ");
      assert.equal(
        assertionLine(reply.errors),
        "AssertionError [ERR_ASSERTION]: Iterator yielded non-bytestring ('text')",
      );
      if (reply.raw === undefined) {
        assert.equal(reply.complete, false, "the client can tell the response is incomplete");
      }
    });

    it("sees the gateway close the body exactly once, on success and on error", async () => {
      const closes: string[] = [];
      const app =
        (fail: boolean): WSGIApplication =>
        (_environ, startResponse) => {
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          return Object.assign(
            (function* () {
              if (fail) throw new RangeError("app failed");
              yield Buffer.from("ok");
            })(),
            { close: () => void closes.push(fail ? "error" : "success") },
          );
        };
      const ok = await transport.serve(validator(app(false)));
      const failed = await transport.serve(validator(app(true)));
      assert.equal(ok.status, 200);
      assert.equal(failed.status, 500);
      assert.deepEqual(closes, ["success", "error"]);
      assert.doesNotMatch(ok.errors + failed.errors, /closed twice|AssertionError/);
    });

    it("raises what the handler logs as an AssertionError from node:assert", async () => {
      let caught: unknown;
      const app = validator((_environ, startResponse) => {
        try {
          startResponse("200 OK", []);
        } catch (err) {
          caught = err;
          throw err;
        }
        return [];
      });
      const reply = await transport.serve(app);
      assert.equal(reply.status, 500);
      assert.ok(caught instanceof AssertionError);
      assert.equal(caught.message, "No Content-Type header found in headers ([])");
    });
  });
}
