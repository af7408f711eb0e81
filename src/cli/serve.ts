/**
 * One serving process of `wsgiref serve` and `wsgiref static`, alone or as one
 * cluster worker: listen, and on SIGINT/SIGTERM stop accepting, let in-flight
 * requests finish, close.
 */

import type { ServerOptions, WSGIServer } from "../simple-server.js";
import { makeServer } from "../simple-server.js";
import type { WSGIApplication } from "../types.js";
import { JsonLogRequestHandler } from "./access-log-format.js";
import { STOPPED_LINE, servingLine, stoppingLine } from "./banner.js";
import { UnixWSGIServer } from "./bind.js";
import { CliError, oneLine } from "./cli-error.js";
import { Drain } from "./drain.js";
import { CountingRequestHandler, CountingWSGIServer, waitingFor } from "./shutdown.js";
import { StrayErrors } from "./stray-errors.js";

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** A Unix socket to listen on instead of `host` and `port` (`--bind unix:PATH`). */
  path?: string | undefined;
  /** The access-log format (`--log-format`): Python's (the default) or JSON lines. */
  logFormat?: "text" | "json";
  /** The `ServerOptions` given as flags, `workers` included (`wsgi.multiprocess` above 1). */
  server: ServerOptions;
}

/** Make a server for `app`, turning the errors of `listen()` into one-line `CliError`s. */
export async function listen(app: WSGIApplication, options: ListenOptions): Promise<WSGIServer> {
  const { host, port, path } = options;
  const handler = options.logFormat === "json" ? JsonLogRequestHandler : CountingRequestHandler;
  try {
    return path === undefined
      ? await makeServer(host, port, app, CountingWSGIServer, handler, options.server)
      : await makeServer(path, 0, app, UnixWSGIServer, handler, options.server);
  } catch (err) {
    throw listenError(err, path === undefined ? host : `unix:${path}`, port);
  }
}

/** The one-line `CliError` for an error of `listen()` on `host` and `port`. */
export function listenError(err: unknown, host: string, port: number): CliError {
  const code = err instanceof Error ? Reflect.get(err, "code") : undefined;
  if (err instanceof RangeError || (err instanceof TypeError && code === undefined)) {
    // ServerOptions refused a value the flags let through: name the flags.
    const text = err.message.replace(/\b[a-z]+(?:[A-Z][a-z]*)+\b/g, (field) => flagName(field));
    return new CliError(text, { cause: err, exitCode: 2 });
  }
  const where = host.startsWith("unix:") ? host : `${host} port ${port}`;
  const message =
    code === "EADDRINUSE"
      ? host.startsWith("unix:")
        ? `${host} is already in use`
        : `port ${port} on ${host} is already in use`
      : code === "EACCES"
        ? `permission denied to listen on ${where}`
        : code === "EADDRNOTAVAIL"
          ? `address ${host} is not an address of this machine`
          : code === "ENOTFOUND" || code === "EAI_AGAIN"
            ? `host not found: ${host}`
            : `cannot listen on ${where}: ${oneLine(err)}`;
  return new CliError(message, { cause: err });
}

/** The flag of a `ServerOptions` field: `headersTimeout` → `--headers-timeout`. */
function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** What `serveUntilSignal` tells its caller. */
export interface SignalHooks {
  /**
   * Runs once the signal handlers are in place: the serving line goes out
   * here, since whoever reads it may send a signal at once (before, a SIGTERM
   * right after the line could find no handler and kill the process).
   */
  onReady?: () => void;
  /** Runs on the first signal, once the server has stopped accepting. */
  onStop?: (signal: NodeJS.Signals) => void;
  /**
   * Runs on a second signal while draining (a standalone server exits at once:
   * the user asked twice); without it a worker keeps draining, since Ctrl-C
   * reaches it and its primary's SIGTERM right after.
   */
  onRepeat?: (signal: NodeJS.Signals) => void;
}

/** Serve until SIGINT or SIGTERM, then drain and close; resolves when closed. */
export async function serveUntilSignal(server: WSGIServer, hooks: SignalHooks = {}): Promise<void> {
  let stopping = false;
  const drain = new Drain(server);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      hooks.onRepeat?.(signal);
      return;
    }
    stopping = true;
    // Stops accepting, closes idle connections, lets requests being handled finish.
    void drain.close();
    hooks.onStop?.(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  hooks.onReady?.();
  await server.serveForever();
  await drain.close();
}

/**
 * Serve `makeApp()`'s application in this process: print the serving line, stop
 * on a signal after in-flight requests, exit at once on a second one. The
 * application's errors outside requests are logged, never fatal (`StrayErrors`).
 */
export async function serveAlone(
  makeApp: () => Promise<WSGIApplication>,
  options: ListenOptions,
): Promise<number> {
  new StrayErrors().listen();
  const server = await listen(await makeApp(), options);
  const [host, port] = server.serverAddress;
  await serveUntilSignal(server, {
    onReady: () =>
      console.log(
        servingLine(options.path === undefined ? { host, port } : { path: host }, {
          tls: options.server.tls !== undefined,
        }),
      ),
    onStop: (signal) => {
      const waiting = waitingFor(server);
      const more = waiting.startsWith("waiting") ? ` (${signal} again to exit now)` : "";
      console.log(stoppingLine(signal, waiting + more));
    },
    onRepeat: (signal) => {
      process.stderr.write(`wsgiref: ${signal} again; exiting without waiting\n`);
      process.exit(1);
    },
  });
  console.log(STOPPED_LINE);
  return 0;
}
