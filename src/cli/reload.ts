/**
 * `wsgiref serve --reload` (SPEC.md §11.7): a supervisor that runs the server
 * in a child process and starts a new one when a source file under the
 * application's directory changes, as `uvicorn --reload` and Werkzeug's
 * reloader do. The supervisor never loads the application itself, so a syntax
 * error ends only the child: the supervisor says so and waits for the next
 * change.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { type FSWatcher, watch } from "node:fs";
import { extname, sep } from "node:path";
import { createInterface } from "node:readline";

/** Files whose change restarts the server: what an application is made of. */
const SOURCE_EXTENSIONS = new Set([
  ".js",
  ".mjs",
  ".cjs",
  ".jsx",
  ".ts",
  ".mts",
  ".cts",
  ".tsx",
  ".json",
]);

/** How long changes are gathered before one restart (ms): an editor's save is several events. */
const DEBOUNCE = 100;

/** How many changed files a reload line names before "and N more". */
const NAMED = 3;

/** Set in a child's environment: it runs under the reloader. */
const CHILD_VARIABLE = "WSGIREF_RELOADER_CHILD";

/**
 * Set in the environment of the children after the first: the port the first
 * one bound, which they take over whatever the flags say (`--port 0`).
 */
const PORT_VARIABLE = "WSGIREF_RELOADER_PORT";

/** The port to listen on: the one the reloader kept, when it gave one. */
export function reloadedPort(port: number): number {
  const kept = process.env[PORT_VARIABLE];
  return kept === undefined ? port : Number(kept);
}

/**
 * In a child of the reloader, stop (as on SIGTERM) when the reloader is gone,
 * so that a reloader that was killed leaves no server behind. Does nothing in
 * any other process.
 */
export function followReloader(): void {
  if (process.env[CHILD_VARIABLE] !== "1" || process.send === undefined) return;
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
  // The channel must not keep the process alive once the server has stopped.
  process.channel?.unref();
}

/** What the supervisor runs and watches. */
export interface ReloadOptions {
  /** The command's arguments, `--reload` left out. */
  args: string[];
  /** The directory whose source files are watched, recursively. */
  directory: string;
}

/** Whether a changed file (relative to the watched directory) is a source file to reload for. */
export function isWatchedSource(file: string): boolean {
  const segments = file.split(/[\\/]/);
  // Dependencies and dot-directories (.git, editor state) change without the app changing.
  if (segments.some((s) => s === "node_modules" || s.startsWith("."))) return false;
  return SOURCE_EXTENSIONS.has(extname(file));
}

/** The line a reload is announced with: `Reloading: app.ts, lib/db.ts changed`. */
export function reloadLine(files: string[]): string {
  const named = files.slice(0, NAMED).join(", ");
  const more = files.length > NAMED ? ` and ${files.length - NAMED} more` : "";
  return `Reloading: ${named}${more} changed`;
}

/**
 * Supervise the server until SIGINT or SIGTERM (resolves 0 once the child has
 * stopped). Each child is `node <this command> <args>`; after the first one has
 * printed its serving line, the next ones are told the port it bound (see
 * `reloadedPort`), so a `--port 0` server keeps its address across reloads.
 */
export function runReloader(options: ReloadOptions): Promise<number> {
  return new Reloader(options).run();
}

class Reloader {
  readonly #args: string[];
  readonly #directory: string;
  #child: ChildProcess | undefined;
  #port: string | undefined;
  #changed = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #restarting = false;
  #stopping = false;
  #done: ((code: number) => void) | undefined;

  constructor(options: ReloadOptions) {
    this.#args = options.args;
    this.#directory = options.directory;
  }

  run(): Promise<number> {
    const finished = new Promise<number>((resolve) => {
      this.#done = resolve;
    });
    this.#watcher = this.#watch();
    // The directory removed or unreadable: say so; the server runs on, unwatched.
    this.#watcher.on("error", (err) => {
      process.stderr.write(`wsgiref: stopped watching ${this.#directory}: ${err.message}\n`);
    });
    const onSignal = (signal: NodeJS.Signals): void => void this.#stop(signal);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    this.#start();
    return finished;
  }

  #watch(): FSWatcher {
    const onEvent = (_event: string, file: string | Buffer | null): void => {
      if (file === null) return;
      const name = file.toString();
      if (!isWatchedSource(name)) return;
      this.#changed.add(name.split(/[\\/]/).join(sep));
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#reload(), DEBOUNCE);
    };
    try {
      return watch(this.#directory, { recursive: true }, onEvent);
    } catch (err) {
      // Recursive watching is missing on some platforms (AIX, old Node): this
      // directory's own files then.
      if ((err as NodeJS.ErrnoException).code !== "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM") throw err;
      return watch(this.#directory, onEvent);
    }
  }

  #start(): void {
    const args = [...process.execArgv, process.argv[1] ?? "", ...this.#args];
    const port = this.#port === undefined ? {} : { [PORT_VARIABLE]: this.#port };
    const child = spawn(process.execPath, args, {
      // Its own process group: Ctrl-C reaches only this process, which stops the
      // child once (two signals would make it exit without draining).
      detached: true,
      // The IPC channel closes when this process dies, however: the child then stops.
      stdio: ["inherit", "pipe", "inherit", "ipc"],
      env: { ...process.env, ...port, [CHILD_VARIABLE]: "1" },
    });
    this.#child = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      console.log(line);
      this.#port ??= / port (\d+) \(/.exec(line)?.[1];
    });
    child.once("exit", (code, signal) => {
      if (this.#child !== child || this.#restarting || this.#stopping) return;
      this.#child = undefined;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      console.log(`The server ${how}; waiting for a change to reload`);
    });
  }

  async #reload(): Promise<void> {
    if (this.#stopping) return;
    if (this.#restarting) {
      // A change during a restart: another restart once this one is done.
      this.#timer = setTimeout(() => void this.#reload(), DEBOUNCE);
      return;
    }
    const files = [...this.#changed].sort();
    this.#changed.clear();
    console.log(reloadLine(files));
    this.#restarting = true;
    await this.#end(this.#child);
    this.#restarting = false;
    if (!this.#stopping) this.#start();
  }

  /** Stop `child` (SIGTERM: it drains) and wait for it to exit. */
  async #end(child: ChildProcess | undefined): Promise<void> {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    if (this.#stopping) {
      // Asked twice: do not wait for the child's requests.
      this.#child?.kill("SIGKILL");
      return;
    }
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    console.log(`Stopping the server (${signal})`);
    await this.#end(this.#child);
    this.#done?.(0);
  }
}
