/**
 * Run `wrk` and read its report: requests per second, latency percentiles (from
 * `--latency`), errors.
 */

import { execFileSync } from "node:child_process";
import { pinned } from "./cpu.js";
import { run, tail } from "./proc.js";

/** What one wrk run reported. */
export interface WrkResult {
  requestsPerSec: number;
  /** Bytes per second, as wrk's `Transfer/sec` (1024-based units). */
  transferPerSec: number;
  requests: number;
  /** Latency percentiles in milliseconds (50, 75, 90, 99). */
  latencyMs: { p50: number; p75: number; p90: number; p99: number } | undefined;
  /** Responses whose status was not 2xx or 3xx. */
  non2xx: number;
  /** Socket errors: connect, read, write, timeout. */
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/** Where wrk is, or undefined (the Debian package is `wrk`). */
export function findWrk(): string | undefined {
  for (const candidate of ["wrk", "/usr/bin/wrk", "/usr/local/bin/wrk"]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "ignore" });
      return candidate;
    } catch (err) {
      // wrk --version exits 1 after printing its banner; only ENOENT means absent.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        return candidate;
      }
    }
  }
  return undefined;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

function parseTime(text: string): number {
  const match = text.match(/^([\d.]+)(us|ms|s|m|h)$/);
  if (!match) {
    throw new Error(`wrk printed a latency it cannot read: ${text}`);
  }
  return Number(match[1]) * TIME_UNITS[match[2]!]!;
}

function parseSize(text: string): number {
  const match = text.match(/^([\d.]+)(B|KB|MB|GB|TB)$/);
  if (!match) {
    throw new Error(`wrk printed a size it cannot read: ${text}`);
  }
  return Number(match[1]) * SIZE_UNITS[match[2]!]!;
}

/** Read wrk's text report (run with `--latency`). */
export function parseWrk(output: string): WrkResult {
  const rps = output.match(/^Requests\/sec:\s+([\d.]+)/m);
  const transfer = output.match(/^Transfer\/sec:\s+(\S+)/m);
  const total = output.match(/^\s*(\d+) requests in /m);
  if (!rps || !transfer || !total) {
    throw new Error(`wrk's output has no Requests/sec line:\n${tail(output)}`);
  }
  const percentile = (p: number): number | undefined => {
    const match = output.match(new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m"));
    return match ? parseTime(match[1]!) : undefined;
  };
  const p50 = percentile(50);
  const p75 = percentile(75);
  const p90 = percentile(90);
  const p99 = percentile(99);
  const errors = output.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const non2xx = output.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  return {
    requestsPerSec: Number(rps[1]),
    transferPerSec: parseSize(transfer[1]!),
    requests: Number(total[1]),
    latencyMs:
      p50 !== undefined && p75 !== undefined && p90 !== undefined && p99 !== undefined
        ? { p50, p75, p90, p99 }
        : undefined,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
  };
}

/** Options for one wrk run. */
export interface WrkOptions {
  wrk: string;
  url: string;
  connections: number;
  durationS: number;
  /** Cores to run wrk on. */
  cores: string | undefined;
  /** wrk threads; one per pinned core is right for a single client core. */
  threads?: number;
}

/** Run wrk once; throws if it fails or prints no report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(options.threads ?? 1, options.connections);
  const [cmd, args] = pinned(options.cores, options.wrk, [
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    "--timeout",
    "5s",
    "--latency",
    options.url,
  ]);
  // wrk stops itself after the duration; the margin covers connection set-up and
  // a slow server finishing its last responses.
  const result = await run(cmd, args, (options.durationS + 15) * 1000);
  if (result.code !== 0) {
    throw new Error(`wrk exited with ${result.code}:\n${tail(result.output)}`);
  }
  return parseWrk(result.output);
}
