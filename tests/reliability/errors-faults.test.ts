/**
 * Fault injection, the error stream: a `wsgi.errors` whose `write` throws (a
 * `WSGIRequestHandler` subclass overriding `getStderr()`, as a user would plug in
 * a logger that fails). Requests that log nothing are unaffected; an
 * application that writes to it gets the error where it wrote; when the server
 * itself cannot log an application's error it gives up on that request as
 * Python's `BaseHandler.run` does ("an error handling an error"): the body is
 * closed, the connection dropped (nothing after it on the connection is served)
 * and the logging error goes to the server's `handleError`. After each: the
 * server answers the next request, every body was closed exactly once, no
 * temporary file is left and no file descriptor leaked.
 */

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import type { ErrorStream } from "../../src/types.js";
import { Bench } from "../helpers/fault-bench.js";
import { exchange, parseResponses, request } from "../helpers/server-client.js";

/** A `wsgi.errors` that fails on every call, as a logger whose disk or pipe is gone. */
class BrokenErrors implements ErrorStream {
  write(_s: string): never {
    throw Object.assign(new Error("injected fault: the log is gone"), { code: "EIO" });
  }
  writelines(_seq: Iterable<string>): never {
    return this.write("");
  }
  flush(): never {
    return this.write("");
  }
}

class BrokenLogHandler extends WSGIRequestHandler {
  override getStderr(): ErrorStream {
    return new BrokenErrors();
  }
}

describe("WSGIServer with a wsgi.errors whose write throws", () => {
  let bench: Bench;
  const serverErrors: unknown[] = [];

  before(async () => {
    bench = await Bench.start("errors-faults", {
      handlerClass: BrokenLogHandler,
      server: { spoolThreshold: 16 },
    });
    // The server's own last resort (Python's BaseServer.handle_error), recorded.
    bench.running.httpd.handleError = (_req: IncomingMessage, err: unknown) => {
      serverErrors.push(err);
    };
    // Fresh lists each time: the server adds to the list it is given (Content-Length).
    const HEADERS = (): Array<[string, string]> => [["Content-Type", "text/plain"]];
    bench.route("/fine", (environ, startResponse) => {
      const body = environ["wsgi.input"]!.read();
      startResponse("200 OK", HEADERS());
      return bench.track("/fine", [Buffer.from(`fine ${body.length}`)]);
    });
    bench.route("/app-logs", (environ, startResponse) => {
      let caught = "";
      try {
        environ["wsgi.errors"]!.write("a line the app logs\n");
      } catch (err) {
        caught = (err as Error).message;
      }
      startResponse("200 OK", HEADERS());
      return bench.track("/app-logs", [Buffer.from(caught)]);
    });
    bench.route("/app-logs-uncaught", (environ, startResponse) => {
      environ["wsgi.errors"]!.write("a line the app logs\n");
      startResponse("200 OK", HEADERS());
      return bench.track("/app-logs-uncaught", [Buffer.from("unreachable")]);
    });
    bench.route("/throws", () => {
      throw new Error("injected fault in the app");
    });
    bench.route("/throws-mid-body", (_environ, startResponse) => {
      startResponse("200 OK", HEADERS());
      return bench.track(
        "/throws-mid-body",
        (function* () {
          yield Buffer.from("x");
          throw new Error("injected fault in the body");
        })(),
      );
    });
  });
  after(() => bench.close());

  /** Send `requests` on one connection; return the statuses answered and whether each was whole. */
  async function statuses(...requests: string[]): Promise<string[]> {
    const received = await exchange(bench.port, requests.join(""));
    return parseResponses(received).map((r) => `${r.status}${r.complete ? "" : " cut"}`);
  }

  it("serves requests that log nothing, spooled body included", async () => {
    const body = "y".repeat(100);
    await bench.survives("wsgi.errors write throws", async () => {
      const received = await exchange(
        bench.port,
        request("POST", "/fine", [`Content-Length: ${body.length}`, "Connection: close"], body),
      );
      assert.equal(parseResponses(received)[0]?.body.toString(), "fine 100");
    });
    assert.deepEqual(serverErrors, []);
  });

  it("gives the error to an application that writes to it", async () => {
    await bench.survives("wsgi.errors write throws", async () => {
      const received = await exchange(
        bench.port,
        request("GET", "/app-logs", ["Connection: close"]),
      );
      assert.equal(parseResponses(received)[0]?.body.toString(), "injected fault: the log is gone");
    });
    assert.deepEqual(serverErrors, []);
  });

  for (const [path, expected] of [
    ["/throws", []],
    ["/app-logs-uncaught", []],
    ["/throws-mid-body", ["200 cut"]],
  ] as const) {
    it(`gives up on ${path} when its error cannot be logged, and serves the next connection`, async () => {
      const before = serverErrors.length;
      let seen: string[] = [];
      await bench.survives("wsgi.errors write throws", async () => {
        seen = await statuses(request("GET", path), request("GET", "/ok", ["Connection: close"]));
      });
      assert.deepEqual(seen, expected);
      assert.deepEqual(serverErrors.slice(before).map(String), [
        "Error: injected fault: the log is gone",
      ]);
    });
  }
});
