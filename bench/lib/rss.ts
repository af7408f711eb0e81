/**
 * Resident memory of a server and its workers, from /proc/<pid>/status.
 *
 * Growth is the peak during a scenario minus the resident size just before it. The
 * peak is sampled every few milliseconds and, where the kernel allows, also read
 * from VmHWM after resetting it (writing 5 to /proc/<pid>/clear_refs), which
 * catches spikes between two samples.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { processTree } from "./proc.js";

const KIB = 1024;

/** One field of /proc/<pid>/status in KiB (`VmRSS`, `VmHWM`), or undefined if gone. */
export function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    // The process has exited between listing and reading.
    return undefined;
  }
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return match ? Number(match[1]) : undefined;
}

function sum(pids: readonly number[], field: "VmRSS" | "VmHWM"): number {
  let total = 0;
  for (const pid of pids) {
    total += statusKiB(pid, field) ?? 0;
  }
  return total;
}

/** What an `RssSampler` saw, in bytes. */
export interface RssReport {
  baseline: number;
  peak: number;
  growth: number;
  /** Whether the VmHWM reset worked, so spikes between samples were caught too. */
  hwm: boolean;
}

/** Watch the resident memory of a process tree between `start()` and `stop()`. */
export class RssSampler {
  readonly #root: number;
  readonly #intervalMs: number;
  #pids: number[] = [];
  #baseline = 0;
  #peak = 0;
  #hwm = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(rootPid: number, intervalMs = 10) {
    this.#root = rootPid;
    this.#intervalMs = intervalMs;
  }

  /** Take the baseline and start sampling. */
  start(): void {
    this.#pids = processTree(this.#root);
    this.#hwm = true;
    for (const pid of this.#pids) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        // Not permitted here (or too old a kernel): fall back to sampling alone.
        this.#hwm = false;
      }
    }
    this.#baseline = sum(this.#pids, "VmRSS");
    this.#peak = this.#baseline;
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
  }

  #sample(): void {
    this.#peak = Math.max(this.#peak, sum(this.#pids, "VmRSS"));
  }

  /** Stop sampling and report baseline, peak and growth. */
  stop(): RssReport {
    clearInterval(this.#timer);
    this.#sample();
    if (this.#hwm) {
      this.#peak = Math.max(this.#peak, sum(this.#pids, "VmHWM"));
    }
    return {
      baseline: this.#baseline * KIB,
      peak: this.#peak * KIB,
      growth: (this.#peak - this.#baseline) * KIB,
      hwm: this.#hwm,
    };
  }
}
