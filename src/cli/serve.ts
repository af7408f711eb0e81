/**
 * One serving process of `wsgiref serve` and `wsgiref static`, alone or as one
 * cluster worker: listen, and on SIGINT/SIGTERM stop accepting, let in-flight
 * requests finish, close.
 */

import type { ServerOptions, WSGIServer } from "../simple-server.js";
import { makeServer, WSGIServer as Server, WSGIRequestHandler } from "../simple-server.js";
import type { WSGIApplication } from "../types.js";
import { CliError, oneLine } from "./cli-error.js";

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** The `ServerOptions` given as flags, `workers` included (`wsgi.multiprocess` above 1). */
  server: ServerOptions;
}

/** The line both Python's `wsgiref.simple_server` and this command print once listening. */
export function servingLine(host: string, port: number): string {
  return `Serving HTTP on ${host} port ${port} ...`;
}

/** Make a server for `app`, turning the errors of `listen()` into one-line `CliError`s. */
export async function listen(app: WSGIApplication, options: ListenOptions): Promise<WSGIServer> {
  const { host, port } = options;
  try {
    return await makeServer(host, port, app, Server, WSGIRequestHandler, options.server);
  } catch (err) {
    throw listenError(err, host, port);
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
  const message =
    code === "EADDRINUSE"
      ? `port ${port} on ${host} is already in use`
      : code === "EACCES"
        ? `permission denied to listen on ${host} port ${port}`
        : code === "EADDRNOTAVAIL"
          ? `address ${host} is not an address of this machine`
          : code === "ENOTFOUND" || code === "EAI_AGAIN"
            ? `host not found: ${host}`
            : `cannot listen on ${host} port ${port}: ${oneLine(err)}`;
  return new CliError(message, { cause: err });
}

/** The flag of a `ServerOptions` field: `headersTimeout` → `--headers-timeout`. */
function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Serve until SIGINT or SIGTERM, then drain and close; resolves when closed.
 *
 * `onRepeat` runs on a second signal while draining (a standalone server exits
 * at once: the user asked twice); a worker passes nothing and keeps draining,
 * since Ctrl-C reaches it and its primary's SIGTERM right after.
 */
export async function serveUntilSignal(
  server: WSGIServer,
  onRepeat?: (signal: NodeJS.Signals) => void,
): Promise<void> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      onRepeat?.(signal);
      return;
    }
    stopping = true;
    // Stops accepting, closes idle connections, lets requests being handled finish.
    void server.serverClose();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await server.serveForever();
  await server.serverClose();
}

/**
 * Serve `makeApp()`'s application in this process: print the serving line, stop
 * on a signal after in-flight requests, exit at once on a second one.
 */
export async function serveAlone(
  makeApp: () => Promise<WSGIApplication>,
  options: ListenOptions,
): Promise<number> {
  const server = await listen(await makeApp(), options);
  const [host, port] = server.serverAddress;
  console.log(servingLine(host, port));
  await serveUntilSignal(server, (signal) => {
    process.stderr.write(`wsgiref: ${signal} again; exiting without waiting\n`);
    process.exit(1);
  });
  return 0;
}
