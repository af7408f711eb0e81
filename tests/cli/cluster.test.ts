/**
 * The primary of `wsgiref serve --workers` (`src/cli/cluster.ts`) when a
 * request crashes the worker that gets it: the worker is replaced every time,
 * with a delay that grows while replacements keep crashing, and the other
 * worker answers meanwhile; only deaths before listening count as failures to
 * start.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { after, describe, it } from "node:test";
import { restartDelay } from "../../src/cli/cluster.js";
import { open, parseResponses } from "../helpers/server-client.js";
import { fetchRaw, serveCli, stopAll, tempDir } from "./cli-process.js";

const app = tempDir({
  "package.json": '{ "type": "module" }',
  // /crash ends the process that gets it; anything else answers with the pid.
  "crash.js": [
    "export function app(environ, startResponse) {",
    '  if (environ.PATH_INFO === "/crash") process.exit(70);',
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return [new TextEncoder().encode(String(process.pid))];",
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

/** GET / on a new connection: the pid of the worker that answered, or an error. */
async function pidOf(port: number): Promise<number> {
  const reply = await fetchRaw(port, "/", { timeout: 20_000 });
  assert.equal(reply.status, 200);
  return Number(reply.body.toString());
}

/** A kept-alive connection and the pid of the worker that holds it. */
interface Held {
  socket: Socket;
  pid: number;
}

/** Open a connection and ask for / on it: the worker that answers keeps the connection. */
async function hold(port: number): Promise<Held> {
  const socket = await open(port);
  socket.on("error", () => undefined);
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  let bytes = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    bytes = Buffer.concat([bytes, chunk]);
    const [response] = bytes.includes("\r\n\r\n") ? parseResponses(bytes) : [];
    if (response?.complete) return { socket, pid: Number(response.body.toString()) };
  }
}

describe("restartDelay", () => {
  it("replaces at once, then backs off from 100 ms, doubling up to 2 s", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 20].map(restartDelay),
      [0, 100, 200, 400, 800, 1600, 2000, 2000],
    );
  });
});

describe("wsgiref serve --workers when a request crashes its worker", () => {
  it("replaces the worker after every crash, the newest first, while the other answers", async () => {
    // The old primary gave up after five workers died in their first second.
    const CRASHES = 6;
    const { child, port } = await serveCli(
      ["serve", "crash.js", "--workers", "2", "--port", "0", "--quiet"],
      { cwd: app.dir },
    );
    pids.add(child.pid);
    let target = await hold(port);
    const live = new Set([target.pid]);
    while (live.size < 2) live.add(await pidOf(port));

    for (let crash = 1; crash <= CRASHES; crash++) {
      // The crash goes to the worker holding the connection: from the second
      // on, the replacement that has just started answering.
      const closed = once(target.socket, "close");
      target.socket.write("GET /crash HTTP/1.1\r\nHost: x\r\n\r\n");
      await closed;
      await child.waitForNth(
        new RegExp(`^wsgiref: worker ${target.pid} exited with code 70; starting a new one$`),
        1,
      );
      live.delete(target.pid);
      assert.equal(live.size, 1, `crash ${crash}: one worker left`);

      // The other worker answers at once; the replacement joins it.
      assert.ok(live.has(await pidOf(port)), `crash ${crash}: the survivor answers`);
      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.ok(Date.now() < deadline, `crash ${crash}: the replacement answers`);
        const next = await hold(port);
        pids.add(next.pid);
        if (!live.has(next.pid)) {
          target = next;
          break;
        }
        next.socket.destroy();
      }
      live.add(target.pid);
    }

    target.socket.destroy();
    assert.doesNotMatch(child.stderr, /giving up/);
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
  });
});
