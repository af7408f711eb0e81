/**
 * `wsgiref serve --workers N` through `node:cluster`: the primary forks N copies
 * of the command, which each listen on the same address (the primary holds the
 * one listening socket and hands connections out in turn), replaces a worker
 * that dies, and on SIGINT/SIGTERM has every worker drain before it exits.
 */

import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import { createServer } from "node:net";
import type { WSGIServer } from "../simple-server.js";
import { plural, STOPPED_LINE, servingLine, stoppingLine, workerLine } from "./banner.js";
import { removeSocketFile } from "./bind.js";
import { CliError, oneLine } from "./cli-error.js";
import { type ListenOptions, listenError, serveUntilSignal } from "./serve.js";
import { StrayErrors } from "./stray-errors.js";

/**
 * Environment variable through which the primary gives its workers the port to
 * listen on when asked for port 0 (any free one). The primary chooses it before
 * forking: the workers' shared socket is keyed by the port they ask for, and
 * closes when its last worker dies, so workers asking for 0 could end up on
 * different ports after their replacement.
 */
const PORT_VARIABLE = "WSGIREF_WORKER_PORT";

/** Consecutive workers dying at startup, after which the primary gives up. */
const MAX_EARLY_DEATHS = 5;

/** A worker that dies within this time of listening (ms) died at startup too. */
const STARTUP = 1000;

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
 * dies is logged in one line and replaced. Workers that die at startup (before
 * listening or within `STARTUP` of it) are replaced after a growing delay, and
 * after `MAX_EARLY_DEATHS` in a row the primary stops them all and gives up.
 */
export async function runPrimary(count: number, options: ListenOptions): Promise<number> {
  const { host, port, path } = options;
  const env =
    port === 0 && path === undefined ? { [PORT_VARIABLE]: String(await freePort(host)) } : {};
  const code = await new Promise<number>((done) => {
    const alive = new Set<Worker>();
    /** Listening workers, each with the time it started listening. */
    const listening = new Map<Worker, number>();
    let ready = false;
    let stopping = false;
    let exitCode = 0;
    let earlyDeaths = 0;

    const fork = (): void => {
      if (!stopping) {
        alive.add(cluster.fork(env));
      }
    };
    const stop = (code: number, signal: NodeJS.Signals = "SIGTERM"): void => {
      stopping = true;
      exitCode = code;
      for (const worker of alive) {
        worker.process.kill(signal);
      }
      if (alive.size === 0) {
        done(exitCode);
      }
    };
    const fail = (message: string, code = 1): void => {
      if (!stopping) {
        process.stderr.write(`wsgiref: ${message}\n`);
        stop(code);
      }
    };

    cluster.on("listening", (worker, address) => {
      listening.set(worker, Date.now());
      // A worker that stays up past its startup ends a run of early deaths.
      setTimeout(() => {
        if (listening.has(worker)) earlyDeaths = 0;
      }, STARTUP).unref();
      console.log(workerLine(worker.process.pid, listening.size, count));
      if (!ready && listening.size === count) {
        ready = true;
        const bound =
          path === undefined ? { host: address.address ?? "", port: address.port } : { path };
        console.log(servingLine(bound, { workers: count }));
      }
    });
    cluster.on("message", (worker, message: unknown) => {
      if (!isFatal(message)) {
        return;
      }
      if (ready) {
        process.stderr.write(`wsgiref: worker ${worker.process.pid}: ${message.wsgirefFatal}\n`);
      } else {
        // Before any worker listens, one's failure is everyone's: same module, same port.
        fail(message.wsgirefFatal, message.exitCode);
      }
    });
    cluster.on("exit", (worker, code, signal) => {
      alive.delete(worker);
      const since = listening.get(worker);
      listening.delete(worker);
      if (stopping) {
        if (exitCode === 0) console.log(`Worker ${worker.process.pid} stopped`);
        if (alive.size === 0) {
          done(exitCode);
        }
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const dead = `worker ${worker.process.pid} ${how}`;
      const early = since === undefined || Date.now() - since < STARTUP;
      if (early && ++earlyDeaths >= MAX_EARLY_DEATHS) {
        fail(`${dead}, the ${earlyDeaths}th in a row to die at startup; giving up`);
        return;
      }
      process.stderr.write(`wsgiref: ${dead}; starting a new one\n`);
      if (!early) {
        fork();
      } else {
        // Back off (0.1 s, 0.2 s, 0.4 s, ...) rather than fork in a tight loop.
        setTimeout(fork, 100 * 2 ** (earlyDeaths - 1));
      }
    });

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      // Once: drain. Twice: the user insists; end the workers now.
      if (++signals === 1) {
        const waiting = `waiting for ${plural(alive.size, "worker")} to finish their requests`;
        console.log(stoppingLine(signal, `${waiting} (${signal} again to stop them now)`));
        stop(0);
      } else {
        stop(1, "SIGKILL");
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);

    for (let i = 0; i < count; i++) {
      fork();
    }
  });
  if (path !== undefined) removeSocketFile(path);
  if (code === 0) console.log(STOPPED_LINE);
  return code;
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
 * dying of them (`StrayErrors`), start its server with `start`, serve until
 * SIGINT/SIGTERM, drain, and exit 0. A failure to start goes to the primary as
 * one line.
 */
export async function runWorker(start: () => Promise<WSGIServer>): Promise<number> {
  new StrayErrors().listen();
  let server: WSGIServer;
  try {
    server = await start();
  } catch (err) {
    const message = err instanceof CliError ? err.message : oneLine(err);
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const fatal: FatalMessage = { wsgirefFatal: message, exitCode };
    await new Promise<void>((sent) => process.send?.(fatal, undefined, {}, () => sent()));
    return exitCode;
  }
  await serveUntilSignal(server);
  return 0;
}
