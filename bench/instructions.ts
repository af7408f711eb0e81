/**
 * Instructions per small request, counted by callgrind: the server's user-space
 * cost without the machine's noise.
 *
 * On a shared VM req/s and even CPU time per request swing by ±20% from one
 * minute to the next, which hides any change smaller than that. Valgrind's
 * instruction count is repeatable to 1–2%. Each server is run twice under
 * `valgrind --tool=callgrind`, for `--from` and for `--to` keep-alive GETs of
 * `/` over 10 connections; the difference divided by the difference in requests
 * is the cost of one request once the JIT has settled (the first few thousand
 * requests also pay for compiling). Kernel time (the socket writes) is not in it.
 *
 * A server over TLS (`raw-https`, `ours-https`) gets the same GETs over TLS
 * sockets; an HTTP/2 one (`raw-h2`, `ours-h2`) gets them as streams from a
 * `node:http2` client in this process, `STREAMS` at a time on one session (see
 * `driveHttp2`). Both with a certificate made for the run.
 *
 * Run after building: `node build/bench/instructions.js [--servers raw,ours,ours-validated]
 * [--from 3000] [--to 11000]`. Needs `valgrind` (Debian package); takes about a
 * minute per server and thousand requests.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect as connectHttp2 } from "node:http2";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect as connectTls } from "node:tls";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeCertificate } from "./lib/certificate.js";
import { type Paths, type ServerSpec, server } from "./lib/servers.js";
import { CERT_ENV, KEY_ENV } from "./servers/tls-env.js";

const CONNECTIONS = 10;
/** HTTP/2 streams open at once on the session. */
const STREAMS = 10;
const REQUEST = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "latin1");
// Every benchmark server answers GET / with this body, last in its response.
const BODY_END = "Hello world!\n";

/** Resolve with the port once `child` prints `ready`; reject if it exits first. */
function readyPort(child: ChildProcess, ready: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (data: Buffer): void => {
      seen += data.toString("latin1");
      const match = ready.exec(seen);
      if (match !== null) {
        child.stdout?.off("data", onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before: ${seen}`)));
  });
}

/** Send `count` GETs over `CONNECTIONS` keep-alive connections, one at a time on each (TLS: `tls`). */
async function drive(port: number, count: number, tls: boolean): Promise<void> {
  let left = count;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = tls
        ? connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false })
        : connect(port, "127.0.0.1");
      let text = "";
      const next = (): void => {
        if (left > 0) {
          left -= 1;
          socket.write(REQUEST);
        } else {
          socket.end();
          resolve();
        }
      };
      socket.on(tls ? "secureConnect" : "connect", next);
      socket.on("error", reject);
      socket.on("data", (data: Buffer) => {
        text += data.toString("latin1");
        for (let at = text.indexOf(BODY_END); at !== -1; at = text.indexOf(BODY_END)) {
          text = text.slice(at + BODY_END.length);
          next();
        }
      });
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, one));
}

/**
 * Send `count` GETs of `/` as HTTP/2 streams over TLS on one session: `STREAMS`
 * requests at once, and the next `STREAMS` once all of them are answered. One
 * session, in waves: the server then reads the same bursts of HEADERS frames in
 * every run. Ten sessions opening a stream as each ends (h2load's way) gave
 * counts 10% apart from one run to the next, as the sessions' frames fell into
 * the server's reads differently; this way two runs are within 2–4%.
 */
async function driveHttp2(port: number, count: number): Promise<void> {
  let left = count;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const session = connectHttp2(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      session.on("error", reject);
      let open = 0;
      const get = (): void => {
        const stream = session.request({ ":path": "/" });
        let body = "";
        stream.setEncoding("latin1");
        stream.on("data", (data: string) => {
          body += data;
        });
        stream.on("error", reject);
        stream.on("end", () => {
          if (body !== BODY_END) reject(new Error(`unexpected body: ${JSON.stringify(body)}`));
          else if (--open === 0) wave();
        });
      };
      const wave = (): void => {
        if (left === 0) {
          session.close(() => resolve());
          return;
        }
        open = Math.min(STREAMS, left);
        left -= open;
        for (let i = 0; i < open; i++) get();
      };
      session.once("connect", wave);
    });
  await one();
}

/** The instructions the server ran (callgrind's total) for `requests` requests. */
async function instructions(
  spec: ServerSpec,
  paths: Paths,
  requests: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-callgrind-"));
  try {
    const [exe, args] = spec.command(paths, ["--single-threaded-gc"]);
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", `--callgrind-out-file=${join(dir, "out.%p")}`, exe, ...args],
      { stdio: ["ignore", "pipe", "ignore"], env },
    );
    const exited = once(child, "exit");
    const port = await readyPort(child, spec.ready);
    if (spec.h2 === true) await driveHttp2(port, requests);
    else await drive(port, requests, spec.tls === true);
    child.kill("SIGTERM");
    await exited;
    let total = 0;
    for (const file of readdirSync(dir)) {
      const line = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), "latin1"));
      if (line !== null) total += Number(line[1]);
    }
    if (total === 0) throw new Error(`callgrind wrote no total for ${spec.id}`);
    return total;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      servers: { type: "string", default: "raw,ours,ours-validated" },
      from: { type: "string", default: "3000" },
      to: { type: "string", default: "11000" },
    },
  });
  const from = Number(values.from);
  const to = Number(values.to);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to <= from) {
    process.stderr.write(`instructions: --from and --to must be integers, 1 <= from < to\n`);
    return 2;
  }
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    process.stderr.write("instructions: valgrind not found (apt-get install valgrind)\n");
    return 1;
  }
  const build = join(dirname(fileURLToPath(import.meta.url)), "..");
  const paths: Paths = { root: join(build, ".."), build };
  // The TLS servers' certificate, made for the run.
  const certDir = mkdtempSync(join(tmpdir(), "wsgiref-callgrind-cert-"));
  try {
    const certificate = makeCertificate(certDir);
    const env = { ...process.env, [CERT_ENV]: certificate.cert, [KEY_ENV]: certificate.key };
    return await measureAll(values.servers as string, paths, from, to, env);
  } finally {
    rmSync(certDir, { recursive: true, force: true });
  }
}

/** Count each of `servers` (comma-separated ids) and print the table; the exit code. */
async function measureAll(
  servers: string,
  paths: Paths,
  from: number,
  to: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const rows: Array<[string, number]> = [];
  for (const id of servers.split(",")) {
    let spec: ServerSpec;
    try {
      spec = server(id);
    } catch (err) {
      process.stderr.write(`instructions: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    const missing = spec.missing(paths);
    if (missing !== undefined) {
      process.stderr.write(`instructions: ${id}: ${missing}\n`);
      return 1;
    }
    const perRequest =
      ((await instructions(spec, paths, to, env)) - (await instructions(spec, paths, from, env))) /
      (to - from);
    rows.push([spec.label, perRequest]);
    process.stdout.write(
      `${spec.label}: ${Math.round(perRequest).toLocaleString("en")} instructions a request\n`,
    );
  }
  const base = rows[0]?.[1] ?? 1;
  process.stdout.write(
    `\n| server | instructions a request | vs ${rows[0]?.[0]} |\n|---|---:|---:|\n`,
  );
  for (const [label, count] of rows) {
    process.stdout.write(
      `| ${label} | ${Math.round(count).toLocaleString("en")} | ${(count / base).toFixed(2)}× |\n`,
    );
  }
  return 0;
}

process.exitCode = await main();
