/**
 * `--bind` (SPEC.md §11.7): `unix:PATH` serves on a Unix socket, the usual way
 * for a proxy on the same machine to reach an application server; `HOST:PORT`
 * is `--host` and `--port` in one, as gunicorn spells it. A socket file left by
 * a server that was killed is removed; one still answering is not.
 */

import cluster from "node:cluster";
import { lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { CliError, usageError } from "./cli-error.js";
import { CountingWSGIServer } from "./shutdown.js";

/** Where `--bind` says to listen. */
export type BindTarget = { path: string } | { host: string; port: number };

/** Parse `--bind`: `unix:PATH`, `HOST:PORT` or `[IPV6]:PORT`. */
export function parseBind(text: string): BindTarget {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw usageError(`--bind unix: needs a socket path: '${text}'`);
    return { path };
  }
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    throw usageError(`--bind must be unix:PATH or HOST:PORT: '${text}'`);
  }
  return { host: match[1] ?? match[2] ?? "", port };
}

/**
 * Make `path` free for a new socket: nothing to do when absent; a socket file
 * no server answers on (left by a killed one) is removed. Throws a `CliError`
 * when a server still answers there, or when `path` is not a socket: that file
 * is someone's, not ours to delete.
 */
export async function claimSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new CliError(`cannot use socket path ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isSocket) throw new CliError(`${path} exists and is not a socket; not removing it`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (answered) throw new CliError(`socket ${path} is already in use by a running server`);
  unlinkSync(path);
  console.log(`Removed the stale socket file ${path}`);
}

/** Remove the socket file at `path` if it is still there. */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (err) {
    // Gone already: Node removes the file of a socket it closes.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/**
 * The command's server on a Unix socket: its host is the socket's path (its port is
 * unused). The peer has no address, so `REMOTE_ADDR` is empty. `SERVER_NAME`
 * and `SERVER_PORT` are `localhost` and `80`, which PEP 3333 requires to be
 * non-empty: a request over HTTP/1.1 carries its Host, which URLs are built
 * from. The socket file is removed when the server closes, unless it is a
 * cluster worker's: the primary holds that socket for the other workers.
 */
export class UnixWSGIServer extends CountingWSGIServer {
  /** The socket's path. */
  get socketPath(): string {
    return this.serverAddress[0];
  }

  override async serverBind(): Promise<void> {
    const server = this.listener;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ path: this.socketPath }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.frontListening();
    // After listening, only accept() fails (EMFILE, …) and Node retries; say so.
    server.on("error", (err) => process.stderr.write(`WSGIServer: ${err.message}\n`));
    this.serverName = "localhost";
    this.serverPort = 80;
    this.setupEnviron();
  }

  override async serverClose(): Promise<void> {
    await super.serverClose();
    if (cluster.isPrimary) removeSocketFile(this.socketPath);
  }
}
