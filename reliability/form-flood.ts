/**
 * A hostile form (issue 13, finding 5): one client streams a 1 GiB
 * `multipart/form-data` POST, generated as it is sent, to a `handlerApp` under
 * `wsgiref serve`, while a normal client asks `GET /ping` every 100 ms. The
 * flooding client is a process of its own (this script with `--flood-port`), so
 * its work does not delay the normal client's. The server's VmRSS is read from
 * /proc every 100 ms.
 *
 *   node build/reliability/form-flood.js [--mib 1024] [--no-write]
 *
 * Reports the server's RSS growth at its peak over its idle baseline (target:
 * < 64 MiB), the normal client's latencies during the flood, how long the
 * upload took, and the descriptors left open after it; writes
 * reliability/results/form-flood.json (unless `--no-write`). Exits 1 when a
 * target is missed: RSS growth >= 64 MiB, a ping not answered 200, the upload
 * not parsed whole (its file a DiskFilePart of the size sent), or descriptors
 * left open.
 */

import { Buffer } from "node:buffer";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { killAll, type Started, start, stop } from "../bench/lib/proc.js";
import { statusKiB } from "../bench/lib/rss.js";

const RESULTS = fileURLToPath(
  new URL("../../reliability/results/form-flood.json", import.meta.url),
);
const BIN = fileURLToPath(new URL("../../bin/wsgiref.js", import.meta.url));
const APP = fileURLToPath(new URL("./form-flood-app.js", import.meta.url));
const MiB = 1024 * 1024;
const BOUNDARY = "----form-flood-boundary";
const RSS_TARGET = 64 * MiB;

/** One `GET /ping` on a connection of its own: status and milliseconds. */
function ping(port: number): Promise<{ status: number; ms: number }> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/ping", agent: false, timeout: 30_000 },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - began }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("ping timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Stream a form of a field and one `size`-byte file; resolves to the answer. */
async function flood(port: number, size: number): Promise<{ status: number; body: string }> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nflood\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="flood.bin"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const req = request({
    host: "127.0.0.1",
    port,
    path: "/upload",
    method: "POST",
    agent: false,
    headers: {
      "Content-Type": `multipart/form-data; boundary=${BOUNDARY}`,
      "Content-Length": String(head.length + size + tail.length),
    },
  });
  const answered = once(req, "response") as Promise<[IncomingMessage]>;
  req.write(head);
  const block = Buffer.alloc(MiB);
  for (let sent = 0; sent < size; sent += MiB) {
    block.fill(sent / MiB);
    if (!req.write(Buffer.from(block.subarray(0, Math.min(MiB, size - sent))))) {
      await once(req, "drain");
    }
  }
  req.end(tail);
  const [res] = await answered;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** Run the flood in a process of its own; resolves to its answer once it has exited. */
async function floodProcess(port: number, mib: number): Promise<{ status: number; body: string }> {
  const script = fileURLToPath(import.meta.url);
  const child: Started = start(process.execPath, [
    script,
    "--flood-port",
    String(port),
    "--mib",
    String(mib),
  ]);
  const code = await child.exited;
  const line = child
    .output()
    .split("\n")
    .find((l) => l.startsWith("{"));
  if (code !== 0 || line === undefined) {
    throw new Error(`the flooding client exited ${code}: ${child.output().slice(-2000)}`);
  }
  return JSON.parse(line) as { status: number; body: string };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      mib: { type: "string", default: "1024" },
      "no-write": { type: "boolean" },
      "flood-port": { type: "string" },
    },
  });
  const size = Number(values.mib) * MiB;
  if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`--mib: ${values.mib}`);
  if (values["flood-port"] !== undefined) {
    console.log(JSON.stringify(await flood(Number(values["flood-port"]), size)));
    return 0;
  }
  const temp = mkdtempSync(join(tmpdir(), "wsgiref-form-flood-"));
  const server = start(
    process.execPath,
    [
      BIN,
      "serve",
      `${APP}:app`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--quiet",
      "--max-body-size",
      String(size + MiB),
    ],
    { env: { ...process.env, TMPDIR: temp, FORM_FLOOD_MAX: String(size + MiB) } },
  );
  try {
    const port = Number((await server.waitFor(/Serving HTTP on \S+ port (\d+) \(/, 15_000))[1]);
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push((await ping(port)).ms);
    idle.sort((a, b) => a - b);
    const rss = (): number => (statusKiB(server.pid, "VmRSS") ?? 0) * 1024;
    const fds = (): number => readdirSync(`/proc/${server.pid}/fd`).length;
    const baseline = rss();
    const fdsBefore = fds();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss());
    }, 100);
    let flooding = true;
    const latencies: number[] = [];
    let failed = 0;
    const prober = (async () => {
      while (flooding) {
        const next = performance.now() + 100;
        try {
          const { status, ms } = await ping(port);
          if (status === 200) latencies.push(ms);
          else failed += 1;
        } catch {
          failed += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
      }
    })();
    const began = performance.now();
    const answer = await floodProcess(port, size / MiB);
    const seconds = (performance.now() - began) / 1000;
    flooding = false;
    await prober;
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    // The form's temporary file goes when the body is closed, just after the answer.
    let fdsAfter = fds();
    for (let i = 0; i < 50 && fdsAfter > fdsBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      fdsAfter = fds();
    }
    const parts =
      answer.status === 200 ? (JSON.parse(answer.body) as { parts: unknown }).parts : [];
    const parsed =
      JSON.stringify(parts) ===
      JSON.stringify([
        { name: "note", kind: "field", bytes: 5 },
        { name: "f", kind: "DiskFilePart", bytes: size },
      ]);
    const sorted = [...latencies].sort((a, b) => a - b);
    const growth = peak - baseline;
    const figures = {
      mib: size / MiB,
      baselineMiB: baseline / MiB,
      peakMiB: peak / MiB,
      growthMiB: growth / MiB,
      seconds,
      pings: latencies.length,
      failedPings: failed,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? 0,
      idleP50: percentile(idle, 50),
      answer: answer.status,
      parsed,
      fdsBefore,
      fdsAfter,
    };
    const detail =
      `server RSS +${figures.growthMiB.toFixed(1)} MiB at its peak (${figures.baselineMiB.toFixed(0)} → ` +
      `${figures.peakMiB.toFixed(0)} MiB); upload answered ${answer.status} in ${seconds.toFixed(1)} s, ` +
      `its file a DiskFilePart of ${size} bytes: ${parsed ? "yes" : "NO"}; normal client: ` +
      `${latencies.length} pings during it, ${failed} failed, p50 ${figures.p50.toFixed(1)} ms, ` +
      `p99 ${figures.p99.toFixed(1)} ms, max ${figures.max.toFixed(1)} ms (idle p50 ` +
      `${figures.idleP50.toFixed(1)} ms); fds ${fdsBefore} → ${fdsAfter}`;
    console.log(`form flood: ${size / MiB} MiB multipart POST to handlerApp\n${detail}`);
    const ok = growth < RSS_TARGET && failed === 0 && parsed && fdsAfter <= fdsBefore;
    console.log(ok ? "targets met" : "a target was MISSED");
    if (values["no-write"] !== true) {
      mkdirSync(dirname(RESULTS), { recursive: true });
      const results = {
        suite: "form-flood",
        command: `node build/reliability/form-flood.js --mib ${size / MiB}`,
        generatedAt: new Date().toISOString(),
        node: process.version,
        rows: [
          {
            name: `${size / MiB} MiB multipart POST to handlerApp, a normal client every 100 ms`,
            kind: "load",
            requests: latencies.length + failed + 1,
            faults: null,
            inputs: null,
            leaks: Math.max(0, fdsAfter - fdsBefore),
            detail,
          },
        ],
      };
      writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await stop(server);
    rmSync(temp, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => {
  killAll();
  process.exit(130);
});
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    killAll();
    process.exit(1);
  },
);
