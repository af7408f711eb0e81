/**
 * The flags of `WorkerPolicy` on `wsgiref serve --workers`, with real requests:
 * a worker retires after `--max-requests` or past `--max-worker-memory` without
 * losing one, one stuck in a loop is killed by the watchdog and replaced, and
 * one that will not drain is killed after `--graceful-timeout`.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { usageError } from "../../src/cli/cli-error.js";
import { DEFAULT_POLICY, WORKER_FLAGS, workerPolicy } from "../../src/cli/worker-policy.js";
import { collect, open } from "../helpers/server-client.js";
import { type Child, fetchRaw, runCli, serveCli, stopAll, tempDir } from "./cli-process.js";

const MiB = 1024 * 1024;

const app = tempDir({
  "package.json": '{ "type": "module" }',
  "apps.js": [
    "const kept = [];",
    "const text = (s) => new TextEncoder().encode(s);",
    "export function app(environ, startResponse) {",
    "  const path = environ.PATH_INFO;",
    '  if (path === "/spin") for (;;);',
    // 16 MiB that stay: a leak.
    '  if (path === "/leak") kept.push(new Uint8Array(16 * 1024 * 1024).fill(1));',
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    '  if (path === "/hang") return (async function* () { yield text("first"); await new Promise(() => {}); })();',
    "  return [text(String(process.pid))];",
    "}",
    "",
  ].join("\n"),
});

const pids = new Set<number>();
after(async () => {
  try {
    await stopAll(pids);
  } finally {
    app.rm();
  }
});

/**
 * GET `path` on a new connection and return the answering pid; a failure
 * names the request and shows the server's log so far.
 */
async function pidOf(child: Child, port: number, path = "/"): Promise<number> {
  const reply = await fetchRaw(port, path, { timeout: 20_000 }).catch((err: Error) => {
    throw new Error(`GET ${path}: ${err.message}; the server's log:\n${child.stderr}`);
  });
  assert.equal(reply.status, 200, `${path}: ${reply.status}`);
  const pid = Number(reply.body.toString());
  pids.add(pid);
  return pid;
}

describe("workerPolicy", () => {
  const reader = (values: Record<string, number>) => (name: string) => values[name];

  it("reads each flag into its field, over the defaults", () => {
    const policy = workerPolicy(
      reader({ "max-requests": 1000, "max-requests-jitter": 50, "worker-timeout": 0 }),
      2,
    );
    assert.deepEqual(policy, {
      ...DEFAULT_POLICY,
      maxRequests: 1000,
      maxRequestsJitter: 50,
      workerTimeout: 0,
    });
    assert.deepEqual(workerPolicy(reader({}), undefined), DEFAULT_POLICY);
  });

  it("refuses the flags without --workers", () => {
    assert.throws(
      () => workerPolicy(reader({ "max-worker-memory": 1 }), undefined),
      usageError("--max-worker-memory needs --workers"),
    );
  });

  it("are listed in serve --help, and refused there without --workers", async () => {
    const { stdout } = await runCli(["serve", "--help"]);
    for (const flag of Object.keys(WORKER_FLAGS)) assert.match(stdout, new RegExp(`  --${flag} `));
    const outcome = await runCli(["serve", "--max-requests", "10", "--port", "0"]);
    assert.equal(outcome.code, 2);
    assert.equal(outcome.stderr, "wsgiref: --max-requests needs --workers\n");
    const bad = await runCli(["serve", "--workers", "2", "--worker-timeout", "1s"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "wsgiref: --worker-timeout must be an integer of at least 0: '1s'\n");
  });
});

describe("wsgiref serve --workers with a worker policy", { concurrency: 4 }, () => {
  it("--max-requests: retires workers under load without losing a request", async () => {
    const { child, port } = await serveCli(
      ["serve", "apps.js", "--workers", "2", "--max-requests", "5", "--port", "0", "--quiet"],
      { cwd: app.dir },
    );
    pids.add(child.pid);
    const RETIRES = /^wsgiref: worker \d+ retires \(served 5 requests\); starting a new one$/gm;
    const retired = (): number => child.stderr.match(RETIRES)?.length ?? 0;
    const answered = new Set<number>();
    const failures: unknown[] = [];
    let served = 0;
    // Four clients, each request on a new connection, until three generations
    // of workers have retired.
    const deadline = Date.now() + 30_000;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (retired() < 6 && Date.now() < deadline) {
          try {
            answered.add(await pidOf(child, port));
            served += 1;
          } catch (err) {
            failures.push(err);
          }
        }
      }),
    );
    assert.deepEqual(failures, [], `every one of ${served} requests answered`);
    assert.ok(retired() >= 6, `six workers retired: ${child.stderr}`);
    assert.ok(answered.size >= 6, `answered by ${answered.size} workers`);
    assert.doesNotMatch(
      child.stderr,
      /exited with code|killed/,
      "every retiring worker exits cleanly",
    );
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("--worker-timeout: kills a worker stuck in a loop, and the replacement answers", async () => {
    const { child, port } = await serveCli(
      ["serve", "apps.js", "--workers", "2", "--worker-timeout", "1000", "--port", "0", "--quiet"],
      { cwd: app.dir },
    );
    pids.add(child.pid);
    // A kept-alive connection stays with its worker: learn which, then make it spin.
    const spinning = await open(port);
    const spun = collect(spinning);
    spinning.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const [first] = (await once(spinning, "data")) as [Buffer];
    const stuck = Number(first.toString("latin1").split("\r\n\r\n")[1]);
    spinning.write("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n");
    await child.waitFor(
      new RegExp(
        `^wsgiref: worker ${stuck} sent no heartbeat for 1000 ms \\(its event loop is blocked\\); killing it$`,
      ),
    );
    await child.waitFor(
      new RegExp(`^wsgiref: worker ${stuck} was killed by SIGKILL; starting a new one$`),
    );
    assert.equal((await spun).length, first.length, "the stuck request gets no answer");

    const after = new Set<number>();
    const deadline = Date.now() + 10_000;
    while (after.size < 2 && Date.now() < deadline) after.add(await pidOf(child, port));
    assert.equal(after.size, 2, `the survivor and the replacement answer: ${child.stderr}`);
    assert.ok(!after.has(stuck));
    assert.equal(child.stderr.match(/killing it/g)?.length, 1, child.stderr);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("--max-worker-memory: retires a leaking worker, and requests keep being answered", async () => {
    const { child, port } = await serveCli(
      [
        "serve",
        "apps.js",
        "--workers",
        "1",
        "--max-worker-memory",
        String(160 * MiB),
        "--worker-timeout",
        "2000",
        "--port",
        "0",
        "--quiet",
      ],
      { cwd: app.dir },
    );
    pids.add(child.pid);
    const leaker = await pidOf(child, port);
    const retired = child.waitFor(
      new RegExp(
        `^wsgiref: worker ${leaker} retires \\(resident set [\\d.]+ MiB over --max-worker-memory 160.0 MiB\\); starting a new one$`,
      ),
    );
    // 16 MiB a request until the worker retires (at most 20: 320 MiB).
    let settled = false;
    void retired.then(() => {
      settled = true;
    });
    for (let i = 0; i < 20 && !settled; i++) await pidOf(child, port, "/leak");
    await retired;
    let pid = leaker;
    const deadline = Date.now() + 10_000;
    while (pid === leaker && Date.now() < deadline) pid = await pidOf(child, port);
    assert.notEqual(pid, leaker, "a new worker answers");
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.doesNotMatch(outcome.stderr, /exited with code|killed/);
  });

  it("--graceful-timeout: kills a retiring worker that does not finish in time", async () => {
    const { child, port } = await serveCli(
      [
        "serve",
        "apps.js",
        "--workers",
        "1",
        "--max-requests",
        "1",
        "--graceful-timeout",
        "300",
        "--port",
        "0",
        "--quiet",
      ],
      { cwd: app.dir },
    );
    pids.add(child.pid);
    const hanging = await open(port);
    const received = collect(hanging);
    hanging.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
    const [, old] = (await child.waitFor(
      /^wsgiref: worker (\d+) retires \(served 1 request\); starting a new one$/,
    )) as unknown as [string, string];
    await child.waitFor(
      new RegExp(`^wsgiref: worker ${old} still running 300 ms after SIGTERM; killing it$`),
    );
    await child.waitFor(
      new RegExp(`^wsgiref: worker ${old} was killed by SIGKILL while retiring$`),
    );
    assert.match((await received).toString("latin1"), /^HTTP\/1\.1 200 OK\r\n[\s\S]*first/);
    assert.notEqual(await pidOf(child, port), Number(old));
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });
});
