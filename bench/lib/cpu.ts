/**
 * CPU pinning with `taskset`: the server on one core, the load generator (and this
 * harness) on another, so neither steals the other's cycles.
 */

import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

/** Which cores each side runs on; `undefined` means not pinned. */
export interface Pinning {
  /** Cores for a single-process server. */
  server: string | undefined;
  /** Cores for a multi-process server (`--workers 2`, `node:cluster`). */
  workers: string | undefined;
  /** Cores for wrk, curl and this harness. */
  client: string | undefined;
  /** One line saying what was done, for the report. */
  note: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Decide the pinning for this machine. */
export function planPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) {
    return {
      server: undefined,
      workers: undefined,
      client: undefined,
      note: `1 core: not pinned; server and load generator share it`,
    };
  }
  if (!hasTaskset()) {
    return {
      server: undefined,
      workers: undefined,
      client: undefined,
      note: "taskset not found (Debian package util-linux): not pinned",
    };
  }
  const all = `0-${cores - 1}`;
  return {
    server: "0",
    workers: all,
    client: "1",
    note:
      `${cores} cores: server on core 0, wrk/curl and the harness on core 1; ` +
      `multi-process servers on cores ${all}, sharing core 1 with wrk`,
  };
}

/** The command and arguments that run `cmd args` on `cores` (unchanged when unpinned). */
export function pinned(
  cores: string | undefined,
  cmd: string,
  args: readonly string[],
): [string, string[]] {
  return cores === undefined ? [cmd, [...args]] : ["taskset", ["-c", cores, cmd, ...args]];
}

/** Move this process onto `cores`, so the harness's own work stays off the server's core. */
export function pinSelf(cores: string | undefined): void {
  if (cores !== undefined) {
    execFileSync("taskset", ["-a", "-p", "-c", cores, String(process.pid)], { stdio: "ignore" });
  }
}
