/**
 * CPU pinning with `taskset`: the server on one core, the load generator (and this
 * harness) on another, so neither steals the other's cycles.
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

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

/** The CPUs this process may run on (a container may allow only some), from /proc. */
function allowedCpus(): number[] {
  try {
    const status = readFileSync("/proc/self/status", "latin1");
    const list = status.match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
    if (list !== undefined) {
      const ids: number[] = [];
      for (const range of list.split(",")) {
        const [first, last] = range.split("-").map(Number);
        for (let id = first!; id <= (last ?? first!); id++) {
          ids.push(id);
        }
      }
      return ids;
    }
  } catch {
    // Not Linux: fall back to every CPU the OS reports.
  }
  return cpus().map((_, id) => id);
}

/** Decide the pinning for this machine; call it before `pinSelf`, which narrows the list. */
export function planPinning(): Pinning {
  const allowed = allowedCpus();
  const cores = allowed.length;
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
  const [server, client] = allowed.map(String);
  const all = allowed.join(",");
  return {
    server,
    workers: all,
    client,
    note:
      `${cores} cores: server on core ${server}, wrk/curl and the harness on core ${client}; ` +
      `multi-process servers on cores ${all}, sharing core ${client} with wrk`,
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
