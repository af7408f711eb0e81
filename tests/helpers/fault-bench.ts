/**
 * The bench of the fault-injection tests (tests/reliability/): an in-process
 * server on 127.0.0.1 port 0 whose request handlers, server-side sockets and
 * body close() calls are all accounted for, a temporary directory of its own for
 * spooled bodies, `/proc/self/fd` counts, and the figures each test file writes
 * when `WSGIREF_RELIABILITY_OUT` is set (reliability/README.md).
 *
 * `bench.survives(family, inject)` is the check every fault goes through: inject
 * the fault, wait (on events, never on a timer) until every connection has closed
 * and every handler has returned, then ask for the next request, and count what
 * leaked: file descriptors, files left in the temporary directory, bodies whose
 * close() did not run exactly once.
 */

import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type RequestHandlerClass,
  type ServerOptions,
  WSGIRequestHandler,
} from "../../src/simple-server.js";
import { StringErrors } from "../../src/streams.js";
import type { ErrorStream, WSGIApplication, WSGIBody } from "../../src/types.js";
import { exchange, parseResponses, type Running, request, serve } from "./server-client.js";

/**
 * This process's open file descriptors, as `fd -> target`, leaving out the one
 * reading the directory opened (closed by the time its target is asked for).
 */
export function openFds(): string[] {
  const fds: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      fds.push(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return fds;
}

/**
 * `openFds()` once the spool files that were not open in `before` have closed,
 * or after 2 s. SpooledInput.close() closes its file only once the write in
 * flight under it has finished (the descriptor could be reused under it
 * otherwise), which may be after its handler returned. Nothing announces it, so
 * look again at each turn of the event loop (not a timer); a file still open
 * after 2 s is a leak.
 */
async function settledFds(before: string[]): Promise<string[]> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const fds = openFds();
    const spooling = fds.some((fd) => !before.includes(fd) && fd.includes("/wsgiref-spool-"));
    if (!spooling || Date.now() > deadline) return fds;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Count this process's open file descriptors. */
export function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** A body whose close() calls are counted. */
export interface Tracked {
  readonly path: string;
  closes: number;
  /** Resolves at the first close(). */
  readonly closed: Promise<void>;
}

/** One row of reliability/README.md's results format. */
export interface FaultRow {
  name: string;
  kind: "fault";
  requests: number;
  faults: number;
  inputs: null;
  leaks: number;
  detail: string;
}

/** What one family of faults left behind, summed over its faults. */
export interface FaultTally {
  /** Requests whose handler returned (the faulty ones and the next ones). */
  requests: number;
  /** Faults injected (each one survived, or the test failed). */
  faults: number;
  /** File descriptors open after the faults and not before. */
  fds: number;
  /** Files left in the temporary directory. */
  files: number;
  /** Bodies whose close() did not run exactly once. */
  badCloses: number;
  /** Bodies checked. */
  bodies: number;
}

/**
 * Rows for one test file, written once (in `after()`) to
 * `$WSGIREF_RELIABILITY_OUT/faults-<file>.json`: one file per test file, since
 * `node --test` runs the files in parallel processes that must not race on one.
 */
export class Figures {
  readonly #file: string;
  readonly #rows = new Map<string, FaultTally>();

  /** Figures of the test file `file` (`client-faults`, …). */
  constructor(file: string) {
    this.#file = file;
  }

  /** Add to the tally of the family `name`. */
  add(name: string, tally: Partial<FaultTally>): void {
    const row = this.#rows.get(name) ?? {
      requests: 0,
      faults: 0,
      fds: 0,
      files: 0,
      badCloses: 0,
      bodies: 0,
    };
    for (const key of Object.keys(row) as Array<keyof FaultTally>) row[key] += tally[key] ?? 0;
    this.#rows.set(name, row);
  }

  /** The rows in the results format. */
  rows(): FaultRow[] {
    return [...this.#rows].map(([name, t]) => ({
      name,
      kind: "fault",
      requests: t.requests,
      faults: t.faults,
      inputs: null,
      leaks: t.fds + t.files + t.badCloses,
      detail:
        `${t.bodies} bodies, ${t.bodies - t.badCloses} closed exactly once; ` +
        `${t.fds} fds and ${t.files} temporary files left after the faults`,
    }));
  }

  /** Write the file, if `WSGIREF_RELIABILITY_OUT` names a directory. */
  write(): void {
    const dir = process.env.WSGIREF_RELIABILITY_OUT;
    if (dir === undefined || dir === "") return;
    mkdirSync(dir, { recursive: true });
    const report = {
      suite: "faults",
      command: `node --test build/tests/reliability/${this.#file}.test.js`,
      generatedAt: new Date().toISOString(),
      node: process.version,
      rows: this.rows(),
    };
    writeFileSync(join(dir, `faults-${this.#file}.json`), `${JSON.stringify(report, null, 2)}\n`);
  }
}

/** How to start a bench. */
export interface BenchOptions {
  server?: ServerOptions;
  /** Base of the bench's request handler class (its `getStderr()` is kept if overridden). */
  handlerClass?: typeof WSGIRequestHandler;
  /** Give `wsgi.errors` to the bench's `errors` (true unless handlerClass is given). */
  captureErrors?: boolean;
}

/** The bench: a server, its accounting, and the figures. */
export class Bench {
  /** The temporary directory of spooled bodies: `TMPDIR` while the bench runs. */
  readonly temp: string;
  /** `wsgi.errors` of every request (unless a handler class of the test's says otherwise). */
  readonly errors = new StringErrors();
  readonly figures: Figures;
  running!: Running;
  /** Requests whose handler returned. */
  handled = 0;
  readonly #routes = new Map<string, WSGIApplication>();
  readonly #bodies: Tracked[] = [];
  readonly #sockets = new Set<Socket>();
  #handling = 0;
  readonly #changes = new EventEmitter();
  readonly #savedTmpdir = process.env.TMPDIR;

  private constructor(figures: Figures) {
    this.figures = figures;
    this.temp = mkdtempSync(join(tmpdir(), "wsgiref-faults-"));
  }

  /** Start a bench whose figures go to `faults-<file>.json`. */
  static async start(file: string, options: BenchOptions = {}): Promise<Bench> {
    const bench = new Bench(new Figures(file));
    // os.tmpdir() reads TMPDIR on every call: SpooledInput's files go here.
    process.env.TMPDIR = bench.temp;
    bench.route("/ok", (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return bench.track("/ok", [Buffer.from("ok")]);
    });
    const app: WSGIApplication = (environ, startResponse) => {
      const route = bench.#routes.get(environ.PATH_INFO as string);
      if (route === undefined) {
        startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
        return [Buffer.from("no such route")];
      }
      return route(environ, startResponse);
    };
    const base = options.handlerClass ?? WSGIRequestHandler;
    const capture = options.captureErrors ?? options.handlerClass === undefined;
    class Accounted extends base {
      override getStderr(): ErrorStream {
        return capture ? bench.errors : super.getStderr();
      }
      override async handle(): Promise<void> {
        bench.#handling += 1;
        try {
          await super.handle();
        } finally {
          bench.#handling -= 1;
          bench.handled += 1;
          bench.#changes.emit("change");
        }
      }
    }
    bench.running = await serve(app, options.server ?? {}, Accounted as RequestHandlerClass);
    bench.running.httpd.listener.on("connection", (socket: Socket) => {
      bench.#sockets.add(socket);
      socket.once("close", () => {
        bench.#sockets.delete(socket);
        bench.#changes.emit("change");
      });
    });
    // First use of every path (spooling included) before anything is counted.
    await bench.get("/ok");
    await bench.quiet();
    return bench;
  }

  get port(): number {
    return this.running.port;
  }

  /** Serve `app` at `path` (exact PATH_INFO). */
  route(path: string, app: WSGIApplication): void {
    this.#routes.set(path, app);
  }

  /** Count the close() calls of `body` (for the request to `path`). */
  track<T extends WSGIBody>(path: string, body: T): T {
    let signal = (): void => {};
    const tracked: Tracked = {
      path,
      closes: 0,
      closed: new Promise<void>((resolve) => {
        signal = resolve;
      }),
    };
    this.#bodies.push(tracked);
    const own = (body as { close?: () => unknown }).close;
    Object.defineProperty(body, "close", {
      configurable: true,
      writable: true,
      value(this: unknown) {
        tracked.closes += 1;
        signal();
        return own?.call(this);
      },
    });
    return body;
  }

  /** The bodies tracked so far, in order. */
  get bodies(): readonly Tracked[] {
    return this.#bodies;
  }

  /** Resolve once no server-side connection is open and no handler is running. */
  async quiet(): Promise<void> {
    while (this.#sockets.size > 0 || this.#handling > 0) {
      await once(this.#changes, "change");
    }
  }

  /** Ask for `path` on a new connection (closed after it); return the one response. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const received = await exchange(this.port, request("GET", path, ["Connection: close"]));
    const [response, extra] = parseResponses(received);
    assert.equal(extra, undefined, "one response");
    return { status: response?.status ?? 0, body: response?.body.toString("latin1") ?? "" };
  }

  /**
   * Inject one fault of `family` with `inject`, then check the server survived it:
   * once every connection has closed and every handler has returned, the next
   * request is answered, every body tracked since has been closed exactly once,
   * the temporary directory is empty and no file descriptor is left open.
   * `faults` says how many faults `inject` injected. Resolves to the text
   * written to the bench's `errors` meanwhile.
   */
  async survives(family: string, inject: () => Promise<unknown>, faults = 1): Promise<string> {
    await this.quiet();
    const logged = this.errors.getValue().length;
    const fds = openFds();
    const handled = this.handled;
    const firstBody = this.#bodies.length;
    await inject();
    await this.quiet();
    const next = await this.get("/ok");
    await this.quiet();
    const bodies = this.#bodies.slice(firstBody);
    const badCloses = bodies.filter((b) => b.closes !== 1);
    const leftFiles = readdirSync(this.temp);
    const fdsAfter = await settledFds(fds);
    const fdDelta = fdsAfter.length - fds.length;
    this.figures.add(family, {
      requests: this.handled - handled,
      faults,
      fds: Math.max(0, fdDelta),
      files: leftFiles.length,
      badCloses: badCloses.length,
      bodies: bodies.length,
    });
    assert.deepEqual(next, { status: 200, body: "ok" }, "the next request is answered");
    assert.deepEqual(
      badCloses.map((b) => `${b.path}: ${b.closes}`),
      [],
      "every body closed exactly once",
    );
    assert.deepEqual(leftFiles, [], "no file left in the temporary directory");
    assert.deepEqual(
      fdsAfter.filter((fd) => !fds.includes(fd)),
      fds.filter((fd) => !fdsAfter.includes(fd)),
      "no file descriptor leaked (the new ones, the closed ones)",
    );
    return this.errors.getValue().slice(logged);
  }

  /** Close the server, restore TMPDIR, remove the temporary directory, write the figures. */
  async close(): Promise<void> {
    await this.running.close();
    if (this.#savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = this.#savedTmpdir;
    rmSync(this.temp, { recursive: true, force: true });
    this.figures.write();
  }
}
