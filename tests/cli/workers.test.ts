/**
 * `wsgiref serve --workers N`: several processes answer on one port, a killed
 * worker is replaced while the others keep serving, and SIGTERM drains them all.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { collect, open, parseResponses, request } from "../helpers/server-client.js";
import { Child, CLI, fetchRaw, serveCli, stopAll, tempDir } from "./cli-process.js";

const app = tempDir({
  "package.json": '{ "type": "module" }',
  // Reports which process answered; says on stderr when a process has loaded it.
  "pid.js": [
    'console.error("app loaded in " + process.pid);',
    "export function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    '  return [new TextEncoder().encode(process.pid + " " + environ["wsgi.multiprocess"])];',
    "}",
    "",
  ].join("\n"),
  // Dies while loading, before its worker can listen.
  "dies.js": "process.exit(3);\n",
  // Sends a first chunk, then waits for its process to get SIGTERM before the last.
  "until-term.js": [
    "let terminated = false;",
    "const waiting = [];",
    'process.on("SIGTERM", () => {',
    "  terminated = true;",
    "  for (const wake of waiting.splice(0)) wake();",
    "});",
    "export function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return (async function* () {",
    '    yield new TextEncoder().encode("before\\n");',
    "    if (!terminated) await new Promise((wake) => waiting.push(wake));",
    '    yield new TextEncoder().encode("after SIGTERM\\n");',
    "  })();",
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

/** Ask for `/` on a new connection; return the answering pid and its wsgi.multiprocess. */
async function whoAnswers(port: number): Promise<[number, string]> {
  const reply = await fetchRaw(port, "/");
  assert.equal(reply.status, 200);
  const [pid, multiprocess] = reply.body.toString().split(" ");
  return [Number(pid), multiprocess ?? ""];
}

describe("wsgiref serve --workers", () => {
  it("spreads requests over workers, replaces a killed one, and drains on SIGTERM", async () => {
    const { child, host, port } = await serveCli(
      ["serve", "pid.js", "--workers", "2", "--port", "0", "--quiet"],
      {
        cwd: app.dir,
      },
    );
    assert.equal(host, "127.0.0.1");
    assert.notEqual(port, 0);
    assert.equal(
      child.stdout.match(/Serving HTTP/g)?.length,
      1,
      "one serving line, from the primary",
    );

    // Round-robin hands each new connection to the next worker.
    for (let i = 0; i < 20 && pids.size < 2; i++) {
      const [pid, multiprocess] = await whoAnswers(port);
      assert.equal(multiprocess, "true");
      pids.add(pid);
    }
    assert.equal(pids.size, 2);
    assert.ok(!pids.has(child.pid), "workers are not the primary");

    const [victim, survivor] = [...pids] as [number, number];
    process.kill(victim, "SIGKILL");
    await child.waitFor(
      new RegExp(`^wsgiref: worker ${victim} was killed by SIGKILL; starting a new one$`),
    );
    const loaded = await child.waitFor(
      new RegExp(`^app loaded in (?!(?:${victim}|${survivor})$)(\\d+)$`),
    );
    const replacement = Number(loaded[1]);
    pids.add(replacement);

    // Requests keep working while the replacement starts, until it joins in.
    const seen = new Set<number>();
    const deadline = Date.now() + 10_000;
    while (!seen.has(replacement) && Date.now() < deadline) {
      const [pid] = await whoAnswers(port);
      assert.notEqual(pid, victim);
      seen.add(pid);
    }
    assert.ok(seen.has(replacement), `the new worker ${replacement} answers`);

    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, `worker ${pid} has exited`);
    }
  });

  it("exits 0 on SIGINT", async () => {
    const { child, port } = await serveCli(
      ["serve", "pid.js", "--workers", "2", "--port", "0", "--quiet"],
      { cwd: app.dir },
    );
    const [pid] = await whoAnswers(port);
    pids.add(pid);
    child.process.kill("SIGINT");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, `worker ${pid} has exited`);
  });

  it("finishes a response in flight during SIGTERM before exiting", async () => {
    const { child, port } = await serveCli(
      ["serve", "until-term.js", "--workers", "2", "--port", "0", "--quiet"],
      { cwd: app.dir },
    );
    const socket = await open(port);
    const received = collect(socket);
    socket.write(request("GET", "/", ["Connection: close"]));
    // The first chunk is out: the application now waits for SIGTERM to finish.
    await once(socket, "data");
    child.process.kill("SIGTERM");
    const [response, extra] = parseResponses(await received);
    assert.equal(response?.status, 200);
    assert.equal(response?.complete, true, "the terminating chunk came");
    assert.equal(response?.body.toString(), "before\nafter SIGTERM\n");
    assert.equal(extra, undefined);
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
  });

  it("gives up when workers keep dying at startup", async () => {
    const child = new Child([CLI, "serve", "dies.js", "--workers", "2", "--port", "0"], {
      cwd: app.dir,
    });
    const outcome = await child.outcome;
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, "");
    const lines = outcome.stderr.trimEnd().split("\n");
    assert.match(
      lines.at(-1) ?? "",
      /^wsgiref: worker \d+ exited with code 3, the 5th in a row to die at startup; giving up$/,
    );
    assert.equal(lines.length, 5, "each death is logged, then the give-up");
    for (const line of lines.slice(0, -1)) {
      assert.match(line, /^wsgiref: worker \d+ exited with code 3; starting a new one$/);
    }
  });
});
