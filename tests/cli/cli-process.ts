/**
 * Helpers for the command-line tests: start the compiled `wsgiref` command (or an
 * example) as a child process, await the line it prints once listening, talk
 * HTTP to it over fresh connections, and stop every child by its PID, cleanly:
 * SIGTERM and a wait for its exit, so that the V8 coverage `npm test` collects
 * (NODE_V8_COVERAGE, written at exit) counts the code the command ran.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The compiled command: build/src/cli.js, next to build/tests/. */
export const CLI = fileURLToPath(new URL("../../src/cli.js", import.meta.url));

const children = new Set<ChildProcess>();

/** Whether process `pid` still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stop every child started here that is still running, and any `pids` too (the
 * workers of a cluster): SIGTERM, then wait until each has exited. A process
 * still there after `graceMs` is killed (SIGKILL) and the promise rejects, so a
 * command that does not stop on SIGTERM fails the test file instead of passing
 * with its coverage lost.
 */
export async function stopAll(pids: Iterable<number> = [], graceMs = 10_000): Promise<void> {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  const others = [...pids].filter(alive);
  for (const child of running) child.kill("SIGTERM");
  for (const pid of others) process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  const stuck: number[] = [];
  await Promise.all(
    running.map(async (child) => {
      const exited = once(child, "exit").then(() => true);
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (!(await Promise.race([exited, sleep(graceMs).then(() => false)]))) {
        stuck.push(child.pid ?? -1);
        child.kill("SIGKILL");
      }
    }),
  );
  for (const pid of others) {
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    if (alive(pid)) {
      stuck.push(pid);
      process.kill(pid, "SIGKILL");
    }
  }
  if (stuck.length > 0) {
    throw new Error(`processes ${stuck.join(", ")} did not exit within ${graceMs} ms of SIGTERM`);
  }
}

/** A finished child: exit code or signal, and everything it printed. */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process whose output is collected as it runs. */
export class Child {
  readonly process: ChildProcess;
  stdout = "";
  stderr = "";
  /** Resolves when the process has exited and its output is closed. */
  readonly outcome: Promise<Outcome>;
  readonly #lines: Array<(line: string) => boolean> = [];

  constructor(
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {},
  ) {
    const env = { ...process.env, NODE_DEBUG: "", ...options.env };
    this.process = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: "pipe" });
    children.add(this.process);
    this.process.stdin?.end(options.input);
    this.process.stdout?.setEncoding("utf8").on("data", (s: string) => {
      this.stdout += s;
    });
    this.process.stderr?.setEncoding("utf8").on("data", (s: string) => {
      this.stderr += s;
    });
    for (const stream of [this.process.stdout, this.process.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => this.#onLine(line));
    }
    this.outcome = once(this.process, "close").then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Await the first line (stdout or stderr) matching `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      // Complete lines only: the text after the last newline may still grow.
      const seen = [
        ...this.stdout.split("\n").slice(0, -1),
        ...this.stderr.split("\n").slice(0, -1),
      ];
      for (const line of seen) {
        const match = pattern.exec(line);
        if (match) return resolve(match);
      }
      this.#lines.push((line) => {
        const match = pattern.exec(line);
        if (match) resolve(match);
        return match !== null;
      });
      void this.outcome.then((o) =>
        reject(new Error(`exited (${o.code ?? o.signal}) before printing ${pattern}: ${o.stderr}`)),
      );
    });
  }

  /**
   * Await the `n`th line (stdout or stderr, counted from the start) matching
   * `pattern`; rejects if the process ends first.
   */
  waitForNth(pattern: RegExp, n: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const onLine = (line: string): boolean => {
        const match = pattern.exec(line);
        if (match && ++seen === n) resolve(match);
        return seen >= n;
      };
      const complete = [
        ...this.stdout.split("\n").slice(0, -1),
        ...this.stderr.split("\n").slice(0, -1),
      ];
      for (const line of complete) if (onLine(line)) return;
      this.#lines.push(onLine);
      void this.outcome.then((o) =>
        reject(
          new Error(
            `exited (${o.code ?? o.signal}) before printing ${pattern} ${n} times: ${o.stderr}`,
          ),
        ),
      );
    });
  }

  #onLine(line: string): void {
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      if (this.#lines[i]!(line)) this.#lines.splice(i, 1);
    }
  }
}

/** Run the command to its end and return what it printed. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {},
): Promise<Outcome> {
  return new Child([CLI, ...args], options).outcome;
}

/**
 * The serving line: `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...`,
 * `, N workers` inside the parentheses with workers; host and port are groups 1 and 2.
 */
export const SERVING_LINE =
  /^Serving HTTP on (\S+) port (\d+) \(http:\/\/(?:\S+):\2\/(?:, (\d+) workers?)?\) \.\.\.$/;

/** A server started by the command, with the address from its `Serving HTTP on` line. */
export interface Served {
  child: Child;
  host: string;
  port: number;
}

/** Start `wsgiref ARGS` (add `--port 0` yourself) and await its serving line. */
export async function serveCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Served> {
  const child = new Child([CLI, ...args], options);
  const match = await child.waitFor(SERVING_LINE);
  return { child, host: match[1]!, port: Number(match[2]) };
}

/** An HTTP response read whole. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Send one request on a new connection (no agent, so requests spread across
 * workers) and read the whole response. The path is sent exactly as given.
 */
export function fetchRaw(
  port: number,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Uint8Array;
    /** Fail when no response has come in this many ms (by default, wait). */
    timeout?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.timeout !== undefined) {
      const ms = options.timeout;
      req.setTimeout(ms, () => req.destroy(new Error(`no response to ${path} in ${ms} ms`)));
    }
    req.end(options.body);
  });
}

/** A temporary directory with `files` (name → content) written into it; remove with `rm`. */
export function tempDir(files: Record<string, string>): { dir: string; rm(): void } {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-cli-"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content);
  }
  return { dir, rm: () => rmSync(dir, { recursive: true, force: true }) };
}
