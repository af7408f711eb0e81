/**
 * `wsgiref serve --workers N` through `node:cluster`: the primary forks N copies
 * of the command, which each listen on the same address (the primary holds the
 * one listening socket and hands connections out in turn), replaces a worker
 * that dies, and on SIGINT/SIGTERM has every worker drain before it exits.
 *
 * Beyond that (`WorkerPolicy`): a worker whose heartbeat stops is killed and
 * replaced; one that asks to retire (request count, memory) is replaced and
 * told to drain, at once if another worker is listening, else once its
 * successor is, so that no request is lost; a worker told to stop that is
 * still running after `gracefulTimeout` is killed.
 */

import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import { createServer } from "node:net";
import type { WSGIApplication } from "../types.js";
import { plural, STOPPED_LINE, servingLine, stoppingLine, workerLine } from "./banner.js";
import { removeSocketFile } from "./bind.js";
import { CliError, oneLine } from "./cli-error.js";
import { type ListenOptions, listen, listenError, serveUntilSignal } from "./serve.js";
import { StrayErrors } from "./stray-errors.js";
import { isBeat, isRetire, WorkerHealth } from "./worker-health.js";
import { DEFAULT_POLICY, type WorkerPolicy } from "./worker-policy.js";

/**
 * Environment variable through which the primary gives its workers the port to
 * listen on when asked for port 0 (any free one). The primary chooses it before
 * forking: the workers' shared socket is keyed by the port they ask for, and
 * closes when its last worker dies, so workers asking for 0 could end up on
 * different ports after their replacement.
 */
const PORT_VARIABLE = "WSGIREF_WORKER_PORT";

/** Consecutive workers dying before they listen, after which the primary gives up. */
const MAX_EARLY_DEATHS = 5;

/**
 * A worker that crashes after listening for this long (ms) is replaced at once;
 * one that crashes sooner is replaced after a delay that doubles with each such
 * crash in its slot, from `BACKOFF_FIRST` to at most `BACKOFF_MAX`. So a request
 * that kills every worker it reaches costs at most one fork per slot a second,
 * and the other slots keep serving meanwhile.
 */
const STABLE = 1000;
const BACKOFF_FIRST = 100;
const BACKOFF_MAX = 2000;

/**
 * The delay (ms) before replacing a worker that crashed after listening:
 * `level` 0 (it had been up `STABLE` ms) at once, then 100 ms, 200 ms, ... 2 s.
 */
export function restartDelay(level: number): number {
  return level === 0 ? 0 : Math.min(BACKOFF_FIRST * 2 ** (level - 1), BACKOFF_MAX);
}

/** What a worker tells its primary when it cannot start (bad module, port in use). */
interface FatalMessage {
  wsgirefFatal: string;
  exitCode: number;
}

function isFatal(message: unknown): message is FatalMessage {
  return typeof message === "object" && message !== null && "wsgirefFatal" in message;
}

/** The port a worker must listen on: the primary's choice when it made one. */
export function workerPort(port: number): number {
  const fixed = process.env[PORT_VARIABLE];
  return fixed === undefined ? port : Number(fixed);
}

/**
 * Run the primary of `count` workers until they have drained after SIGINT or
 * SIGTERM (resolves 0) or cannot start (prints why, resolves non-zero).
 *
 * Prints the serving line once, when all `count` are listening. A worker that
 * dies is logged in one line and replaced (see `restartDelay`). Workers that
 * die before listening are replaced after a growing delay, and after
 * `MAX_EARLY_DEATHS` in a row the primary stops them all and gives up.
 */
export async function runPrimary(
  count: number,
  options: ListenOptions,
  policy = DEFAULT_POLICY,
): Promise<number> {
  const { host, port, path } = options;
  const env: Record<string, string> =
    port === 0 && path === undefined ? { [PORT_VARIABLE]: String(await freePort(host)) } : {};
  const code = await new Primary(count, env, path, policy, options.server.tls !== undefined).run();
  if (path !== undefined) removeSocketFile(path);
  if (code === 0) console.log(STOPPED_LINE);
  return code;
}

/** What the primary knows of one worker. */
interface WorkerState {
  /** When it started listening. */
  readyAt: number | undefined;
  /** Its slot's backoff level (see `restartDelay`), inherited from the worker it replaced. */
  level: number;
  /** Asked to retire: replaced already, its exit is planned. */
  retiring: boolean;
  /** Killed when no heartbeat comes for `workerTimeout`. */
  watchdog: NodeJS.Timeout | undefined;
  /** Killed when still running `gracefulTimeout` after being told to stop. */
  deadline: NodeJS.Timeout | undefined;
}

/** The primary's state: its workers, and whether it is serving or stopping. */
class Primary {
  readonly #count: number;
  /** Whether the workers speak HTTPS, for the serving line. */
  readonly #tls: boolean;
  readonly #env: Record<string, string>;
  /** The Unix socket the workers listen on, if not a TCP port. */
  readonly #path: string | undefined;
  readonly #policy: WorkerPolicy;
  readonly #workers = new Map<Worker, WorkerState>();
  /** Retiring workers waiting for another to listen before they are stopped. */
  readonly #toRelease: Worker[] = [];
  /** Replacements waiting for their backoff delay. */
  readonly #pending = new Set<NodeJS.Timeout>();
  #done: (code: number) => void = () => undefined;
  #listening = 0;
  #ready = false;
  #stopping = false;
  #exitCode = 0;
  #earlyDeaths = 0;
  #signals = 0;

  constructor(
    count: number,
    env: Record<string, string>,
    path: string | undefined,
    policy: WorkerPolicy,
    tls = false,
  ) {
    this.#tls = tls;
    this.#count = count;
    this.#env = env;
    this.#path = path;
    this.#policy = policy;
  }

  run(): Promise<number> {
    return new Promise((done) => {
      this.#done = done;
      cluster.on("listening", (worker, address) => this.#onListening(worker, address));
      cluster.on("message", (worker, message: unknown) => this.#onMessage(worker, message));
      cluster.on("exit", (worker, code, signal) => this.#onExit(worker, code, signal));
      process.on("SIGINT", this.#onSignal);
      process.on("SIGTERM", this.#onSignal);
      for (let i = 0; i < this.#count; i++) this.#fork(0);
    });
  }

  #fork(level: number): void {
    if (this.#stopping) return;
    const worker = cluster.fork(this.#env);
    // node:cluster answers a worker's listen() over IPC; a worker that has
    // exited by then (the port was taken, it crashed) makes that send fail,
    // emitted on the Worker, fatal unless heard. Its exit is handled on "exit":
    // the message had nobody left to reach. Any other failure is logged.
    worker.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE" || err.code === "ERR_IPC_CHANNEL_CLOSED") return;
      this.#log(`worker ${worker.process.pid}: ${oneLine(err)}`);
    });
    this.#workers.set(worker, {
      readyAt: undefined,
      level,
      retiring: false,
      watchdog: undefined,
      deadline: undefined,
    });
  }

  #forkLater(delay: number, level: number): void {
    if (delay === 0) {
      this.#fork(level);
      return;
    }
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      this.#fork(level);
    }, delay);
    this.#pending.add(timer);
  }

  /** Tell `worker` to drain and exit, and kill it if it is still there after `gracefulTimeout`. */
  #release(worker: Worker, state: WorkerState, signal: NodeJS.Signals = "SIGTERM"): void {
    worker.process.kill(signal);
    const grace = this.#policy.gracefulTimeout;
    if (signal === "SIGKILL" || grace === 0 || state.deadline !== undefined) return;
    state.deadline = setTimeout(() => {
      this.#log(`worker ${worker.process.pid} still running ${grace} ms after SIGTERM; killing it`);
      worker.process.kill("SIGKILL");
    }, grace);
  }

  #stop(code: number, signal: NodeJS.Signals = "SIGTERM"): void {
    this.#stopping = true;
    this.#exitCode = code;
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
    for (const [worker, state] of this.#workers) this.#release(worker, state, signal);
    if (this.#workers.size === 0) this.#done(this.#exitCode);
  }

  #fail(message: string, code = 1): void {
    if (!this.#stopping) {
      this.#log(message);
      this.#stop(code);
    }
  }

  #log(message: string): void {
    process.stderr.write(`wsgiref: ${message}\n`);
  }

  /** Workers listening and not retiring: those that count toward `count`. */
  #serving(): number {
    let n = 0;
    for (const state of this.#workers.values()) {
      if (state.readyAt !== undefined && !state.retiring) n += 1;
    }
    return n;
  }

  #onListening(worker: Worker, address: { address: string | null; port: number }): void {
    const state = this.#workers.get(worker);
    if (state === undefined) return;
    state.readyAt = Date.now();
    this.#listening += 1;
    // A worker that listens proves the module loads: startup failures start over.
    this.#earlyDeaths = 0;
    const timeout = this.#policy.workerTimeout;
    if (timeout > 0) {
      state.watchdog = setTimeout(() => {
        this.#log(
          `worker ${worker.process.pid} sent no heartbeat for ${timeout} ms (its event loop is blocked); killing it`,
        );
        worker.process.kill("SIGKILL");
      }, timeout);
    }
    console.log(workerLine(worker.process.pid, this.#serving(), this.#count));
    if (!this.#ready && this.#listening >= this.#count) {
      this.#ready = true;
      const path = this.#path;
      const bound =
        path === undefined ? { host: address.address ?? "", port: address.port } : { path };
      console.log(servingLine(bound, { workers: this.#count, tls: this.#tls }));
    }
    // Someone now takes connections in a retiring worker's place: it can go.
    const retired = this.#toRelease.shift();
    const retiredState = retired && this.#workers.get(retired);
    if (retired && retiredState && !this.#stopping) this.#release(retired, retiredState);
  }

  #onMessage(worker: Worker, message: unknown): void {
    const state = this.#workers.get(worker);
    if (state === undefined) return;
    if (isBeat(message)) {
      state.watchdog?.refresh();
    } else if (isRetire(message)) {
      if (state.retiring || this.#stopping) return;
      state.retiring = true;
      this.#log(
        `worker ${worker.process.pid} retires (${message.wsgirefRetire}); starting a new one`,
      );
      this.#fork(0);
      // Another worker takes the connections: it can stop now. The last one
      // listening waits for its successor, or the shared socket would close.
      const others = [...this.#workers].some(
        ([other, s]) => other !== worker && s.readyAt !== undefined && !s.retiring,
      );
      if (others) this.#release(worker, state);
      else this.#toRelease.push(worker);
    } else if (isFatal(message)) {
      if (this.#ready) {
        this.#log(`worker ${worker.process.pid}: ${message.wsgirefFatal}`);
      } else {
        // Before any worker listens, one's failure is everyone's: same module, same port.
        this.#fail(message.wsgirefFatal, message.exitCode);
      }
    }
  }

  #onExit(worker: Worker, code: number, signal: string | null): void {
    const state = this.#workers.get(worker);
    if (state === undefined) return;
    this.#workers.delete(worker);
    clearTimeout(state.watchdog);
    clearTimeout(state.deadline);
    if (state.readyAt !== undefined) this.#listening -= 1;
    const waiting = this.#toRelease.indexOf(worker);
    if (waiting !== -1) this.#toRelease.splice(waiting, 1);
    if (this.#stopping) {
      if (this.#exitCode === 0) console.log(`Worker ${worker.process.pid} stopped`);
      if (this.#workers.size === 0) this.#done(this.#exitCode);
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const dead = `worker ${worker.process.pid} ${how}`;
    if (state.retiring) {
      // Replaced when it asked to retire; only an unplanned end is news.
      if (signal !== null || code !== 0) this.#log(`${dead} while retiring`);
      return;
    }
    if (state.readyAt === undefined) {
      if (++this.#earlyDeaths >= MAX_EARLY_DEATHS) {
        this.#fail(`${dead}, the ${this.#earlyDeaths}th in a row to die at startup; giving up`);
        return;
      }
      this.#log(`${dead}; starting a new one`);
      // Back off (0.1 s, 0.2 s, 0.4 s, ...) rather than fork in a tight loop.
      this.#forkLater(100 * 2 ** (this.#earlyDeaths - 1), state.level);
      return;
    }
    // A crash after listening: always replaced, sooner the longer it had served.
    const level = Date.now() - state.readyAt >= STABLE ? 0 : state.level + 1;
    this.#log(`${dead}; starting a new one`);
    this.#forkLater(restartDelay(level), level);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    // Once: drain. Twice: the user insists; end the workers now.
    if (++this.#signals === 1) {
      const waiting = `waiting for ${plural(this.#workers.size, "worker")} to finish their requests`;
      console.log(stoppingLine(signal, `${waiting} (${signal} again to stop them now)`));
      this.#stop(0);
    } else {
      this.#stop(1, "SIGKILL");
    }
  };
}

/** A port on `host` free right now, found by binding port 0 and closing. */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  try {
    await once(server, "listening");
  } catch (err) {
    throw listenError(err, host, 0);
  }
  const address = server.address();
  server.close();
  return typeof address === "object" && address !== null ? address.port : 0;
}

/**
 * Run one worker: log the application's errors outside requests instead of
 * dying of them, load it, listen, serve until SIGINT/SIGTERM, drain, and exit
 * 0. A failure to start goes to the primary as one line. Under `policy`, the
 * worker beats, counts its requests and watches its memory (`WorkerHealth`).
 */
export async function runWorker(
  makeApp: () => Promise<WSGIApplication>,
  options: ListenOptions,
  policy = DEFAULT_POLICY,
): Promise<number> {
  new StrayErrors().listen();
  const health = new WorkerHealth(policy);
  let server: Awaited<ReturnType<typeof listen>>;
  try {
    const app = health.wrap(await makeApp());
    server = await listen(app, { ...options, port: workerPort(options.port) });
  } catch (err) {
    const message = err instanceof CliError ? err.message : oneLine(err);
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const fatal: FatalMessage = { wsgirefFatal: message, exitCode };
    await new Promise<void>((sent) => process.send?.(fatal, undefined, {}, () => sent()));
    return exitCode;
  }
  health.start();
  await serveUntilSignal(server);
  health.stop();
  await disconnect();
  return 0;
}

/**
 * Leave the cluster before exiting. The primary may have handed this worker a
 * connection just before it learnt the worker had stopped listening; a worker
 * still connected hands it back, one that has exited loses it (its client
 * waits forever). Disconnecting waits for the primary's answer, which comes
 * after any such connection.
 */
async function disconnect(): Promise<void> {
  const worker = cluster.worker;
  if (worker === undefined || !process.connected) return;
  const gone = once(process, "disconnect");
  worker.disconnect();
  await gone;
}
