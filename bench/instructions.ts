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
 * Run after building: `node build/bench/instructions.js [--servers raw,ours,ours-validated]
 * [--from 3000] [--to 11000]`. Needs `valgrind` (Debian package); takes about a
 * minute per server and thousand requests.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Paths, type ServerSpec, server } from "./lib/servers.js";

const CONNECTIONS = 10;
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

/** Send `count` GETs over `CONNECTIONS` keep-alive connections, one at a time on each. */
async function drive(port: number, count: number): Promise<void> {
  let left = count;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
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
      socket.on("connect", next);
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

/** The instructions the server ran (callgrind's total) for `requests` requests. */
async function instructions(spec: ServerSpec, paths: Paths, requests: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-callgrind-"));
  try {
    const [exe, args] = spec.command(paths, ["--single-threaded-gc"]);
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", `--callgrind-out-file=${join(dir, "out.%p")}`, exe, ...args],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    const exited = once(child, "exit");
    await drive(await readyPort(child, spec.ready), requests);
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
  const rows: Array<[string, number]> = [];
  for (const id of (values.servers as string).split(",")) {
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
      ((await instructions(spec, paths, to)) - (await instructions(spec, paths, from))) /
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
