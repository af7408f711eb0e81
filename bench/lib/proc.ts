/**
 * Child processes for the benchmark: start them, wait for the line that says they
 * are ready, and stop each one by its PID (never by name), children included.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** How much of a process's output is kept for error messages and parsing. */
const OUTPUT_LIMIT = 256 * 1024;

/** Every process this run started and has not yet seen exit, by PID. */
const live = new Map<number, ChildProcess>();

/** A started process: its PID, its output so far, and a promise of its exit. */
export interface Started {
  readonly pid: number;
  readonly command: string;
  /** stdout and stderr interleaved, the last 256 KiB. */
  output(): string;
  /** Resolve with the first match of `pattern` in the output; reject on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The PIDs seen under this process (workers), collected by `noteDescendants()`. */
  readonly descendants: Set<number>;
}

/** Options for `start`. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Start `cmd args` with its output captured; it is stopped by `stop` or `stopAll`. */
export function start(cmd: string, args: readonly string[], options: StartOptions = {}): Started {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`${cmd} could not be started`);
  }
  live.set(pid, child);
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString("latin1");
    if (out.length > OUTPUT_LIMIT) {
      out = out.slice(-OUTPUT_LIMIT);
    }
    for (const listener of listeners) {
      listener();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => {
      out += `\n${String(err)}`;
    });
    child.once("close", (code, signal) => {
      live.delete(pid);
      for (const listener of listeners) {
        listener();
      }
      resolve(code ?? signal ?? "unknown");
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const command = [cmd, ...args].join(" ");
  return {
    pid,
    command,
    output: () => out,
    exited,
    descendants: new Set<number>(),
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = out.match(pattern);
          if (match) {
            finish();
            resolve(match);
          } else if (done) {
            finish();
            reject(new Error(`${command} exited before printing ${pattern}:\n${tail(out)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${tail(out)}`),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        // `exited` may have settled already; give its handler a turn before checking.
        setImmediate(check);
      });
    },
  };
}

/** The last lines of a process's output, for error messages. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** The PIDs of `pid`'s children, from /proc (empty when it has gone). */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let tasks: string;
  try {
    tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1");
  } catch {
    // The process has exited, or the kernel lacks CONFIG_PROC_CHILDREN.
    return found;
  }
  for (const word of tasks.split(/\s+/)) {
    if (word !== "") {
      found.push(Number(word));
    }
  }
  return found;
}

/** `pid` and every process below it, depth first. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    tree.push(...childrenOf(tree[i]!));
  }
  return tree;
}

/** Remember the processes now under `started` (workers), so `stop` can reach them by PID. */
export function noteDescendants(started: Started): void {
  for (const pid of processTree(started.pid).slice(1)) {
    started.descendants.add(pid);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: it has already gone, which is what we want.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") {
      throw err;
    }
  }
}

/**
 * Stop a started process by its PID: SIGTERM, then SIGKILL after `graceMs`; then
 * the same for any worker PIDs noted under it that outlived it.
 */
export async function stop(started: Started, graceMs = 5000): Promise<number | string> {
  noteDescendants(started);
  signal(started.pid, "SIGTERM");
  const timer = setTimeout(() => signal(started.pid, "SIGKILL"), graceMs);
  const code = await started.exited;
  clearTimeout(timer);
  for (const pid of started.descendants) {
    if (alive(pid)) {
      signal(pid, "SIGTERM");
    }
  }
  const deadline = Date.now() + graceMs;
  for (const pid of started.descendants) {
    while (alive(pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (alive(pid)) {
      signal(pid, "SIGKILL");
    }
  }
  return code;
}

/** Kill every process this run started and that is still running (on Ctrl-C), by PID. */
export function killAll(): void {
  for (const [pid] of live) {
    for (const each of processTree(pid).reverse()) {
      signal(each, "SIGKILL");
    }
  }
}

/** The result of `run`. */
export interface RunResult {
  code: number | string;
  output: string;
}

/** Run `cmd args` to its end, killing it by PID after `timeoutMs`. */
export async function run(
  cmd: string,
  args: readonly string[],
  timeoutMs: number,
  options: StartOptions = {},
): Promise<RunResult> {
  const started = start(cmd, args, options);
  const timer = setTimeout(() => signal(started.pid, "SIGKILL"), timeoutMs);
  const code = await started.exited;
  clearTimeout(timer);
  return { code, output: started.output() };
}
