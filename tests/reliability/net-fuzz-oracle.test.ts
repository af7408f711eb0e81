/**
 * The network fuzzer's checks, fed outcomes that are wrong on purpose: each way
 * a server can be wrong (a smuggled request served, a wrong refusal, a refusal
 * that keeps the connection, a leaked descriptor, a crash, a body never closed,
 * a connection never closed, too few inputs) must be reported. Without these,
 * an oracle that reported nothing would pass every other test.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type CampaignResult, runCampaign } from "../../reliability/net-fuzz/campaign.js";
import { type FuzzInput, generate } from "../../reliability/net-fuzz/mutators.js";
import { judge, type SeenRequest, type Verdict } from "../../reliability/net-fuzz/oracle.js";
import { frame } from "../../reliability/net-fuzz/reference.js";
import { readResponses } from "../../reliability/net-fuzz/responses.js";
import { alwaysRefuse, leakingFds, naiveFraming, silent } from "./broken-servers.js";

const LIMITS = { maxHeaders: 100, maxBodySize: 64 * 1024, maxHeaderSize: 16 * 1024 };
const MARKER = "GET /smuggled-0 HTTP/1.1\r\nHost: localhost\r\n\r\n";

/** Judge `sent` (latin-1) answered with `received`, the application having seen `seen`. */
function verdict(
  sent: string,
  received: string,
  seen: SeenRequest[],
  options: { closedByServer?: boolean; mutated?: boolean } = {},
): Verdict {
  const input: FuzzInput = {
    n: 0,
    seed: "test",
    mutations: options.mutated === false ? [] : ["test"],
    segments: [sent],
    pause: false,
    halfClose: true,
    writes: 1,
  };
  const framing = frame(sent, LIMITS);
  const reading = readResponses(received, (i) => seen[i]?.method === "HEAD");
  return judge(input, { framing, seen, reading, closedByServer: options.closedByServer ?? true });
}

function seen(uri: string, method = "GET", body = "", closes = 1): SeenRequest {
  return { method, uri, body, closes };
}

function ok(body = "ok", connection = "keep-alive"): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: ${connection}\r\n\r\n${body}`;
}

function refused(status: number, connection = "close"): string {
  return `HTTP/1.1 ${status} No\r\nContent-Length: 0\r\nConnection: ${connection}\r\n\r\n`;
}

const GET = "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n";

/** Assert that `v` has a failure matching `pattern`. */
function reports(v: Verdict, pattern: RegExp): void {
  assert.ok(
    v.failures.some((f) => pattern.test(f)),
    `expected a failure matching ${pattern}, got ${JSON.stringify(v.failures)}`,
  );
}

describe("judge", () => {
  it("passes a correct outcome: both requests served, in order", () => {
    const v = verdict(GET + MARKER, ok() + ok(), [seen("/a"), seen("/smuggled-0")], {
      mutated: false,
    });
    assert.deepEqual(v.failures, []);
    assert.equal(v.smuggled, 0);
  });

  it("reports a request hidden in a body that the application saw (smuggled)", () => {
    const hidden = "GET /smuggled-0-body HTTP/1.1\r\nHost: localhost\r\n\r\n";
    const sent = `POST /p HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`;
    const v = verdict(sent + MARKER, ok() + ok() + ok(), [
      seen("/p", "POST", ""),
      seen("/smuggled-0-body"),
      seen("/smuggled-0"),
    ]);
    reports(v, /the application saw request 0, POST \/p, but its body is/);
    reports(v, /the application saw request 1, GET \/smuggled-0-body/);
    assert.ok(v.smuggled >= 1);
  });

  it("reports a request served after one that closes the connection", () => {
    const sent = `GET /a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n${MARKER}`;
    const v = verdict(sent, ok("ok", "close") + ok(), [seen("/a"), seen("/smuggled-0")]);
    reports(v, /request 1, GET \/smuggled-0, but the reference stops before it/);
    assert.equal(v.smuggled, 1);
  });

  it("reports a valid, well-formed request answered 400 (a wrong refusal)", () => {
    reports(verdict(GET + MARKER, refused(400), []), /^wrong refusal: request 0, GET \/a/);
  });

  it("reports a wrong refusal of a valid request pipelined after a served one", () => {
    const v = verdict(GET + MARKER, ok() + refused(400), [seen("/a")]);
    reports(v, /^wrong refusal: request 1, GET \/smuggled-0/);
  });

  it("accepts the refusals the reference lists, with their statuses", () => {
    const cases: Array<[string, number]> = [
      ["GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
      ["GET /a HTTP/1.1\r\n\r\n", 400],
      [`POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: ${LIMITS.maxBodySize + 1}\r\n\r\n`, 413],
      [`GET /a HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(LIMITS.maxHeaderSize)}\r\n\r\n`, 431],
      [`GET /${"a".repeat(LIMITS.maxHeaderSize)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
      ["BREW /a HTTP/1.1\r\nHost: a\r\n\r\n", 501],
      ["GET /a HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", 417],
      ["POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
    ];
    for (const [sent, status] of cases) {
      assert.deepEqual(verdict(sent, refused(status), []).failures, [], JSON.stringify(sent));
    }
  });

  it("reports a request that must be refused reaching the application", () => {
    const sent = "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    reports(verdict(sent, ok(), [seen("/a")]), /it must be refused \(two Host fields\)/);
  });

  it("reports a refusal with a status other than the reference's", () => {
    const sent = "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    reports(verdict(sent, refused(413), []), /was refused 413, not 400 \(two Host fields\)/);
  });

  it("reports a refusal that is a 5xx other than 501 and 505", () => {
    reports(verdict("GARBAGE\r\n\r\n", refused(500), []), /never saw was answered 500/);
  });

  it("reports a refusal that does not close the connection", () => {
    const v = verdict("GARBAGE\r\n\r\n", refused(400, "keep-alive"), []);
    reports(v, /the refusal \(400\) does not say Connection: close/);
  });

  it("reports an answer after a refusal", () => {
    const v = verdict(`GARBAGE\r\n\r\n${MARKER}`, refused(400) + ok(), []);
    reports(v, /a second answer after a refusal/);
  });

  it("reports a response that is not well-formed HTTP/1.1", () => {
    const v = verdict(GET, "HTTP/1.1 200 OK\r\nNot a field\r\n\r\n", [seen("/a")]);
    reports(v, /^malformed response: bad response field/);
  });

  it("reports a connection the server did not close", () => {
    const v = verdict(GET, ok(), [seen("/a")], { closedByServer: false });
    reports(v, /did not close the connection in time/);
  });

  it("reports a body closed twice, or never", () => {
    reports(verdict(GET, ok(), [seen("/a", "GET", "", 2)]), /request 0's body was closed 2 times/);
    reports(verdict(GET, ok(), [seen("/a", "GET", "", 0)]), /request 0's body was closed 0 times/);
  });

  it("reports a valid pipelined request neither served nor refused", () => {
    const v = verdict(GET + MARKER, ok(), [seen("/a")]);
    reports(v, /request 1, GET \/smuggled-0, was neither served nor refused/);
  });

  it("lets the server close after a response that says so", () => {
    assert.deepEqual(verdict(GET + MARKER, ok("ok", "close"), [seen("/a")]).failures, []);
  });

  it("reports a request the application saw but that was answered an error", () => {
    reports(verdict(GET, refused(500, "keep-alive"), [seen("/a")]), /answered 500/);
  });

  it("reports requests that reached the application without an answer", () => {
    const v = verdict(GET + MARKER, ok(), [seen("/a"), seen("/smuggled-0")]);
    reports(v, /2 requests reached the application, 1 answered/);
  });

  it("reports an unmutated input whose requests were not all served", () => {
    const v = verdict(GET + MARKER, ok("ok", "close"), [seen("/a")], { mutated: false });
    reports(v, /unmutated input: 2 valid requests, 1 served/);
  });
});

/** The failure messages of a campaign, flattened. */
function messages(result: CampaignResult): string[] {
  return result.failures.flatMap((f) => f.failures);
}

describe("runCampaign against broken servers", () => {
  it("flags a server that answers everything 400 on most inputs", async () => {
    const result = await runCampaign({
      seed: "7",
      iterations: 400,
      seconds: 60,
      maxFailures: Number.POSITIVE_INFINITY,
      listen: alwaysRefuse(400),
    });
    const flagged = new Set(result.failures.map((f) => f.n).filter((n) => n >= 0));
    // Every input whose first request the reference frames as one to serve.
    const servable = Array.from({ length: 400 }, (_, n) => n).filter((n) => {
      const first = frame(generate("7", n).segments.join(""), LIMITS).requests[0];
      return first !== undefined && first.refuseWith.length === 0;
    });
    for (const n of servable) assert.ok(flagged.has(n), `input ${n} is flagged`);
    assert.ok(
      flagged.size > result.inputs / 2,
      `flagged on ${flagged.size} of ${result.inputs} inputs`,
    );
    assert.ok(messages(result).some((m) => m.startsWith("wrong refusal: request 0,")));
  });

  it("reports the requests a naive framer serves from bodies (smuggling)", async () => {
    const result = await runCampaign({
      seed: "7",
      iterations: 200,
      seconds: 60,
      maxFailures: Number.POSITIVE_INFINITY,
      listen: naiveFraming({ closeBodies: true }),
    });
    assert.ok(result.smuggled > 0, `smuggled ${result.smuggled}`);
    assert.ok(
      messages(result).some((m) => /the application saw request \d+, GET \/smuggled-/.test(m)),
    );
  });

  it("reports bodies the server never closes", async () => {
    const result = await runCampaign({
      seed: "7",
      iterations: 20,
      seconds: 60,
      maxFailures: Number.POSITIVE_INFINITY,
      listen: naiveFraming({ closeBodies: false }),
    });
    assert.ok(result.leaks > 0);
    assert.ok(messages(result).some((m) => /^\d+ requests, 0 bodies closed$/.test(m)));
    assert.ok(messages(result).some((m) => /body was closed 0 times/.test(m)));
  });

  it("reports connections the server never closes, and failed canaries", async () => {
    const result = await runCampaign({
      seed: "7",
      iterations: 3,
      seconds: 60,
      deadlineMs: 300,
      listen: silent(),
    });
    assert.ok(messages(result).some((m) => /did not close the connection in time/.test(m)));
    assert.ok(messages(result).some((m) => /^canary after input 3: the application saw 0/.test(m)));
  });

  it("reports descriptors left open", {
    skip: process.platform !== "linux" && "needs /proc",
  }, async () => {
    const result = await runCampaign({
      seed: "7",
      iterations: 10,
      seconds: 60,
      listen: leakingFds(),
    });
    assert.ok(result.leaks > 0, `leaks ${result.leaks}`);
    assert.ok(messages(result).some((m) => /^file descriptors \d+ → \d+$/.test(m)));
  });

  it("fails a campaign that ran fewer inputs than its floor", async () => {
    const none = await runCampaign({ seed: "7", iterations: 0, seconds: 60 });
    assert.deepEqual(messages(none), ["0 inputs run, fewer than the floor of 1"]);
    const few = await runCampaign({ seed: "7", iterations: 5, seconds: 60, minInputs: 10 });
    assert.deepEqual(messages(few), ["5 inputs run, fewer than the floor of 10"]);
  });

  it("reports an exception the server lets escape (a crash)", () => {
    // In a process of its own: node:test fails the running test on any uncaught
    // exception, before the campaign could report it.
    const campaign = new URL("../../reliability/net-fuzz/campaign.js", import.meta.url).href;
    const server = new URL("../../src/simple-server.js", import.meta.url).href;
    const script = `
      import { runCampaign, FUZZ_OPTIONS } from ${JSON.stringify(campaign)};
      import { makeServer } from ${JSON.stringify(server)};
      const listen = async (app) => {
        const crashing = (environ, startResponse) => {
          setImmediate(() => { throw new Error("boom from the server"); });
          return app(environ, startResponse);
        };
        const httpd = await makeServer("127.0.0.1", 0, crashing, undefined, undefined, FUZZ_OPTIONS);
        const served = httpd.serveForever();
        return { port: httpd.serverAddress[1], close: async () => { await httpd.serverClose(); await served; } };
      };
      const result = await runCampaign({ seed: "7", iterations: 5, seconds: 30, listen });
      process.stdout.write(JSON.stringify(result.failures.flatMap((f) => f.failures)));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const failures = JSON.parse(child.stdout) as string[];
    assert.ok(
      failures.some((f) => /^crash: Error: boom from the server/.test(f)),
      child.stdout,
    );
  });
});

describe("net-fuzz command", () => {
  const script = fileURLToPath(new URL("../../reliability/net-fuzz.js", import.meta.url));

  it("exits 1 when it ran fewer inputs than --min-inputs", () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-net-fuzz-"));
    try {
      const out = join(dir, "net-fuzz.json");
      const args = ["--iterations", "3", "--seed", "7", "--out", out];
      const run = (extra: string[]) =>
        spawnSync(process.execPath, [script, ...args, ...extra], {
          encoding: "utf8",
          timeout: 60_000,
        });
      const short = run(["--min-inputs", "4"]);
      assert.equal(short.status, 1, short.stdout + short.stderr);
      assert.match(short.stderr, /3 inputs run, fewer than the floor of 4/);
      const enough = run([]);
      assert.equal(enough.status, 0, enough.stdout + enough.stderr);
      assert.equal(JSON.parse(readFileSync(out, "utf8")).rows[0].inputs, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
