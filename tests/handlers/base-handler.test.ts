/**
 * BaseHandler beyond CPython's HandlerTests: startResponse's checks, the write
 * queue with asynchronous output, close() exactly once on every path,
 * Content-Length, error logging and the error page, the overridable hooks, and
 * formatDateTime against Python's format_date_time.
 */

import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { BaseHandler, formatDateTime } from "../../src/handlers/base-handler.js";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import { Headers } from "../../src/headers.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type {
  PartialEnvironment,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../../src/types.js";
import { FileWrapper } from "../../src/util.js";
import { ValueError } from "../helpers/handlers-apps.js";
import {
  AbortingWriter,
  BytesSink,
  codedError,
  ErrorHandler,
  loadFixture,
} from "../helpers/handlers-harness.js";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

/** A sink whose every write completes later (on setImmediate), in order. */
class SlowSink extends BytesSink {
  override write(data: Uint8Array): Promise<void> {
    const copy = Uint8Array.from(data);
    return new Promise((resolve) => {
      setImmediate(() => {
        this.chunks.push(copy);
        resolve();
      });
    });
  }
}

/** A sink that accepts `good` writes, then fails every later one with `error`. */
class FailingSink extends BytesSink {
  #left: number;
  readonly error: unknown;
  readonly async: boolean;
  constructor(good: number, error: unknown, async = false) {
    super();
    this.#left = good;
    this.error = error;
    this.async = async;
  }
  override write(data: Uint8Array): void | Promise<void> {
    if (this.#left <= 0) {
      if (this.async) {
        return Promise.reject(this.error);
      }
      throw this.error;
    }
    this.#left -= 1;
    super.write(data);
    return this.async ? Promise.resolve() : undefined;
  }
}

/** Count close() calls on a body. */
function closing<T extends object>(body: T): { body: T & { close(): void }; closes: () => number } {
  let count = 0;
  const closable = Object.assign(body, {
    close() {
      count += 1;
    },
  });
  return { body: closable, closes: () => count };
}

const OK_CGI = "Status: 200 OK\r\n";
const ERROR_PAGE =
  "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 59\r\n\r\n" +
  "A server error occurred.  Please contact the administrator.";

describe("BaseHandler", () => {
  describe("run()", () => {
    it("rejects with a TypeError naming the argument when the application is not a function", async () => {
      const handler = new ErrorHandler();
      await assert.rejects(handler.run(42 as unknown as WSGIApplication), {
        name: "TypeError",
        message: "application must be a function: 42",
      });
      assert.equal(handler.stdout.text(), "");
    });

    it("lets addCgiVars() put an environ of its own in place", async () => {
      const own: PartialEnvironment = { REQUEST_METHOD: "GET", MINE: "yes" };
      const handler = new ErrorHandler();
      handler.addCgiVars = () => {
        handler.environ = own;
      };
      let seen: WSGIEnvironment | undefined;
      await handler.run((environ, s) => {
        seen = environ;
        s("200 OK", []);
        return [];
      });
      assert.equal(seen, own);
      assert.equal(own["wsgi.url_scheme"], "http");
      assert.equal(own.MINE, "yes");
    });

    it("runs an async application", async () => {
      const handler = new ErrorHandler();
      await handler.run(async (_e, s) => {
        await Promise.resolve();
        s("200 OK", []);
        return [bytes("async")];
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 5\r\n\r\nasync`);
    });

    it("answers 500 when an async application rejects", async () => {
      const handler = new ErrorHandler();
      await handler.run(async () => {
        await Promise.resolve();
        throw new ValueError("late failure");
      });
      assert.equal(handler.stdout.text(), ERROR_PAGE);
      assert.match(handler.stderr.getValue(), /ValueError: late failure/);
    });

    it("sends an async iterable body, chunk by chunk", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return (async function* () {
          yield bytes("one ");
          await new Promise(setImmediate);
          yield bytes("two");
        })();
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}\r\none two`);
    });

    for (const [what, body] of [
      ["a number", 42],
      ["a string", "text"],
      ["a bare Uint8Array", bytes("text")],
      ["undefined", undefined],
      ["an object that is not iterable", { close() {} }],
    ] as const) {
      it(`answers 500 and logs a TypeError when the body is ${what}`, async () => {
        const handler = new ErrorHandler();
        await handler.run((_e, s) => {
          s("200 OK", []);
          return body as unknown as WSGIBody;
        });
        assert.equal(handler.stdout.text(), ERROR_PAGE);
        assert.match(
          handler.stderr.getValue(),
          /TypeError: the application must return an iterable of Uint8Array chunks, such as \[body\]/,
        );
      });
    }

    it("resets its state after a response", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return [bytes("x")];
      });
      assert.equal(handler.status, undefined);
      assert.equal(handler.headers, undefined);
      assert.equal(handler.result, undefined);
      assert.equal(handler.environ, undefined);
      assert.equal(handler.headersSent, false);
      assert.equal(handler.bytesSent, 0);
    });

    it("can run again and closes the same body object each time", async () => {
      const { body, closes } = closing([bytes("x")]);
      const handler = new ErrorHandler();
      const app: WSGIApplication = (_e, s) => {
        s("200 OK", []);
        return body;
      };
      await handler.run(app);
      await handler.run(app);
      assert.equal(closes(), 2);
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 1\r\n\r\nx`.repeat(2));
    });
  });

  describe("startResponse()", () => {
    function started(): ErrorHandler {
      const handler = new ErrorHandler();
      handler.setupEnviron();
      return handler;
    }

    it("refuses a second call without excInfo", () => {
      const handler = started();
      handler.startResponse("200 OK", []);
      assert.throws(() => handler.startResponse("200 OK", []), {
        name: "AssertionError",
        message: "Headers already set!",
      });
    });

    it("replaces status and headers when given excInfo before output", () => {
      const handler = started();
      handler.startResponse("200 OK", [["A", "1"]]);
      handler.startResponse("500 Oops", [["B", "2"]], new Error("x"));
      assert.equal(handler.status, "500 Oops");
      assert.deepEqual(handler.headers?.items(), [["B", "2"]]);
    });

    it("throws excInfo itself once headers are sent", () => {
      const handler = started();
      handler.startResponse("200 OK", [])(bytes("x"));
      const original = new ValueError("original");
      assert.throws(
        () => handler.startResponse("500 Oops", [], original),
        (err) => err === original,
      );
    });

    it("returns a write callable", () => {
      const handler = started();
      const write = handler.startResponse("200 OK", []);
      write(bytes("abc"));
      assert.equal(handler.stdout.text(), `${OK_CGI}\r\nabc`);
    });

    for (const [status, message] of [
      ["200", "Status must be at least 4 characters"],
      ["", "Status must be at least 4 characters"],
      ["2x0 OK", "Status message must begin w/3-digit code"],
      ["\u00b2\u00b3\u00b9 OK", "Status message must begin w/3-digit code"],
      ["200-OK", "Status message must have a space after code"],
      [
        "200 OK\r\nSet-Cookie: a=b",
        "Status must not contain control characters (got '200 OK\\r\\nSet-Cookie: a=b')",
      ],
      ["200 OK\n", "Status must not contain control characters (got '200 OK\\n')"],
      ["200 OK\x00", "Status must not contain control characters (got '200 OK\\x00')"],
      ["200 OK\x7f", "Status must not contain control characters (got '200 OK\\x7F')"],
    ] as const) {
      it(`refuses the status ${JSON.stringify(status)}: ${message}`, () => {
        assert.throws(() => started().startResponse(status, []), {
          name: "AssertionError",
          message,
        });
      });
    }

    // RFC 9110 §15: 1xx is interim (the client would take the next response for
    // this one's), and nothing outside 100-599 is an HTTP status.
    for (const status of ["100 Continue", "101 Switching Protocols", "199 X", "000 X", "099 X"]) {
      it(`refuses the status ${JSON.stringify(status)}, which is no final response`, () => {
        assert.throws(() => started().startResponse(status, []), {
          name: "AssertionError",
          message: `Status must be a final response, 200 to 599 (got '${status}')`,
        });
      });
    }
    for (const status of ["600 X", "999 X"]) {
      it(`refuses the status ${JSON.stringify(status)}, above 599`, () => {
        assert.throws(() => started().startResponse(status, []), {
          name: "AssertionError",
          message: `Status must be a final response, 200 to 599 (got '${status}')`,
        });
      });
    }

    it("accepts 200 and 599, the ends of the final range", () => {
      for (const status of ["200 OK", "599 Network Connect Timeout Error"]) {
        const handler = started();
        handler.startResponse(status, []);
        assert.equal(handler.status, status);
      }
    });

    it("answers 500 for an application's 1xx, on an origin server and behind CGI alike", async () => {
      const cgi = new ErrorHandler();
      await cgi.run((_e, s) => {
        s("100 Continue", [["Content-Type", "text/plain"]]);
        return [bytes("x")];
      });
      assert.equal(cgi.stdout.text(), ERROR_PAGE);
      assert.match(cgi.stderr.getValue(), /Status must be a final response, 200 to 599/);
      const origin = new ErrorHandler();
      origin.originServer = true;
      await origin.run((_e, s) => {
        s("103 Early Hints", [["Link", "</a>; rel=preload"]]);
        return [bytes("x")];
      });
      assert.match(origin.stdout.text(), /^HTTP\/1\.0 500 Internal Server Error\r\n/);
      assert.doesNotMatch(origin.stdout.text(), /103|Link/);
    });

    it("refuses a Content-Length that is not a decimal number", () => {
      for (const value of ["5x", "", " 5", "-1", "0x10", "5, 5", "٥"]) {
        assert.throws(() => started().startResponse("200 OK", [["Content-Length", value]]), {
          name: "AssertionError",
          message: `Content-Length must be a decimal number of bytes (got ${inspect(value)})`,
        });
      }
    });

    it("refuses two different Content-Lengths and keeps one of two equal ones", () => {
      assert.throws(
        () =>
          started().startResponse("200 OK", [
            ["Content-Length", "5"],
            ["content-length", "6"],
          ]),
        {
          name: "AssertionError",
          message: "Content-Length must not be given twice with different values (got '5' and '6')",
        },
      );
      const handler = started();
      const list: Array<[string, string]> = [
        ["Content-Length", "5"],
        ["X-A", "1"],
        ["CONTENT-LENGTH", "5"],
      ];
      handler.startResponse("200 OK", list);
      assert.deepEqual(handler.headers?.getAll("content-length"), ["5"]);
      assert.equal(handler.headers?.get("X-A"), "1");
    });

    it("answers 500 for a hop-by-hop header or a second Content-Length added after it", async () => {
      for (const [added, message] of [
        [["Transfer-Encoding", "chunked"], "Hop-by-hop header, 'Transfer-Encoding: chunked'"],
        [["Connection", "close"], "Hop-by-hop header, 'Connection: close'"],
        [["Content-Length", "40"], "Content-Length must not be given twice with different values"],
      ] as const) {
        const handler = new ErrorHandler();
        await handler.run((_e, s) => {
          const list: Array<[string, string]> = [["Content-Length", "4"]];
          s("200 OK", list);
          list.push([added[0], added[1]]);
          return [bytes("four")];
        });
        assert.equal(handler.stdout.text(), ERROR_PAGE);
        assert.ok(handler.stderr.getValue().includes(message), handler.stderr.getValue());
      }
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        const list: Array<[string, string]> = [["Content-Length", "4"]];
        s("200 OK", list);
        list.push(["content-length", "4"]);
        return [bytes("four")];
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 4\r\n\r\nfour`);
    });

    it("answers 500 for two different Content-Lengths instead of sending both", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", [
          ["Content-Length", "4"],
          ["Content-Length", "40"],
        ]);
        return [bytes("four")];
      });
      assert.equal(handler.stdout.text(), ERROR_PAGE);
    });

    it("refuses a status that is not a string", () => {
      assert.throws(() => started().startResponse(200 as unknown as string, []), {
        name: "AssertionError",
        message: "Status must be of type str (got 200)",
      });
    });

    it("accepts a tab in the reason phrase", () => {
      const handler = started();
      handler.startResponse("200 All\tgood", []);
      assert.equal(handler.status, "200 All\tgood");
    });

    it("stores status and headers before checking the status, as Python does", () => {
      const handler = started();
      assert.throws(() => handler.startResponse("20", [["A", "1"]]));
      assert.equal(handler.status, "20");
      assert.deepEqual(handler.headers?.items(), [["A", "1"]]);
    });

    for (const name of ["Connection", "keep-alive", "TE", "Transfer-Encoding", "upgrade"]) {
      it(`refuses the hop-by-hop header ${name}`, () => {
        assert.throws(() => started().startResponse("200 OK", [[name, "x"]]), {
          name: "AssertionError",
          message: `Hop-by-hop header, '${name}: x', not allowed`,
        });
      });
    }

    it("refuses control characters in headers with the Headers TypeError", () => {
      assert.throws(() => started().startResponse("200 OK", [["X-A", "1\r\nSet-Cookie: a=b"]]), {
        name: "TypeError",
      });
    });

    it("answers 500 for a response-splitting status instead of writing it", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK\r\nSet-Cookie: evil=1", []);
        return [bytes("x")];
      });
      assert.equal(handler.stdout.text(), ERROR_PAGE);
    });

    it("uses headersClass to wrap the headers", () => {
      class LoudHeaders extends Headers {}
      const handler = started();
      handler.headersClass = LoudHeaders;
      handler.startResponse("200 OK", []);
      assert.ok(handler.headers instanceof LoudHeaders);
    });
  });

  describe("write()", () => {
    it("refuses a string chunk with Python's message", async () => {
      const handler = new ErrorHandler();
      let thrown: unknown;
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        try {
          write("text" as unknown as Uint8Array);
        } catch (err) {
          thrown = err;
        }
        return [];
      });
      assert.ok(thrown instanceof AssertionError);
      assert.equal(thrown.message, "write() argument must be a bytes instance");
    });

    it("refuses a write before startResponse", () => {
      const handler = new ErrorHandler();
      handler.setupEnviron();
      assert.throws(() => handler.write(bytes("x")), {
        name: "AssertionError",
        message: "write() before start_response()",
      });
    });

    it("counts bytesSent", () => {
      const handler = new ErrorHandler();
      handler.setupEnviron();
      const write = handler.startResponse("200 OK", []);
      write(bytes("abc"));
      write(bytes("de"));
      assert.equal(handler.bytesSent, 5);
      assert.equal(handler.headersSent, true);
    });

    it("flushes after every chunk", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return [bytes("a"), bytes("b")];
      });
      assert.equal(handler.stdout.flushes, 2);
    });

    it("accepts any Uint8Array, not only Buffer", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return [new Uint8Array([104, 105])];
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 2\r\n\r\nhi`);
    });
  });

  describe("with asynchronous output", () => {
    it("keeps write() calls and iterated chunks in order", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        write(bytes("1"));
        write(bytes("2"));
        return (function* () {
          write(bytes("3"));
          yield bytes("4");
          write(bytes("5"));
          yield bytes("6");
        })();
      });
      assert.equal(sink.text(), `${OK_CGI}\r\n123456`);
    });

    it("keeps writes from inside an async generator in order", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        return (async function* () {
          write(bytes("a"));
          write(bytes("b"));
          yield bytes("c");
          await new Promise(setImmediate);
          write(bytes("d"));
          yield bytes("e");
        })();
      });
      assert.equal(sink.text(), `${OK_CGI}\r\nabcde`);
    });

    it("sends a one-chunk body with its Content-Length", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        s("200 OK", []);
        return [bytes("slow")];
      });
      assert.equal(sink.text(), `${OK_CGI}Content-Length: 4\r\n\r\nslow`);
    });

    it("sends an empty body's headers", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        s("204 No Content", []);
        return [];
      });
      assert.equal(sink.text(), "Status: 204 No Content\r\nContent-Length: 0\r\n\r\n");
    });

    it("sends what the app wrote before it failed, then logs the error", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        write(bytes("before "));
        write(bytes("failure"));
        throw new ValueError("after output");
      });
      assert.equal(sink.text(), `${OK_CGI}\r\nbefore failure`);
      assert.match(handler.stderr.getValue(), /ValueError: after output/);
    });

    it("reports the first failure when queued output failed before the app did", async () => {
      const sink = new FailingSink(1, new ValueError("disk full"), true);
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        write(bytes("a"));
        write(bytes("b"));
        throw new Error("app failure");
      });
      const log = handler.stderr.getValue();
      assert.match(log, /ValueError: disk full/);
      assert.doesNotMatch(log, /app failure/);
    });

    it("refuses a string chunk at once even while output is in flight", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      let thrown: unknown;
      await handler.run((_e, s) => {
        const write = s("200 OK", []);
        write(bytes("a"));
        try {
          write("b" as unknown as Uint8Array);
        } catch (err) {
          thrown = err;
        }
        return [];
      });
      assert.ok(thrown instanceof AssertionError);
      assert.equal(sink.text(), `${OK_CGI}\r\na`);
    });

    it("sends the error page through asynchronous output", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run(() => {
        throw new ValueError("boom");
      });
      assert.equal(sink.text(), ERROR_PAGE);
    });

    it("waits for a promise from _write and _flush of a custom handler", async () => {
      const order: string[] = [];
      class AsyncHooks extends ErrorHandler {
        override async _write(data: Uint8Array): Promise<void> {
          await new Promise(setImmediate);
          order.push(`w${data.length}`);
        }
        override async _flush(): Promise<void> {
          await new Promise(setImmediate);
          order.push("f");
        }
      }
      await new AsyncHooks().run((_e, s) => {
        s("200 OK", []);
        return [bytes("ab"), bytes("c")];
      });
      assert.deepEqual(order, ["w18", "w2", "f", "w1", "f"]);
    });
  });

  describe("close() of the body", () => {
    it("is called once after a successful response", async () => {
      const { body, closes } = closing([bytes("ok")]);
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
    });

    it("is called once for a generator body", async () => {
      const { body, closes } = closing(
        (function* () {
          yield bytes("a");
        })(),
      );
      await new ErrorHandler().run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
    });

    it("is called once when iteration fails before startResponse", async () => {
      const { body, closes } = closing(
        (function* (): Generator<Uint8Array> {
          yield* [];
          throw new ValueError("early");
        })(),
      );
      const handler = new ErrorHandler();
      await handler.run(() => body);
      assert.equal(closes(), 1);
      assert.equal(handler.stdout.text(), ERROR_PAGE);
    });

    it("is called once when iteration fails after output", async () => {
      const { body, closes } = closing(
        (function* () {
          yield bytes("partial");
          throw new ValueError("late");
        })(),
      );
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
      assert.equal(handler.stdout.text(), `${OK_CGI}\r\npartial`);
    });

    it("is called once when the output fails", async () => {
      const { body, closes } = closing([bytes("a"), bytes("b")]);
      const handler = new ErrorHandler({}, new FailingSink(2, new ValueError("disk full")));
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
      assert.match(handler.stderr.getValue(), /ValueError: disk full/);
    });

    it("is called once when the client disconnects", async () => {
      const { body, closes } = closing([bytes("a"), bytes("b")]);
      const handler = new ErrorHandler({}, new FailingSink(2, codedError("ECONNRESET"), true));
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
      assert.equal(handler.stderr.getValue(), "");
    });

    it("is called once when the error page cannot be written, and run rejects", async () => {
      const { body, closes } = closing(
        (function* (): Generator<Uint8Array> {
          yield* [];
          throw new ValueError("app failure");
        })(),
      );
      const failure = new ValueError("output failure");
      const handler = new ErrorHandler({}, new AbortingWriter(failure));
      await assert.rejects(
        handler.run(() => body),
        (err) => err === failure,
      );
      assert.equal(closes(), 1);
      assert.equal(handler.status, undefined, "close() reset the state");
    });

    it("is called once when logging the error fails, and run rejects", async () => {
      const { body, closes } = closing(
        (function* (): Generator<Uint8Array> {
          yield* [];
          throw new ValueError("app failure");
        })(),
      );
      class BrokenLog extends ErrorHandler {
        override logException(): void {
          throw new Error("log is full");
        }
      }
      await assert.rejects(
        new BrokenLog().run(() => body),
        { message: "log is full" },
      );
      assert.equal(closes(), 1);
    });

    it("ends quietly when the client disconnects while the error page is written", async () => {
      const handler = new ErrorHandler({}, new AbortingWriter(codedError("EPIPE")));
      await handler.run(() => {
        throw new ValueError("app failure");
      });
      assert.match(handler.stderr.getValue(), /app failure/);
    });

    it("is called once for an empty body (HEAD)", async () => {
      const { body, closes } = closing([] as Uint8Array[]);
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", [["Content-Length", "3"]]);
        return body;
      });
      assert.equal(closes(), 1);
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 3\r\n\r\n`);
    });

    it("is awaited when it returns a promise", async () => {
      let closed = false;
      const body = Object.assign([bytes("x")], {
        close: async () => {
          await new Promise(setImmediate);
          closed = true;
        },
      });
      await new ErrorHandler().run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closed, true);
    });

    it("is awaited once when it returns a promise on the error path", async () => {
      let closes = 0;
      const body = Object.assign(
        (function* () {
          yield bytes("x");
          throw new ValueError("late");
        })(),
        {
          close: async () => {
            await new Promise(setImmediate);
            closes += 1;
          },
        },
      );
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes, 1);
    });

    it("is awaited on the fast path's error branch", async () => {
      let closes = 0;
      const body = Object.assign([bytes("x"), "not bytes" as unknown as Uint8Array], {
        close: async () => {
          await new Promise(setImmediate);
          closes += 1;
        },
      });
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes, 1);
      assert.match(handler.stderr.getValue(), /write\(\) argument must be a bytes instance/);
    });

    it("is awaited after a generator body, on a disconnect and after a second error", async () => {
      const asyncClosing = (body: Iterable<Uint8Array>) => {
        const state = { closes: 0 };
        const closable = Object.assign(body, {
          close: async () => {
            await new Promise(setImmediate);
            state.closes += 1;
          },
        });
        return { closable, state };
      };
      const generator = function* (fail?: Error) {
        yield bytes("x");
        if (fail) {
          throw fail;
        }
      };
      const ok = asyncClosing(generator());
      await new ErrorHandler().run((_e, s) => {
        s("200 OK", []);
        return ok.closable;
      });
      assert.equal(ok.state.closes, 1);

      const gone = asyncClosing(generator());
      const disconnected = new ErrorHandler({}, new AbortingWriter(codedError("EPIPE")));
      await disconnected.run(() => {
        const write = (disconnected as BaseHandler).startResponse("200 OK", []);
        try {
          write(bytes("x"));
        } catch (err) {
          void err;
        }
        return gone.closable;
      });
      assert.equal(gone.state.closes, 1);

      const twice = asyncClosing([bytes("x")]);
      class BrokenLog extends ErrorHandler {
        override logException(): void {
          throw new Error("log is full");
        }
      }
      const broken = new BrokenLog({}, new AbortingWriter(new ValueError("disk")));
      await assert.rejects(
        broken.run((_e, s) => {
          s("200 OK", []);
          return twice.closable;
        }),
        { message: "log is full" },
      );
      assert.equal(twice.state.closes, 1);
    });

    it("is called once for an async iterable body", async () => {
      const { body, closes } = closing(
        (async function* () {
          yield bytes("a");
        })(),
      );
      await new ErrorHandler().run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
    });

    it("is called once when it throws, and its error is logged", async () => {
      let closes = 0;
      const body = Object.assign([bytes("x")], {
        close() {
          closes += 1;
          throw new ValueError("close failed");
        },
      });
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes, 1);
      assert.match(handler.stderr.getValue(), /ValueError: close failed/);
    });

    it("is called once when its promise rejects", async () => {
      let closes = 0;
      const body = Object.assign([bytes("x")], {
        close: async () => {
          closes += 1;
          throw new ValueError("async close failed");
        },
      });
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes, 1);
      assert.match(handler.stderr.getValue(), /async close failed/);
    });

    it("is called once when an asynchronous output fails mid-body", async () => {
      const { body, closes } = closing([bytes("a"), bytes("b"), bytes("c")]);
      const handler = new ErrorHandler({}, new FailingSink(2, new ValueError("gone bad"), true));
      await handler.run((_e, s) => {
        s("200 OK", []);
        return body;
      });
      assert.equal(closes(), 1);
      assert.match(handler.stderr.getValue(), /gone bad/);
    });

    it("runs a generator's finally block when a write fails", async () => {
      let finished = false;
      const handler = new ErrorHandler({}, new FailingSink(2, new ValueError("disk full")));
      await handler.run((_e, s) => {
        s("200 OK", []);
        return (function* () {
          try {
            yield bytes("a");
            yield bytes("b");
          } finally {
            finished = true;
          }
        })();
      });
      assert.equal(finished, true);
    });
  });

  describe("Content-Length", () => {
    async function lengthOf(app: WSGIApplication): Promise<string> {
      const handler = new ErrorHandler();
      await handler.run(app);
      return handler.stdout.text();
    }

    it("is set for a one-chunk array body", async () => {
      const out = await lengthOf((_e, s) => {
        s("200 OK", []);
        return [bytes("four")];
      });
      assert.equal(out, `${OK_CGI}Content-Length: 4\r\n\r\nfour`);
    });

    it("is set for a one-chunk array from an async app", async () => {
      const out = await lengthOf(async (_e, s) => {
        s("200 OK", []);
        return [bytes("four")];
      });
      assert.equal(out, `${OK_CGI}Content-Length: 4\r\n\r\nfour`);
    });

    it("is not set for a one-chunk generator", async () => {
      const out = await lengthOf((_e, s) => {
        s("200 OK", []);
        return (function* () {
          yield bytes("four");
        })();
      });
      assert.equal(out, `${OK_CGI}\r\nfour`);
    });

    it("is 0 when nothing was written", async () => {
      const out = await lengthOf((_e, s) => {
        s("200 OK", []);
        return (function* () {})();
      });
      assert.equal(out, `${OK_CGI}Content-Length: 0\r\n\r\n`);
    });

    it("keeps the application's, in any case", async () => {
      const out = await lengthOf((_e, s) => {
        s("200 OK", [["content-length", "4"]]);
        return [bytes("four")];
      });
      assert.equal(out, `${OK_CGI}content-length: 4\r\n\r\nfour`);
    });

    it("is never sent with an origin server's 204, not even the application's", async () => {
      for (const [headers, body] of [
        [[], []],
        [[], [bytes("")]],
        [[["Content-Length", "5"]], [bytes("hello")]],
      ] as Array<[Array<[string, string]>, Uint8Array[]]>) {
        const handler = new ErrorHandler();
        handler.originServer = true;
        await handler.run((_e, s) => {
          s("204 No Content", headers.slice());
          return body;
        });
        const out = handler.stdout.text();
        assert.match(out, /^HTTP\/1\.0 204 No Content\r\nDate: [^\r]+\r\n\r\n/);
        assert.doesNotMatch(out, /content-length/i);
      }
    });

    it("is not added to an origin server's 304, but the application's is kept", async () => {
      const run = async (headers: Array<[string, string]>, body: Uint8Array[]) => {
        const handler = new ErrorHandler();
        handler.originServer = true;
        await handler.run((_e, s) => {
          s("304 Not Modified", headers);
          return body;
        });
        return handler.stdout.text();
      };
      assert.doesNotMatch(await run([], []), /Content-Length/);
      assert.doesNotMatch(await run([], [bytes("")]), /Content-Length/);
      assert.match(await run([["Content-Length", "1234"]], []), /\r\nContent-Length: 1234\r\n/);
    });

    it("is left as Python writes it behind CGI, for 204 and 304 too", async () => {
      const out204 = await lengthOf((_e, s) => {
        s("204 No Content", []);
        return [];
      });
      assert.equal(out204, "Status: 204 No Content\r\nContent-Length: 0\r\n\r\n");
      const out304 = await lengthOf((_e, s) => {
        s("304 Not Modified", []);
        return [bytes("")];
      });
      assert.equal(out304, "Status: 304 Not Modified\r\nContent-Length: 0\r\n\r\n");
    });

    it("is not set when the write callable was used", async () => {
      const out = await lengthOf((_e, s) => {
        s("200 OK", [])(bytes("wr"));
        return [bytes("it")];
      });
      assert.equal(out, `${OK_CGI}\r\nwrit`);
    });
  });

  describe("logException()", () => {
    function failWith(err: unknown, limit?: number): Promise<string> {
      const handler = new ErrorHandler();
      handler.tracebackLimit = limit;
      return handler
        .run(() => {
          throw err;
        })
        .then(() => handler.stderr.getValue());
    }

    it("writes the stack to the error stream and flushes it", async () => {
      let flushed = 0;
      const handler = new ErrorHandler();
      handler.stderr.flush = () => {
        flushed += 1;
      };
      await handler.run(function failingApp() {
        throw new ValueError("logged");
      });
      const log = handler.stderr.getValue();
      assert.match(log, /^ValueError: logged\n {4}at failingApp /);
      assert.ok(log.endsWith("\n"));
      assert.equal(flushed, 1);
    });

    it("escapes control characters but line breaks and tabs in what it logs", async () => {
      // The message carries what a client sent: a path decoded from %1b%5b2J%0d.
      const log = await failWith(new ValueError("no route for /\x1b[2J\r\tx\x9b"));
      assert.match(log, /^ValueError: no route for \/\\x1b\[2J\\x0d\tx\\x9b\n {4}at /);
    });

    it("never shows the error to the client", async () => {
      const handler = new ErrorHandler();
      await handler.run(() => {
        throw new ValueError("secret=hunter2");
      });
      assert.doesNotMatch(handler.stdout.text(), /hunter2|ValueError|at /);
    });

    it("writes at most tracebackLimit frames", async () => {
      const deep = (n: number): never => {
        if (n === 0) {
          throw new ValueError("deep");
        }
        return deep(n - 1);
      };
      let err: unknown;
      try {
        deep(5);
      } catch (e) {
        err = e;
      }
      const frames = (log: string) => log.split("\n").filter((l) => /^\s+at /.test(l));
      assert.ok(frames(await failWith(err)).length > 3);
      assert.equal(frames(await failWith(err, 2)).length, 2);
      assert.equal(frames(await failWith(err, 0)).length, 0);
      const last = frames(await failWith(err, -1));
      assert.equal(last.length, 1);
      assert.equal(last[0], frames(await failWith(err)).at(-1));
      assert.match(await failWith(err, 0), /^ValueError: deep\n$/);
    });

    it("keeps the cause and the error's properties when cutting frames", async () => {
      const err = Object.assign(new Error("outer", { cause: new ValueError("inner") }), {
        code: "E_OUTER",
      });
      const log = await failWith(err, 1);
      assert.match(log, /Error: outer/);
      assert.match(log, /\[cause\]: ValueError: inner/);
      assert.match(log, /code: 'E_OUTER'/);
      assert.equal(log.split("\n").filter((l) => /^\s+at /.test(l)).length, 2);
      assert.equal((log.match(/\{/g) ?? []).length, (log.match(/\}/g) ?? []).length);
    });

    it("keeps the brace of the error's properties when no frame is kept", async () => {
      const log = await failWith(Object.assign(new ValueError("coded"), { code: "E_CODED" }), 0);
      assert.match(log, /^ValueError: coded \{\n {2}code: 'E_CODED'\n\}\n$/);
    });

    it("logs a thrown value that is not an Error", async () => {
      assert.equal(await failWith("just a string"), "'just a string'\n");
      assert.equal(await failWith(undefined), "undefined\n");
    });

    it("answers 500 even for a thrown undefined", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        throw undefined;
      });
      assert.equal(handler.stdout.text(), ERROR_PAGE);
    });
  });

  describe("error page", () => {
    it("uses errorStatus, errorHeaders and errorBody", async () => {
      const handler = new ErrorHandler();
      handler.errorStatus = "503 Service Unavailable";
      handler.errorHeaders = [["Content-Type", "text/html"]];
      handler.errorBody = bytes("<p>later</p>");
      await handler.run(() => {
        throw new Error("x");
      });
      assert.equal(
        handler.stdout.text(),
        "Status: 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n<p>later</p>",
      );
      assert.deepEqual(handler.errorHeaders, [["Content-Type", "text/html"]], "not edited");
    });

    it("does not edit the default errorHeaders", async () => {
      const handler = new ErrorHandler();
      await handler.run(() => {
        throw new Error("x");
      });
      assert.deepEqual(new ErrorHandler().errorHeaders, [["Content-Type", "text/plain"]]);
      assert.deepEqual(handler.errorHeaders, [["Content-Type", "text/plain"]]);
    });

    it("comes from an overridden errorOutput, sync or async, which gets the error", async () => {
      let seen: unknown;
      class Diagnostic extends ErrorHandler {
        override async errorOutput(
          _environ: WSGIEnvironment,
          startResponse: StartResponse,
          err?: unknown,
        ): Promise<WSGIBody> {
          seen = err;
          startResponse("500 Oops", [["Content-Type", "text/plain"]], err);
          return [bytes("oops")];
        }
      }
      const failure = new ValueError("x");
      const handler = new Diagnostic();
      await handler.run(() => {
        throw failure;
      });
      assert.equal(seen, failure);
      assert.equal(
        handler.stdout.text(),
        "Status: 500 Oops\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\noops",
      );
    });

    it("is not sent once headers are out", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", [])(bytes("half"));
        throw new Error("x");
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}\r\nhalf`);
    });
  });

  describe("hooks and attributes", () => {
    it("offers no wsgi.file_wrapper when wsgiFileWrapper is undefined", () => {
      const handler = new ErrorHandler();
      handler.wsgiFileWrapper = undefined;
      handler.setupEnviron();
      assert.equal("wsgi.file_wrapper" in (handler.environ as WSGIEnvironment), false);
      assert.equal(handler.resultIsFile(), false);
    });

    it("sets a default SERVER_SOFTWARE for an origin server only", () => {
      const origin = new SimpleHandler(new BytesInput(), new BytesSink(), new StringErrors(), {});
      origin.serverSoftware = "FooBar/1.0";
      origin.setupEnviron();
      assert.equal(origin.environ?.SERVER_SOFTWARE, "FooBar/1.0");
      const kept = new SimpleHandler(new BytesInput(), new BytesSink(), new StringErrors(), {
        SERVER_SOFTWARE: "Other/2",
      });
      kept.serverSoftware = "FooBar/1.0";
      kept.setupEnviron();
      assert.equal(kept.environ?.SERVER_SOFTWARE, "Other/2");
      const cgi = new ErrorHandler();
      cgi.serverSoftware = "FooBar/1.0";
      cgi.setupEnviron();
      assert.equal(cgi.environ?.SERVER_SOFTWARE, undefined);
    });

    it("gives each request its own wsgi.version array", () => {
      const handler = new ErrorHandler();
      handler.setupEnviron();
      assert.deepEqual(handler.environ?.["wsgi.version"], [1, 0]);
      assert.notEqual(handler.environ?.["wsgi.version"], handler.wsgiVersion);
    });

    it("does not copy the process environment by default", () => {
      assert.deepEqual(new BaseHandler().osEnviron, {});
    });

    it("counts a missing SERVER_PROTOCOL as a modern client", () => {
      const handler = new SimpleHandler(new BytesInput(), new BytesSink(), new StringErrors(), {});
      handler.setupEnviron();
      assert.equal(handler.clientIsModern(), true);
      handler.environ = { SERVER_PROTOCOL: "http/0.9" };
      assert.equal(handler.clientIsModern(), false);
    });

    it("sends a file wrapper through an overridden sendfile(), skipping iteration", async () => {
      const sent: string[] = [];
      class Sendfile extends ErrorHandler {
        override async sendfile(): Promise<boolean> {
          if (!this.headersSent) {
            await this.sendHeaders();
          }
          sent.push("sendfile");
          return true;
        }
      }
      let reads = 0;
      let closed = 0;
      const handler = new Sendfile();
      await handler.run((e, s) => {
        s("200 OK", [["Content-Length", "0"]]);
        const Wrapper = e["wsgi.file_wrapper"]!;
        return new Wrapper({
          read: () => {
            reads += 1;
            return new Uint8Array();
          },
          close: () => {
            closed += 1;
          },
        });
      });
      assert.deepEqual(sent, ["sendfile"]);
      assert.equal(reads, 0);
      assert.equal(closed, 1);
      assert.equal(handler.stdout.text(), `${OK_CGI}Content-Length: 0\r\n\r\n`);
    });

    it("iterates a file wrapper when sendfile() declines", async () => {
      const chunks = [bytes("file "), bytes("data")];
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return new FileWrapper({ read: () => chunks.shift() ?? new Uint8Array() });
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}\r\nfile data`);
    });

    it("lets cleanupHeaders add headers", async () => {
      class Tagged extends ErrorHandler {
        override cleanupHeaders(): void {
          super.cleanupHeaders();
          this.headers?.set("X-Handler", "tagged");
        }
      }
      const handler = new Tagged();
      await handler.run((_e, s) => {
        s("200 OK", []);
        return [bytes("x")];
      });
      assert.equal(
        handler.stdout.text(),
        `${OK_CGI}Content-Length: 1\r\nX-Handler: tagged\r\n\r\nx`,
      );
    });

    it("does not send a preamble that cannot be encoded, and logs why", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 \u2713", []);
        return [bytes("x")];
      });
      assert.equal(handler.stdout.text(), "");
      assert.match(
        handler.stderr.getValue(),
        /TypeError: status line must contain only code points/,
      );
    });

    it("writes the status line, then fails on a header beyond latin-1, as Python does", async () => {
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", [["X-Name", "\u0142"]]);
        return [bytes("x")];
      });
      assert.equal(handler.stdout.text(), OK_CGI);
      assert.match(handler.stderr.getValue(), /TypeError: header value for 'X-Name'/);
    });

    it("writes the preamble and the headers apart when sendPreamble is overridden", async () => {
      const writes: string[] = [];
      class Custom extends ErrorHandler {
        override sendPreamble(): void {
          this._write(bytes("Status: 299 Custom\r\n"));
        }
        override _write(data: Uint8Array): void {
          writes.push(Buffer.from(data).toString("latin1"));
        }
      }
      await new Custom().run((_e, s) => {
        s("200 OK", []);
        return [bytes("x")];
      });
      assert.deepEqual(writes, ["Status: 299 Custom\r\n", "Content-Length: 1\r\n\r\n", "x"]);
    });

    it("uses a headersClass's own toBytes()", async () => {
      class Shouting extends Headers {
        override toBytes(): Uint8Array {
          return bytes(this.toString().toUpperCase());
        }
      }
      const handler = new ErrorHandler();
      handler.headersClass = Shouting;
      await handler.run((_e, s) => {
        s("200 OK", [["X-A", "quiet"]]);
        return [bytes("x")];
      });
      assert.equal(handler.stdout.text(), `${OK_CGI}X-A: QUIET\r\nCONTENT-LENGTH: 1\r\n\r\nx`);
    });

    it("does not write headers that were corrupted after startResponse, and logs why", async () => {
      const sink = new SlowSink();
      const handler = new ErrorHandler({}, sink);
      await handler.run((_e, s) => {
        const headers: Array<[string, string]> = [];
        s("200 OK", headers);
        headers.push(["X-Bad", "a\r\nb"]);
        return [bytes("x")];
      });
      assert.equal(sink.text(), OK_CGI);
      assert.match(handler.stderr.getValue(), /TypeError: header value/);
    });
  });
});

describe("formatDateTime", () => {
  const { dates } = loadFixture() as unknown as { dates: Array<[number, string]> };
  for (const [seconds, expected] of dates) {
    it(`formats ${seconds} s as Python does: ${expected}`, () => {
      assert.equal(formatDateTime(seconds * 1000), expected);
    });
  }

  it("gives the same text again within a second", () => {
    assert.equal(formatDateTime(1_000), formatDateTime(1_999));
    assert.notEqual(formatDateTime(1_999), formatDateTime(2_000));
  });

  it("refuses what is not a number or not a date", () => {
    assert.throws(() => formatDateTime("0" as unknown as number), { name: "TypeError" });
    assert.throws(() => formatDateTime(Number.NaN), { name: "RangeError" });
    assert.throws(() => formatDateTime(Number.POSITIVE_INFINITY), { name: "RangeError" });
    assert.throws(() => formatDateTime(9e15), { name: "RangeError" });
  });
});
