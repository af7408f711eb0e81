/**
 * `wsgiref serve` on the misbehaving application for one scenario: started in
 * a process of its own, its log lines counted, its workers' memory sampled,
 * and stopped by its PID; plus the requests the scenarios send it.
 */

import { once } from "node:events";
import { request } from "node:http";
import { request as requestTls } from "node:https";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { fileURLToPath } from "node:url";
import { processTree, type Started, start } from "../../bench/lib/proc.js";
import { statusKiB } from "../../bench/lib/rss.js";

/** The command, `bin/wsgiref.js`, which runs the compiled CLI. */
const BIN = fileURLToPath(new URL("../../../bin/wsgiref.js", import.meta.url));
/** The compiled misbehaving application, next to this file. */
const APP = fileURLToPath(new URL("./app.js", import.meta.url));

/** What one request came to. */
export interface Outcome {
  /** The pid that answered 200, or undefined. */
  pid: number | undefined;
  /** Why not: the error's code or message, or the status. */
  error: string | undefined;
  /** From sending to the end of the response or the failure. */
  ms: number;
}

/**
 * One request on a connection of its own, over TLS when `tls` (the run's own
 * certificate not checked); never rejects.
 */
export function get(port: number, path: string, timeoutMs: number, tls = false): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (pid: number | undefined, error: string | undefined): void =>
      resolve({ pid, error, ms: performance.now() - started });
    const send = tls ? requestTls : request;
    const options = { host: "127.0.0.1", port, path, agent: false, rejectUnauthorized: false };
    const req = send(options, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (s: string) => {
        body += s;
      });
      res.on("end", () =>
        res.statusCode === 200
          ? done(Number(body), undefined)
          : done(undefined, `${res.statusCode}`),
      );
      res.on("error", (err: NodeJS.ErrnoException) => done(undefined, err.code ?? err.message));
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(Object.assign(new Error("no answer"), { code: "HUNG" })),
    );
    req.on("error", (err: NodeJS.ErrnoException) => done(undefined, err.code ?? err.message));
    req.end();
  });
}

/** A kept-alive connection, answered once by the worker that now holds it. */
export interface Held {
  socket: Socket;
  pid: number;
}

/**
 * Open a connection (over TLS when `tls`) and ask for / on it: the worker that
 * answers keeps the connection.
 */
export async function hold(port: number, tls = false): Promise<Held> {
  const socket = tls
    ? connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false })
    : connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  await once(socket, tls ? "secureConnect" : "connect");
  socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  let text = "";
  for (;;) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    text += chunk.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    const length = Number(/Content-Length: (\d+)/i.exec(text)?.[1]);
    if (end !== -1 && text.length >= end + 4 + length) {
      return { socket, pid: Number(text.slice(end + 4, end + 4 + length)) };
    }
  }
}

/** A running `wsgiref serve`, by its PID. */
export class Server {
  readonly process: Started;
  readonly port: number;
  /** Whether it serves HTTPS. */
  readonly tls: boolean;
  /** Every pid seen under the primary, for the check that none outlives it. */
  readonly #seen = new Set<number>();

  private constructor(started: Started, port: number, tls: boolean) {
    this.process = started;
    this.port = port;
    this.tls = tls;
  }

  /**
   * Start `wsgiref serve APP --port 0 --quiet ARGS TLS` (`tls`: the
   * certificate's flags, for HTTPS) and wait for its serving line.
   */
  static async start(args: readonly string[], tls: readonly string[] = []): Promise<Server> {
    const argv = [BIN, "serve", APP, "--port", "0", "--quiet", ...args, ...tls];
    const started = start(process.execPath, argv);
    const match = await started.waitFor(/Serving HTTPS? on \S+ port (\d+) /, 30_000);
    return new Server(started, Number(match[1]), tls.length > 0);
  }

  /** One request to this server (see `get`). */
  get(path: string, timeoutMs: number): Promise<Outcome> {
    return get(this.port, path, timeoutMs, this.tls);
  }

  /** A kept-alive connection to this server (see `hold`). */
  hold(): Promise<Held> {
    return hold(this.port, this.tls);
  }

  /** How many lines of the log match `pattern` so far. */
  count(pattern: RegExp): number {
    const global = new RegExp(pattern.source, `${pattern.flags.replace(/[gm]/g, "")}gm`);
    return this.process.output().match(global)?.length ?? 0;
  }

  /** Wait until `count(pattern)` reaches `n`; false after `timeoutMs`. */
  async waitForCount(pattern: RegExp, n: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.count(pattern) < n) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }

  /** The workers now under the primary (empty when serving alone). */
  workers(): number[] {
    const pids = processTree(this.process.pid).slice(1);
    for (const pid of pids) this.#seen.add(pid);
    return pids;
  }

  /** The largest resident set (bytes) of one process of the server right now. */
  largestRss(): number {
    const pids = [this.process.pid, ...this.workers()];
    return Math.max(...pids.map((pid) => (statusKiB(pid, "VmRSS") ?? 0) * 1024));
  }

  /**
   * SIGTERM, and the exit code once the primary has drained (SIGKILL after 15 s),
   * with the pids seen under it still alive then (none, if it stopped its
   * workers); those are stopped too.
   */
  async stop(): Promise<{ code: number | string; left: number[] }> {
    this.workers();
    const kill = setTimeout(() => process.kill(this.process.pid, "SIGKILL"), 15_000);
    process.kill(this.process.pid, "SIGTERM");
    const code = await this.process.exited;
    clearTimeout(kill);
    const left = [...this.#seen].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    // Only processes this run started: the primary's workers, by their pids.
    for (const pid of left) process.kill(pid, "SIGKILL");
    return { code, left };
  }
}
