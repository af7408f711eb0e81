/**
 * The soak run's verdict (reliability/soak/verdict.ts), fed figures that miss
 * each target on purpose: RSS growth past the limit, a leaked descriptor, a
 * spool file left, unexpected errors of every kind, a dead server, nothing
 * served. Each must be reported as missed, and the figures of a good run as met.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Sample } from "../../reliability/soak/proc-sampler.js";
import type { LoadReport } from "../../reliability/soak/traffic.js";
import {
  type Figures,
  leakCount,
  RSS_GROWTH_LIMIT,
  rssGrowthLimit,
  SHORT_RUN_RSS_GROWTH_LIMIT,
  serverLog,
  targets,
} from "../../reliability/soak/verdict.js";

const MIB = 1024 * 1024;

function load(overrides: Partial<LoadReport> = {}): LoadReport {
  return {
    name: "small GET",
    connections: 50,
    pipelining: 1,
    responses: 10_000,
    ok: 10_000,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    mismatches: 0,
    problems: [],
    bytes: 1_000_000,
    ...overrides,
  };
}

/** One sample a second for `duration` seconds, RSS going from `from` to `to` MiB. */
function samples(duration: number, from: number, to: number): Sample[] {
  return Array.from({ length: duration }, (_, i) => ({
    at: i + 1.01,
    rss: (from + ((to - from) * i) / (duration - 1)) * MIB,
    fds: 30,
    spool: 0,
  }));
}

/** The figures of a 60 s run that meets every target. */
function good(overrides: Partial<Figures> = {}): Figures {
  return {
    duration: 60,
    connections: 100,
    loads: [load(), load({ name: "upload" })],
    warmUp: undefined,
    aborts: { aborted: {} as never, unexpected: 0, problems: [] },
    samples: samples(60, 100, 102),
    fdBaseline: 30,
    fdEnd: 30,
    fdLeftover: [],
    spoolFds: 0,
    tempFiles: [],
    serverLog: [],
    aliveAfter: true,
    exitCode: 0,
    ...overrides,
  };
}

/** The names of the targets `figures` misses. */
function missed(figures: Figures): string[] {
  return targets(figures)
    .filter((t) => !t.ok)
    .map((t) => t.name);
}

describe("soak verdict: targets()", () => {
  it("meets every target with the figures of a good run", () => {
    assert.deepEqual(missed(good()), []);
  });

  it("misses the RSS target when RSS grows past 10% in a 60 s run", () => {
    assert.deepEqual(missed(good({ samples: samples(60, 100, 115) })), ["RSS growth < 10%"]);
    assert.deepEqual(missed(good({ samples: samples(60, 100, 109) })), []);
  });

  it("misses the RSS target of a short run past 25%", () => {
    const short = { duration: 10, warmUp: { seconds: 8, settled: true } };
    assert.deepEqual(missed(good({ ...short, samples: samples(10, 100, 140) })), [
      "RSS growth < 25%",
    ]);
    assert.deepEqual(missed(good({ ...short, samples: samples(10, 100, 110) })), []);
    assert.equal(rssGrowthLimit(10), SHORT_RUN_RSS_GROWTH_LIMIT);
    assert.equal(rssGrowthLimit(60), RSS_GROWTH_LIMIT);
  });

  it("misses the RSS target when there are too few samples to compare", () => {
    assert.deepEqual(missed(good({ samples: samples(1, 100, 100) })), ["RSS growth < 10%"]);
  });

  it("misses the descriptor target when a descriptor is left open", () => {
    const leaked = good({ fdEnd: 31, fdLeftover: ["socket:[123]"] });
    assert.deepEqual(missed(leaked), ["fds back to baseline"]);
    assert.equal(leakCount(leaked), 1);
    assert.deepEqual(missed(good({ fdEnd: undefined })), ["fds back to baseline"]);
  });

  it("misses the spool target when a spool file is left, open or on disk", () => {
    const open = good({ spoolFds: 1 });
    assert.deepEqual(missed(open), ["no spool file left"]);
    const onDisk = good({ tempFiles: ["wsgiref-spool-1234"] });
    assert.deepEqual(missed(onDisk), ["no spool file left"]);
    assert.equal(leakCount(onDisk), 1);
  });

  it("misses the error target on every kind of unexpected error", () => {
    const cases: Array<Partial<Figures>> = [
      { loads: [load({ non2xx: 1 })] },
      { loads: [load({ errors: 1 })] },
      { loads: [load({ errors: 1, timeouts: 1 })] },
      { loads: [load({ mismatches: 1 })] },
      { aborts: { aborted: {} as never, unexpected: 1, problems: ["reset"] } },
      { serverLog: ["TypeError: boom"] },
    ];
    for (const figures of cases) {
      assert.deepEqual(missed(good(figures)), ["unexpected errors"], JSON.stringify(figures));
    }
  });

  it("misses the liveness target when the server died or exited badly", () => {
    assert.deepEqual(missed(good({ aliveAfter: false })), ["server alive, then clean exit"]);
    assert.deepEqual(missed(good({ exitCode: 1 })), ["server alive, then clean exit"]);
    assert.deepEqual(missed(good({ exitCode: "SIGKILL" })), ["server alive, then clean exit"]);
  });

  it("misses the served target when nothing was served", () => {
    assert.deepEqual(missed(good({ loads: [load({ ok: 0, responses: 0 })] })), ["requests served"]);
  });
});

describe("soak verdict: serverLog()", () => {
  it("keeps every line but those about the server's own life", () => {
    const output = [
      "Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...",
      "Worker 1234 listening (1 of 2)",
      "TypeError: boom",
      "    at app (file:///app.js:1:1)",
      "Shutting down on SIGTERM: no new connections; no request in progress",
      "Shut down cleanly",
      "",
    ].join("\n");
    assert.deepEqual(serverLog(output), ["TypeError: boom", "    at app (file:///app.js:1:1)"]);
  });
});
