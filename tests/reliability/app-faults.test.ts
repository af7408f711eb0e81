/**
 * Fault injection, the application side: an application that throws at every
 * point (before startResponse, after it, inside the body iterator before and
 * after the headers went out, inside close()), sync and async. Before the headers
 * the client gets the 500 page; after them the connection is cut so the client
 * can tell the response is incomplete; the stack goes to wsgi.errors. After each:
 * the server answers the next request, every body was closed exactly once, no
 * temporary file is left and no file descriptor leaked.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "../../src/types.js";
import { Bench } from "../helpers/fault-bench.js";
import {
  exchange,
  type ParsedResponse,
  parseResponses,
  request,
} from "../helpers/server-client.js";

const X = Buffer.from("x");

/** What the client saw: the error page, a cut response, or a whole one. */
type Outcome = "500" | "cut" | "whole";

function outcomeOf(response: ParsedResponse | undefined): Outcome | string {
  if (response === undefined) return "nothing";
  if (response.status === 500) return "500";
  return response.complete ? "whole" : "cut";
}

/** Throw the error of the test. */
function fail(where: string): never {
  throw new Error(`injected fault ${where}`);
}

interface Case {
  name: string;
  /** What the client sees. */
  outcome: Outcome;
  /** Whether there is a body to close (the app returned one). */
  body: boolean;
  /** What wsgi.errors gets (the stack of the injected fault unless said). */
  log?: RegExp;
  app: (
    environ: WSGIEnvironment,
    startResponse: StartResponse,
    track: (body: WSGIBody) => WSGIBody,
  ) => WSGIBody | Promise<WSGIBody>;
}

// Fresh lists each time: the server adds to the list it is given (Content-Length).
const HEADERS = (): Array<[string, string]> => [["Content-Type", "text/plain"]];
const SIZED = (): Array<[string, string]> => [...HEADERS(), ["Content-Length", "2"]];

const CASES: Case[] = [
  {
    name: "a sync app throws before startResponse",
    outcome: "500",
    body: false,
    app: () => fail("before startResponse"),
  },
  {
    name: "an async app rejects before startResponse",
    outcome: "500",
    body: false,
    app: async () => {
      await Promise.resolve();
      return fail("before startResponse");
    },
  },
  {
    name: "a sync app throws after startResponse",
    outcome: "500",
    body: false,
    app: (_e, startResponse) => {
      startResponse("200 OK", HEADERS());
      return fail("after startResponse");
    },
  },
  {
    name: "an async app rejects after startResponse",
    outcome: "500",
    body: false,
    app: async (_e, startResponse) => {
      startResponse("200 OK", HEADERS());
      await Promise.resolve();
      return fail("after startResponse");
    },
  },
  {
    name: "an app throws after writing through the write callable",
    outcome: "cut",
    body: false,
    app: (_e, startResponse) => {
      startResponse("200 OK", HEADERS())(X);
      return fail("after write()");
    },
  },
  {
    name: "an app throws after startResponse with excInfo once the headers are out",
    outcome: "cut",
    body: true,
    log: /Error: injected fault with excInfo/,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        (function* () {
          yield X;
          startResponse("500 Oops", HEADERS(), new Error("injected fault with excInfo"));
        })(),
      );
    },
  },
  {
    name: "a sync body throws before its first chunk",
    outcome: "500",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        // biome-ignore lint/correctness/useYield: it throws before yielding, the fault
        (function* () {
          fail("in the body iterator, before the first chunk");
        })(),
      );
    },
  },
  {
    name: "an async body rejects before its first chunk",
    outcome: "500",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        // biome-ignore lint/correctness/useYield: it throws before yielding, the fault
        (async function* () {
          await Promise.resolve();
          fail("in the async body iterator, before the first chunk");
        })(),
      );
    },
  },
  {
    name: "a sync body throws after its first chunk (chunked)",
    outcome: "cut",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        (function* () {
          yield X;
          fail("in the body iterator, after the headers");
        })(),
      );
    },
  },
  {
    name: "an async body rejects after its first chunk (Content-Length)",
    outcome: "cut",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", SIZED());
      return track(
        (async function* () {
          yield X;
          fail("in the async body iterator, after the headers");
        })(),
      );
    },
  },
  {
    name: "a body's next() throws (a hand-written iterator)",
    outcome: "cut",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      let calls = 0;
      return track({
        [Symbol.iterator]: () => ({
          next: () => (calls++ === 0 ? { value: X, done: false } : fail("in next()")),
        }),
      });
    },
  },
  {
    name: "a body yields a string instead of bytes",
    outcome: "500",
    body: true,
    log: /AssertionError.*write\(\) argument must be a bytes instance/,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(["not bytes" as unknown as Uint8Array]);
    },
  },
  {
    name: "an app returns something not iterable",
    outcome: "500",
    body: false,
    log: /TypeError: the application must return an iterable/,
    app: (_e, startResponse) => {
      startResponse("200 OK", HEADERS());
      return 42 as unknown as WSGIBody;
    },
  },
  {
    name: "a body's close() throws after a whole response",
    outcome: "whole",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", SIZED());
      return track(
        Object.assign([X, X], {
          close: () => fail("in close()"),
        }),
      );
    },
  },
  {
    name: "a body's async close() rejects after a whole response",
    outcome: "whole",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        Object.assign([X, X], {
          close: async () => {
            await Promise.resolve();
            fail("in async close()");
          },
        }),
      );
    },
  },
  {
    name: "a body throws, and then its close() throws too",
    outcome: "cut",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        Object.assign(
          (function* () {
            yield X;
            fail("in the body iterator");
          })(),
          { close: () => fail("in close(), after the body failed") },
        ),
      );
    },
  },
  {
    name: "a body throws before its first chunk, and its async close() rejects",
    outcome: "500",
    body: true,
    app: (_e, startResponse, track) => {
      startResponse("200 OK", HEADERS());
      return track(
        Object.assign(
          // biome-ignore lint/correctness/useYield: it throws before yielding, the fault
          (function* () {
            fail("in the body iterator");
          })(),
          {
            close: async () => {
              await Promise.resolve();
              fail("in async close(), after the body failed");
            },
          },
        ),
      );
    },
  },
];

describe("WSGIServer and applications that throw", () => {
  let bench: Bench;
  before(async () => {
    bench = await Bench.start("app-faults");
  });
  after(() => bench.close());

  for (const c of CASES) {
    it(`survives when ${c.name}: ${c.outcome}`, async () => {
      const path = `/${c.name.replaceAll(/\W+/g, "-")}`;
      bench.route(path, ((environ, startResponse) =>
        c.app(environ, startResponse, (body) => bench.track(path, body))) as WSGIApplication);
      const tracked = bench.bodies.length;
      let outcome: string | undefined;
      const logged = await bench.survives("app throws", async () => {
        // Keep-alive: whatever the fault, the connection's next request must not
        // be answered inside a broken response.
        const received = await exchange(
          bench.port,
          request("GET", path) + request("GET", "/ok", ["Connection: close"]),
        );
        const [response, next] = parseResponses(received);
        outcome = outcomeOf(response);
        if (outcome !== "cut") {
          assert.equal(next?.body.toString(), "ok", "the connection serves its next request");
        }
      });
      assert.equal(outcome, c.outcome);
      const bodies = bench.bodies.slice(tracked).filter((b) => b.path === path);
      assert.equal(bodies.length, c.body ? 1 : 0, "the app's body, if any, was closed once");
      assert.match(logged, c.log ?? /Error: injected fault/, "the stack is on wsgi.errors");
    });
  }
});
