/**
 * `WorkerHealth`, in process: the worker's request count with its jitter, the
 * heartbeat, the memory check, and retiring once.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BeatMessage,
  beatInterval,
  isBeat,
  isRetire,
  type RetireMessage,
  WorkerHealth,
} from "../../src/cli/worker-health.js";
import { DEFAULT_POLICY, type WorkerPolicy } from "../../src/cli/worker-policy.js";
import type { WSGIApplication } from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";

const app: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", []);
  return [];
};

/** Call `wrapped` with a testing environ. */
function call(wrapped: WSGIApplication): void {
  const environ = {};
  setupTestingDefaults(environ);
  wrapped(environ, () => () => undefined);
}

function health(
  policy: Partial<WorkerPolicy>,
  options: { rss?: () => number; random?: () => number } = {},
) {
  const sent: Array<BeatMessage | RetireMessage> = [];
  const h = new WorkerHealth(
    { ...DEFAULT_POLICY, ...policy },
    { send: (m) => sent.push(m), ...options },
  );
  return { h, sent };
}

describe("WorkerHealth", () => {
  it("asks to retire once, on the request that reaches maxRequests", () => {
    const { h, sent } = health({ maxRequests: 3 });
    const wrapped = h.wrap(app);
    for (let i = 0; i < 5; i++) call(wrapped);
    assert.equal(h.served, 5);
    assert.deepEqual(sent, [{ wsgirefRetire: "served 3 requests" }]);
    assert.equal(h.retiring, true);
  });

  it("adds a jitter from 0 to maxRequestsJitter", () => {
    assert.equal(
      health({ maxRequests: 10, maxRequestsJitter: 4 }, { random: () => 0 }).h.maxRequests,
      10,
    );
    assert.equal(
      health({ maxRequests: 10, maxRequestsJitter: 4 }, { random: () => 0.999 }).h.maxRequests,
      14,
    );
    assert.equal(health({ maxRequests: 0, maxRequestsJitter: 4 }).h.maxRequests, 0);
  });

  it("never retires for requests when maxRequests is 0", () => {
    const { h, sent } = health({ maxRequests: 0 });
    const wrapped = h.wrap(app);
    for (let i = 0; i < 100; i++) call(wrapped);
    assert.deepEqual(sent, []);
  });

  it("beats on each tick while workerTimeout is set", () => {
    const { h, sent } = health({ workerTimeout: 1000 });
    h.tick();
    h.tick();
    assert.deepEqual(sent, [{ wsgirefBeat: true }, { wsgirefBeat: true }]);
    assert.deepEqual(health({ workerTimeout: 0 }).sent, []);
  });

  it("retires once its resident set passes maxWorkerMemory", () => {
    let rss = 90 * 1024 * 1024;
    const { h, sent } = health(
      { workerTimeout: 0, maxWorkerMemory: 100 * 1024 * 1024 },
      { rss: () => rss },
    );
    h.tick();
    assert.deepEqual(sent, []);
    rss = 150 * 1024 * 1024;
    h.tick();
    h.tick();
    assert.deepEqual(sent, [
      { wsgirefRetire: "resident set 150.0 MiB over --max-worker-memory 100.0 MiB" },
    ]);
  });

  it("beats four times a watchdog period or more, at most 250 ms apart", () => {
    assert.equal(beatInterval({ ...DEFAULT_POLICY, workerTimeout: 30_000 }), 250);
    assert.equal(beatInterval({ ...DEFAULT_POLICY, workerTimeout: 400 }), 100);
    assert.equal(beatInterval({ ...DEFAULT_POLICY, workerTimeout: 0 }), 250);
  });

  it("tells its messages apart", () => {
    assert.ok(isBeat({ wsgirefBeat: true }));
    assert.ok(isRetire({ wsgirefRetire: "x" }));
    assert.ok(!isBeat({ wsgirefRetire: "x" }));
    assert.ok(!isRetire(null));
    assert.ok(!isBeat("wsgirefBeat"));
  });
});
