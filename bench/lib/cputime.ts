/**
 * CPU time a server spends, from /proc/<pid>/stat: user plus system time of the
 * process and its children (workers). Divided by the requests served, it gives
 * CPU per request, a figure far less sensitive than req/s to other work on the
 * machine, since time the server spends waiting for a core is not counted.
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processTree } from "./proc.js";

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, almost always 100). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      // getconf is part of libc-bin; without it assume the Linux default.
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process in seconds, or 0 if it has gone. */
function processSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    // Exited between listing and reading.
    return 0;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** CPU seconds used so far by `pid` and every process below it. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const each of processTree(pid)) {
    total += processSeconds(each);
  }
  return total;
}
