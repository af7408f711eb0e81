/**
 * Fault injection, the error stream: a `wsgi.errors` whose `write` throws (a
 * `WSGIRequestHandler` subclass overriding `getStderr()`, as a user would plug in
 * a logger that fails). Requests that log nothing are unaffected; an
 * application that writes to it gets the error where it wrote; when the server
 * itself cannot log an application's error, the error and the reason go to the
 * server's stderr and the request is answered as usual (a 500 before the headers,
 * a cut response after), where Python's `BaseHandler.run` gives up on the request.
 * After each: the server answers the next request, every body was closed exactly
 * once, no temporary file is left and no file descriptor leaked.
 */

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import type { ErrorStream } from "../../src/types.js";
import { Bench } from "../helpers/fault-bench.js";
import { exchange, parseResponses, request } from "../helpers/server-client.js";

/** Run `fn`, returning what was written to `process.stderr` meanwhile (and not passing it on). */
async function captureStderr(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stderr.write;
  let text = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

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

  for (const [path, expected, logged] of [
    ["/throws", ["500", "200"], "injected fault in the app"],
    ["/app-logs-uncaught", ["500", "200"], "injected fault: the log is gone"],
    ["/throws-mid-body", ["200 cut"], "injected fault in the body"],
  ] as const) {
    it(`answers ${path} as usual when its error cannot be logged, the error on the server's stderr`, async () => {
      const before = serverErrors.length;
      let seen: string[] = [];
      const stderr = await captureStderr(() =>
        bench.survives("wsgi.errors write throws", async () => {
          seen = await statuses(request("GET", path), request("GET", "/ok", ["Connection: close"]));
        }),
      );
      assert.deepEqual(seen, expected);
      assert.deepEqual(serverErrors.slice(before), [], "nothing reached the server's last resort");
      assert.match(
        stderr,
        new RegExp(
          `^wsgi\\.errors failed \\(injected fault: the log is gone\\) while logging an application error:\\n.*Error: ${logged}`,
          "s",
        ),
      );
    });
  }
});
