/**
 * The Jazzer.js targets' oracles, fed code that is wrong on purpose: each target
 * must throw its `OracleError` (the finding libFuzzer reports) for a broken
 * version of what it checks, and the runner must fail a run that crashed,
 * leaked, or executed fewer inputs than its floor. Without these, a `check()`
 * that did nothing would pass every other test.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as cookies from "../../reliability/fuzz/cookies.js";
import * as environ from "../../reliability/fuzz/environ.js";
import * as form from "../../reliability/fuzz/form.js";
import * as headers from "../../reliability/fuzz/headers.js";
import { encodeFields, OracleError } from "../../reliability/fuzz/input.js";
import { minInputs, type Outcome, problems, readOutcome } from "../../reliability/fuzz/outcome.js";
import * as requestUri from "../../reliability/fuzz/request-uri.js";
import * as shiftPathInfo from "../../reliability/fuzz/shift-path-info.js";
import { TARGETS, type Target } from "../../reliability/fuzz/targets.js";
import { Headers } from "../../src/headers.js";
import {
  parseCookieHeader,
  formatSetCookie as realFormatSetCookie,
} from "../../src/response/cookies.js";
import { parseMultipart, parseUrlencoded } from "../../src/response/form.js";
import type { WSGIApplication } from "../../src/types.js";
import {
  applicationUri,
  requestUri as realRequestUri,
  shiftPathInfo as realShift,
} from "../../src/util.js";
import { alwaysRefuse, leakingFds, refuseThenServe, silent } from "./broken-servers.js";

/** Assert that `run` throws (or rejects with) an `OracleError` whose message matches `pattern`. */
async function finds(run: () => unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (err: unknown) => {
      assert.ok(err instanceof OracleError, `an OracleError, not ${String(err)}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

const data = (...fields: string[]): Uint8Array => encodeFields(fields);

describe("fuzz target oracles, against broken code", () => {
  describe("headers", () => {
    /** Keeps the wrapped array, to bypass the checks. */
    class Unchecked extends Headers {
      readonly #list: Array<[string, string]>;
      constructor(list: Array<[string, string]> = []) {
        super(list);
        this.#list = list;
      }
      override set(name: string, value: string): void {
        this.delete(name);
        this.#list.push([name, value]);
      }
    }
    class CaseSensitive extends Headers {
      override get(name: string): string | undefined;
      override get<T>(name: string, defaultValue: T): string | T;
      override get(name: string, defaultValue?: unknown): unknown {
        return this.items().find(([n]) => n === name)?.[1] ?? defaultValue;
      }
    }
    class Injecting extends Headers {
      override toString(): string {
        return super.toString().replace(/\r\n\r\n$/, "\r\nX-Injected: 1\r\n\r\n");
      }
    }

    it("finds a set() that lets CR LF into a value", async () => {
      await finds(
        () => headers.fuzz(data("1", "Foo", "bar\r\nSet-Cookie: x=1"), { Headers: Unchecked }),
        /^accepted \["Foo","bar\\r\\nSet-Cookie: x=1"\]$/,
      );
    });

    it("finds a get() that is case-sensitive", async () => {
      await finds(
        () => headers.fuzz(data("0", "Content-Type", "text/plain"), { Headers: CaseSensitive }),
        /^get\(\) with the other case does not return the value$/,
      );
    });

    it("finds a toString() that writes a header line more", async () => {
      await finds(
        () => headers.fuzz(data("0", "Content-Type", "text/plain"), { Headers: Injecting }),
        /^toString\(\) has 2 lines for 1 headers$/,
      );
    });
  });

  describe("shift-path-info", () => {
    it("finds a shift that loses a segment", async () => {
      const lossy: typeof realShift = (env) => {
        const name = realShift(env);
        env.PATH_INFO = (env.PATH_INFO as string).replace(/^\/[^/]*/, "");
        return name;
      };
      await finds(
        () => shiftPathInfo.fuzz(data("0", "", "/a/b/c"), { shiftPathInfo: lossy }),
        /^a shift of .* gave .*: \/a\/c is not \/a\/b\/c$/,
      );
    });

    it("finds a shifted name with a '/'", async () => {
      const slashed: typeof realShift = (env) => {
        const name = realShift(env);
        return name === undefined ? name : `${name}/`;
      };
      await finds(
        () => shiftPathInfo.fuzz(data("0", "/a", "/x/y"), { shiftPathInfo: slashed }),
        /^the shifted name "x\/" has a '\/'$/,
      );
    });
  });

  describe("request-uri", () => {
    it("finds a SCRIPT_NAME not quoted", async () => {
      const unquoted: typeof applicationUri = (env) => applicationUri(env).replaceAll("%20", " ");
      await finds(
        () =>
          requestUri.fuzz(data("2", "host:81", "ignored", "81", "/a b", "/x", "q=1"), {
            applicationUri: unquoted,
            requestUri: realRequestUri,
          }),
        /^SCRIPT_NAME quoted as "\/a b"$/,
      );
    });

    it("finds a query string dropped", async () => {
      const queryless: typeof realRequestUri = (env) => realRequestUri(env, false);
      await finds(
        () =>
          requestUri.fuzz(data("0", "", "127.0.0.1", "8080", "/spam", "/ham", "a=b&c"), {
            applicationUri,
            requestUri: queryless,
          }),
        /^the query string is not appended unchanged$/,
      );
    });
  });

  describe("cookies", () => {
    it("finds a ';' let into a cookie value (CVE-2026-0672's shape)", async () => {
      const lax: typeof realFormatSetCookie = (name, value, options, now) =>
        value.includes(";")
          ? `${name}=${value}; Path=/`
          : realFormatSetCookie(name, value, options, now);
      await finds(
        () =>
          cookies.fuzz(data("0", "@", "a", "b;c"), {
            formatSetCookie: lax,
            parseCookieHeader,
          }),
        /^accepted the value "b;c"$/,
      );
    });

    it("finds a parsed name that is not trimmed", async () => {
      const untrimmed: typeof parseCookieHeader = (header) =>
        parseCookieHeader(header).map(([name, value]) => [` ${name}`, value]);
      await finds(
        () =>
          cookies.fuzz(data("1", "a=b; c=d"), {
            formatSetCookie: realFormatSetCookie,
            parseCookieHeader: untrimmed,
          }),
        /^bad name " a"$/,
      );
    });
  });

  describe("form", () => {
    it("finds a urlencoded form past maxParts accepted", async () => {
      const unlimited: typeof parseUrlencoded = (body, limits) =>
        parseUrlencoded(body, { ...limits, maxParts: 1000 });
      await finds(
        () =>
          form.fuzz(data("\x02", "\x40", "", "a=1&b=2&c=3"), {
            parseUrlencoded: unlimited,
            parseMultipart,
          }),
        /^a form past the limits was accepted$/,
      );
    });

    it("finds a multipart part past maxPartSize", async () => {
      const unlimited: typeof parseMultipart = (body, type, limits) =>
        parseMultipart(body, type, { ...limits, maxPartSize: 1 << 20 });
      const simple = [
        "--x",
        'Content-Disposition: form-data; name="a"',
        "",
        "1",
        "--x",
        'Content-Disposition: form-data; name="f"; filename="f.txt"',
        "",
        "hello",
        "--x--",
        "",
      ].join("\r\n");
      await finds(
        () =>
          form.fuzz(data("\x0f", "\x04", "boundary=x", simple), {
            parseUrlencoded,
            parseMultipart: unlimited,
          }),
        /^part "f" has 5 bytes, past 4$/,
      );
    });
  });

  describe("environ", () => {
    /** Run one input through a target on `listen`, then close it. */
    async function tryOne(
      target: environ.EnvironTarget,
      input: string,
      pattern: RegExp,
    ): Promise<void> {
      try {
        await finds(() => target.fuzz(Buffer.from(input, "latin1")), pattern);
      } finally {
        await target.close();
      }
    }
    const request = "GET /sp%E4m?q=1 HTTP/1.1\r\nHost: a\r\nX_Evil: 1\r\n\r\n";
    const corrupting =
      (change: (environ: Record<string, unknown>) => void) =>
      (app: WSGIApplication): WSGIApplication =>
      (env, startResponse) => {
        change(env);
        return app(env, startResponse);
      };

    it("finds a PATH_INFO that is not the target decoded", async () => {
      const listen = (app: WSGIApplication) =>
        environ.wsgiServer(corrupting((env) => (env.PATH_INFO = "/spam"))(app));
      await tryOne(
        new environ.EnvironTarget({ listen }),
        request,
        /^PATH_INFO "\/spam" is not "\/sp%E4m" decoded$/,
      );
    });

    it("finds an HTTP_ key from a header name with '_'", async () => {
      const listen = (app: WSGIApplication) =>
        environ.wsgiServer(corrupting((env) => (env.HTTP_X_EVIL = "1"))(app));
      await tryOne(
        new environ.EnvironTarget({ listen }),
        request,
        /^HTTP_X_EVIL comes from a header name with '_'$/,
      );
    });

    it("finds a 500 for a request", async () => {
      await tryOne(
        new environ.EnvironTarget({ listen: alwaysRefuse(500) }),
        request,
        /^status 500 for bad input/,
      );
    });

    it("finds a response after a refusal", async () => {
      await tryOne(
        new environ.EnvironTarget({ listen: refuseThenServe() }),
        request,
        /^a response followed a 400 on the same connection$/,
      );
    });

    it("finds a connection left open", async () => {
      await tryOne(
        new environ.EnvironTarget({ listen: silent(), closeWithinMs: 200 }),
        request,
        /^the connection was still open 200 ms after the client's end$/,
      );
    });

    it("reports descriptors left open", {
      skip: process.platform !== "linux" && "needs /proc",
    }, async () => {
      const target = new environ.EnvironTarget({ listen: leakingFds() });
      try {
        await target.fuzz(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "latin1"));
        const report = target.leakReport();
        assert.ok(report.leaks >= 1, JSON.stringify(report));
        assert.equal(report.served, 1);
      } finally {
        await target.close();
      }
    });

    it("passes the real server on the same inputs", async () => {
      const target = new environ.EnvironTarget();
      try {
        await target.fuzz(Buffer.from(request, "latin1"));
        assert.equal(target.served, 1);
      } finally {
        await target.close();
      }
    });
  });
});

describe("fuzz run outcome", () => {
  const headersTarget = TARGETS.find((t) => t.name === "headers") as Target;
  const clean = [
    "INFO: Seed: 1",
    "#2\tINITED cov: 90 ft: 300 corp: 14/350b exec/s: 0 rss: 80Mb",
    "#63615\tDONE   cov: 104 ft: 349 corp: 64/2200b lim: 256 exec/s: 15903 rss: 90Mb",
    "stat::number_of_executed_units: 63615",
  ].join("\n");

  function judged(output: string, code: number | null, floor: number): [Outcome, string[]] {
    const outcome = readOutcome(headersTarget, output, code, null, 4.2);
    return [outcome, problems(outcome, floor)];
  }

  it("passes a clean run at or above its floor", () => {
    const [outcome, found] = judged(clean, 0, 2000);
    assert.deepEqual(found, []);
    assert.equal(outcome.inputs, 63615);
    assert.equal(outcome.edges, 104);
    assert.equal(outcome.corpus, 64);
  });

  it("fails a run that crashed or found something", () => {
    const output = `${clean}\n==4242== Uncaught Exception: OracleError: accepted ["Foo","bar"]`;
    const [, found] = judged(output, 1, 2000);
    assert.deepEqual(found, [
      'crash or finding: ==4242== Uncaught Exception: OracleError: accepted ["Foo","bar"]',
    ]);
    assert.deepEqual(judged("", null, 0)[1].length, 1, "killed by a signal, no output");
  });

  it("fails a run whose target reports leaked descriptors", () => {
    const output = `${clean}\nFUZZ-LEAKS {"fds":20,"fdsAfter":23,"leaks":3,"served":10}`;
    const [outcome, found] = judged(output, 0, 2000);
    assert.deepEqual(found, ["3 leaks; fds 20 → 23"]);
    assert.equal(outcome.requests, 10);
  });

  it("fails a run that executed fewer inputs than its floor, or none", () => {
    assert.deepEqual(judged(clean, 0, 100_000)[1], [
      "63615 inputs executed, fewer than the floor of 100000",
    ]);
    assert.deepEqual(judged("INFO: Seed: 1\n", 0, 2000)[1], [
      "0 inputs executed, fewer than the floor of 2000",
    ]);
  });

  it("sets the floor from the time or the runs, never under the seeds", () => {
    assert.equal(
      minInputs(headersTarget, 14, { seconds: 4 }),
      4 * headersTarget.minInputsPerSecond,
    );
    assert.equal(minInputs(headersTarget, 14, { runs: 50 }), 50);
    assert.equal(minInputs(headersTarget, 14, { runs: 5 }), 14);
    for (const target of TARGETS) assert.ok(target.minInputsPerSecond > 0, target.name);
  });
});
