/**
 * The scenarios of the misbehaving-apps run, each against a `wsgiref serve` of
 * its own: what the app does, what the server must keep doing, and the figures
 * (requests answered during and after, time to recover, worker restarts, memory,
 * processes left).
 */

import { LEAK_BYTES } from "./app.js";
import { type Outcome, Server } from "./server.js";

/** One row of reliability/results/misbehaving-apps.json (reliability/README.md). */
export interface Row {
  name: string;
  kind: "fault";
  requests: number;
  faults: number;
  inputs: null;
  leaks: number;
  detail: string;
}

/** A scenario's row and the targets it missed (none: it passed). */
export interface Result {
  row: Row;
  problems: string[];
}

/** How much of each misbehaviour a run does. */
export interface Sizes {
  /** Stray errors of each kind (rejection, failing fetch, throwing timer), alone and in workers. */
  strays: number;
  /** Times a worker is stuck in a loop. */
  stuck: number;
  /** --worker-timeout for the stuck worker (ms). */
  workerTimeout: number;
  /** Requests that each crash the worker they reach, one at a time. */
  crashes: number;
  /** Crash requests sent back to back. */
  burst: number;
  /** Requests that each leak LEAK_BYTES. */
  leaks: number;
  /** --max-worker-memory (bytes). */
  maxWorkerMemory: number;
  /** Requests through --max-requests recycling, and the flag's value. */
  recycled: number;
  maxRequests: number;
  /** The certificate's flags when the run is over TLS (`--tls`); none in clear text. */
  tls?: readonly string[];
}

export const LONG: Sizes = {
  strays: 100,
  stuck: 5,
  workerTimeout: 2000,
  crashes: 100,
  burst: 20,
  leaks: 200,
  maxWorkerMemory: 256 * 1024 * 1024,
  recycled: 2000,
  maxRequests: 100,
};

export const SHORT: Sizes = {
  // Under the 20 a window the log takes in full: no wait for the count.
  strays: 6,
  stuck: 1,
  workerTimeout: 1000,
  crashes: 5,
  burst: 5,
  leaks: 20,
  maxWorkerMemory: 128 * 1024 * 1024,
  recycled: 400,
  maxRequests: 10,
};

const MiB = 1024 * 1024;
const DEATH = /^wsgiref: worker (\d+) (?:exited with code \d+|was killed by \w+)(?:;| while)/;

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Failures by reason: `ECONNRESET ×2, HUNG ×1`. */
function reasons(failures: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.error ?? "?", (counts.get(f.error ?? "?") ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${reason} ×${n}`).join(", ") || "none";
}

/** Stop `server` and turn an exit other than 0, or a process left behind, into problems. */
async function finish(server: Server, problems: string[]): Promise<{ left: number; end: string }> {
  const { code, left } = await server.stop();
  if (code !== 0) problems.push(`exit ${code} on SIGTERM`);
  if (left.length > 0) problems.push(`${left.length} processes left after the primary exited`);
  return { left: left.length, end: `exit ${code} on SIGTERM, ${left.length} processes left` };
}

/**
 * Ask for / until a pid outside `known` answers (a replacement): that pid, or
 * undefined after `timeoutMs`, and how many requests were answered meanwhile.
 */
async function untilNewPid(
  server: Server,
  known: ReadonlySet<number>,
  timeoutMs: number,
): Promise<{ pid: number | undefined; answered: number }> {
  const deadline = Date.now() + timeoutMs;
  let answered = 0;
  while (Date.now() < deadline) {
    const o = await server.get("/", 5000);
    if (o.pid !== undefined) answered += 1;
    if (o.pid !== undefined && !known.has(o.pid)) return { pid: o.pid, answered };
    if (o.pid === undefined) await sleep(10);
  }
  return { pid: undefined, answered };
}

/**
 * Rejections no one handles (in a timer, and a fire-and-forget fetch() that
 * fails) and exceptions thrown from timers: every one logged or counted, never
 * a death, and a normal request after each answered.
 */
export async function strayErrors(sizes: Sizes, workers: boolean): Promise<Result> {
  const server = await Server.start(workers ? ["--workers", "2"] : [], sizes.tls);
  const problems: string[] = [];
  const rssBefore = server.largestRss();
  const failures: Outcome[] = [];
  let normals = 0;
  let answered = 0;
  let slowest = 0;
  for (let i = 0; i < sizes.strays; i++) {
    for (const path of ["/reject", "/fetch", "/throw"]) {
      const fault = await server.get(path, 10_000);
      if (fault.pid === undefined) failures.push(fault);
      const normal = await server.get("/", 10_000);
      normals += 1;
      if (normal.pid === undefined) {
        failures.push(normal);
      } else {
        answered += 1;
        slowest = Math.max(slowest, normal.ms);
      }
    }
  }
  const faults = 3 * sizes.strays;
  // Past the rate limit, the count comes when the 10 s window ends.
  const accounted = (): number =>
    server.count(/logged; still serving/) +
    [...server.process.output().matchAll(/^wsgiref: (\d+) more errors? outside requests/gm)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  const deadline = Date.now() + 15_000;
  while (accounted() < faults && Date.now() < deadline) await sleep(50);
  const logged = server.count(/logged; still serving/);
  const rssAfter = server.largestRss();
  const deaths = server.count(DEATH);
  if (failures.length > 0)
    problems.push(`${failures.length} requests failed: ${reasons(failures)}`);
  if (accounted() !== faults) problems.push(`${accounted()} of ${faults} errors logged or counted`);
  if (deaths > 0) problems.push(`${deaths} workers died`);
  if (server.process.output().includes("data:")) problems.push("a data: URL in the log");
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `stray rejections and throwing timers, ${workers ? "--workers 2" : "one process"}`,
      kind: "fault",
      requests: 2 * faults - failures.length,
      faults,
      inputs: null,
      leaks: left,
      detail:
        `${faults} errors outside requests (${sizes.strays} each: a rejection in a timer, a failing ` +
        `fetch(), a throw in a timer); ${answered} of ${normals} requests after them answered (slowest ${slowest.toFixed(0)} ms); ${logged} logged ` +
        `with their stack, ${accounted() - logged} counted past the rate limit; ${deaths} deaths; ` +
        `largest process RSS ${mib(rssBefore)} → ${mib(rssAfter)}; ${end}`,
    },
    problems,
  };
}

/**
 * A worker stuck in `for (;;);`: the watchdog kills it after --worker-timeout
 * and a replacement answers, while four clients keep asking the other worker.
 */
export async function stuckWorker(sizes: Sizes): Promise<Result> {
  const timeout = sizes.workerTimeout;
  const server = await Server.start(
    ["--workers", "2", "--worker-timeout", String(timeout)],
    sizes.tls,
  );
  const problems: string[] = [];
  const killTimes: number[] = [];
  const recoveries: number[] = [];
  const failures: Outcome[] = [];
  let sent = 0;
  let served = 0;
  for (let round = 1; round <= sizes.stuck; round++) {
    const target = await server.hold();
    // The workers before: the replacement is the one not among them (it may be
    // forked before the kill is seen here).
    const before = new Set(server.workers());
    const started = Date.now();
    let killedAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const late: Outcome[] = [];
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const at = Date.now();
        const o = await server.get("/", 3 * timeout);
        sent += 1;
        if (o.pid === undefined) {
          failures.push(o);
          // Lost after the kill: the replacement should have had it.
          if (at > killedAt + 100) late.push(o);
        }
        await sleep(20);
      }
    });
    target.socket.write("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n");
    if (!(await server.waitForCount(/sent no heartbeat/, round, timeout + 10_000))) {
      problems.push(`round ${round}: the stuck worker was not killed`);
      stop = true;
      await Promise.all(clients);
      break;
    }
    killedAt = Date.now();
    killTimes.push(killedAt - started);
    const replacement = await untilNewPid(server, before, 30_000);
    served += replacement.answered;
    if (replacement.pid === undefined) problems.push(`round ${round}: no replacement answered`);
    recoveries.push(Date.now() - started);
    stop = true;
    await Promise.all(clients);
    target.socket.destroy();
    if (late.length > 0)
      problems.push(`round ${round}: ${late.length} requests lost after the kill`);
  }
  const restarts = server.count(/was killed by SIGKILL; starting a new one/);
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `worker stuck in a loop, --worker-timeout ${timeout}`,
      kind: "fault",
      requests: served + sent - failures.length,
      faults: killTimes.length,
      inputs: null,
      leaks: left,
      detail:
        `${sizes.stuck} stuck in for (;;), killed after ${killTimes.map(seconds).join(", ")}; ` +
        `a replacement answering ${recoveries.map(seconds).join(", ")} after the stuck request; ` +
        `restarts: ${restarts}; 4 clients meanwhile: ${sent - failures.length} of ${sent} answered, ` +
        `lost: ${reasons(failures)} (node:cluster had handed the stuck worker a connection it ` +
        `never took; none lost after the kill); ${end}`,
    },
    problems,
  };
}

/**
 * A request that crashes the worker it reaches (process.exit), one at a time:
 * after each, the other worker answers at once, and the crashed one is
 * replaced; the primary never gives up.
 */
export async function crashLoop(sizes: Sizes): Promise<Result> {
  const server = await Server.start(["--workers", "2"], sizes.tls);
  const problems: string[] = [];
  const live = new Set<number>();
  while (live.size < 2) {
    const o = await server.get("/", 5000);
    if (o.pid !== undefined) live.add(o.pid);
  }
  const recoveries: number[] = [];
  const failures: Outcome[] = [];
  let answeredAfter = 0;
  let served = 0;
  const started = Date.now();
  for (let crash = 1; crash <= sizes.crashes; crash++) {
    const t0 = Date.now();
    await server.get("/crash", 10_000);
    const pattern = /^wsgiref: worker (\d+) exited with code 70; starting a new one$/gm;
    if (!(await server.waitForCount(pattern, crash, 30_000))) {
      problems.push(`crash ${crash}: no worker death logged`);
      break;
    }
    const dead = Number([...server.process.output().matchAll(pattern)][crash - 1]?.[1]);
    live.delete(dead);
    const after = await server.get("/", 10_000);
    if (after.pid === undefined) failures.push(after);
    else answeredAfter += 1;
    const replacement = await untilNewPid(server, new Set([...live, dead]), 30_000);
    served += replacement.answered;
    if (replacement.pid === undefined) {
      problems.push(`crash ${crash}: no replacement answered`);
      break;
    }
    live.add(replacement.pid);
    recoveries.push(Date.now() - t0);
  }
  const total = Date.now() - started;
  const restarts = server.count(/starting a new one/);
  if (answeredAfter !== sizes.crashes) {
    problems.push(
      `${sizes.crashes - answeredAfter} requests after a crash failed: ${reasons(failures)}`,
    );
  }
  if (server.count(/giving up/) > 0) problems.push("the primary gave up");
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `a request that crashes its worker, ${sizes.crashes} times (--workers 2)`,
      kind: "fault",
      requests: answeredAfter + served,
      faults: recoveries.length,
      inputs: null,
      leaks: left,
      detail:
        `${answeredAfter} of ${sizes.crashes} requests sent right after a crash answered at once by ` +
        `the other worker; ${restarts} replacements, the service whole again (a new worker answering) ` +
        `${seconds(median(recoveries))} after a crash at the median, ${seconds(Math.max(0, ...recoveries))} ` +
        `at most (the backoff: at once after a worker that served 1 s, else 0.1 s doubling to 2 s); ` +
        `${seconds(total)} in all; the primary never gave up; ${end}`,
    },
    problems,
  };
}

/**
 * Crash requests back to back, faster than workers restart, while four clients
 * poll: what is lost while no worker is left (node:cluster closes the shared
 * socket with its last worker), and how long until both workers answer again.
 */
export async function crashBurst(sizes: Sizes): Promise<Result> {
  const server = await Server.start(["--workers", "2"], sizes.tls);
  const problems: string[] = [];
  const answers: number[] = [];
  const failures: Outcome[] = [];
  let stop = false;
  let sent = 0;
  const started = Date.now();
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      // A short wait: a connection handed to a dying worker is never answered.
      const o = await server.get("/", 1000);
      sent += 1;
      if (o.pid === undefined) failures.push(o);
      else answers.push(Date.now());
      await sleep(10);
    }
  });
  for (let i = 0; i < sizes.burst; i++) await server.get("/crash", 1000);
  const burstEnd = Date.now();
  // Whole again: two workers answer.
  const back = new Set<number>();
  const deadline = Date.now() + 60_000;
  while (back.size < 2 && Date.now() < deadline) {
    const o = await server.get("/", 1000);
    if (o.pid !== undefined) back.add(o.pid);
    else await sleep(10);
  }
  const recovered = Date.now();
  stop = true;
  await Promise.all(clients);
  if (back.size < 2) problems.push("two workers did not answer again within 60 s");
  if (server.count(/giving up/) > 0) problems.push("the primary gave up");
  const deaths = server.count(DEATH);
  let gap = 0;
  let last = started;
  for (const at of [...answers, recovered].sort((a, b) => a - b)) {
    gap = Math.max(gap, at - last);
    last = at;
  }
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `${sizes.burst} crash requests back to back (--workers 2)`,
      kind: "fault",
      requests: sent - failures.length,
      faults: deaths,
      inputs: null,
      leaks: left,
      detail:
        `${sizes.burst} crash requests sent in ${seconds(burstEnd - started)} killed ${deaths} ` +
        `workers (the rest found none); 4 clients meanwhile: ${sent - failures.length} of ${sent} ` +
        `answered, failed: ${reasons(failures)} (refused while every worker is down: node:cluster ` +
        `closes the shared socket with its last worker; HUNG: handed to a worker as it died); ` +
        `longest time without an answer ${seconds(gap)}; both workers answering again ` +
        `${seconds(recovered - burstEnd)} after the burst; ${end}`,
    },
    problems,
  };
}

/**
 * A worker that leaks on every request: with --max-worker-memory it retires
 * (a new one first) and no request is lost.
 */
export async function leakingWorker(sizes: Sizes): Promise<Result> {
  const limit = sizes.maxWorkerMemory;
  const server = await Server.start(
    ["--workers", "2", "--max-worker-memory", String(limit)],
    sizes.tls,
  );
  const problems: string[] = [];
  let peak = server.largestRss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.largestRss());
  }, 50);
  const failures: Outcome[] = [];
  for (let i = 0; i < sizes.leaks; i++) {
    for (const path of ["/leak", "/"]) {
      const o = await server.get(path, 10_000);
      if (o.pid === undefined) failures.push(o);
    }
  }
  clearInterval(sampler);
  const retired = server.count(/retires \(resident set/);
  if (failures.length > 0)
    problems.push(`${failures.length} requests failed: ${reasons(failures)}`);
  if (retired === 0) problems.push("no worker retired");
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `worker leaking ${mib(LEAK_BYTES)} a request, --max-worker-memory ${mib(limit)}`,
      kind: "fault",
      requests: 2 * sizes.leaks - failures.length,
      faults: retired,
      inputs: null,
      leaks: left,
      detail:
        `${sizes.leaks} leaking requests (${mib(sizes.leaks * LEAK_BYTES)} kept in all) among as many ` +
        `plain ones: ${2 * sizes.leaks - failures.length} of ${2 * sizes.leaks} answered; retirements: ` +
        `${retired}; the largest process peaked at ${mib(peak)} (a worker reads its memory every ` +
        `250 ms and keeps what it has while it drains); ${end}`,
    },
    problems,
  };
}

/** --max-requests under load from eight clients: workers retire, no request is lost. */
export async function recycling(sizes: Sizes): Promise<Result> {
  const n = sizes.maxRequests;
  const jitter = Math.round(n / 5);
  const server = await Server.start(
    ["--workers", "2", "--max-requests", String(n), "--max-requests-jitter", String(jitter)],
    sizes.tls,
  );
  const problems: string[] = [];
  const failures: Outcome[] = [];
  const pids = new Set<number>();
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < sizes.recycled) {
        next += 1;
        const o = await server.get("/", 10_000);
        if (o.pid === undefined) failures.push(o);
        else pids.add(o.pid);
      }
    }),
  );
  const took = Date.now() - started;
  const retired = server.count(/retires \(served \d+ requests?\)/);
  const deaths = server.count(DEATH);
  if (failures.length > 0) problems.push(`${failures.length} requests lost: ${reasons(failures)}`);
  if (deaths > 0) problems.push(`${deaths} workers did not exit cleanly`);
  const { left, end } = await finish(server, problems);
  return {
    row: {
      name: `--max-requests ${n} --max-requests-jitter ${jitter} under load (--workers 2)`,
      kind: "fault",
      requests: sizes.recycled - failures.length,
      faults: retired,
      inputs: null,
      leaks: left,
      detail:
        `${sizes.recycled} requests from 8 clients, each on a new connection, in ${seconds(took)}: ` +
        `${sizes.recycled - failures.length} answered, lost: ${reasons(failures)}; retirements: ` +
        `${retired}, workers that answered: ${pids.size}; unclean exits: ${deaths}; ${end}`,
    },
    problems,
  };
}
