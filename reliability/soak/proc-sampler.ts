/**
 * Once a second, the resident memory (VmRSS) and the open file descriptors of
 * the server process, read from /proc/<pid>; and a bounded wait for its
 * descriptors to fall back to a baseline once the load has stopped.
 */

import { readdirSync, readlinkSync } from "node:fs";
import { statusKiB } from "../../bench/lib/rss.js";

/** One reading of the server process. */
export interface Sample {
  /** Seconds since the load started. */
  at: number;
  /** VmRSS in bytes. */
  rss: number;
  /** Entries of /proc/<pid>/fd. */
  fds: number;
  /** How many of them are spool files (unlinked `wsgiref-spool-*`): the spool is in use. */
  spool: number;
}

/** Whether a descriptor's target is a request body's temporary file. */
export function isSpoolFile(target: string): boolean {
  return target.includes("/wsgiref-spool-");
}

/** How many descriptors `pid` has open, or undefined if it has gone. */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/**
 * The targets of `pid`'s descriptors (`socket:[123]`, `/tmp/x (deleted)`, …),
 * for the report when some are left over; empty if it has gone.
 */
export function fdTargets(pid: number): string[] {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const targets: string[] = [];
  for (const name of names) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${name}`));
    } catch {
      // Closed between the listing and the readlink: not open any more.
    }
  }
  return targets;
}

/** One reading now, or undefined if the process has gone. */
export function sampleNow(pid: number, at: number): Sample | undefined {
  const rssKiB = statusKiB(pid, "VmRSS");
  const targets = fdTargets(pid);
  if (rssKiB === undefined || targets.length === 0) return undefined;
  return { at, rss: rssKiB * 1024, fds: targets.length, spool: targets.filter(isSpoolFile).length };
}

/** Read `pid` every `intervalMs` from `start()` until `stop()`. */
export class ProcSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly samples: Sample[] = [];
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs = 1000) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#take();
    this.#timer = setInterval(() => this.#take(), this.#intervalMs);
  }

  stop(): Sample[] {
    clearInterval(this.#timer);
    this.#take();
    return this.samples;
  }

  #take(): void {
    const sample = sampleNow(this.#pid, (performance.now() - this.#startedAt) / 1000);
    if (sample !== undefined) this.samples.push(sample);
  }
}

/**
 * Poll `pid`'s descriptor count every 100 ms until it is at most `baseline` or
 * `timeoutMs` has passed; resolve with the last count (undefined if it has gone).
 */
export async function waitForFds(
  pid: number,
  baseline: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const count = fdCount(pid);
    if (count === undefined || count <= baseline || performance.now() >= deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
