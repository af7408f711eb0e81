/**
 * Stopping a server on a signal without dropping a request it has accepted.
 *
 * `serverClose()` closes idle connections at once, and to `node:http` a
 * connection accepted a moment ago whose request is still in the socket's
 * buffer is idle: its client gets a closed connection in answer to a request it
 * sent. Under `--workers` that happens on every retirement (`--max-requests`),
 * to the connections the primary handed the worker just before telling it to
 * stop. So a drain first stops accepting, waits until every connection has
 * sent something (or `QUIET` ms have passed without it sending anything, as a
 * client that only connected), and only then closes.
 */

import { Server as NetServer, type Socket } from "node:net";
import type { WSGIServer } from "../simple-server.js";

/** How long (ms) a connection that has sent nothing may hold up a drain. */
const QUIET = 1000;
/** How often (ms) a drain looks at its silent connections again. */
const POLL = 5;

/** The connections of one server, watched from when it starts serving. */
export class Drain {
  readonly #server: WSGIServer;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  constructor(server: WSGIServer) {
    this.#server = server;
    // The listener's: node:http has a connection only once its first line came.
    server.listener.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /**
   * Stop accepting, wait for the connections that have sent nothing yet (at
   * most `QUIET` ms), then `serverClose()`: idle connections close, requests
   * being handled finish. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // node:http's own close() would also close the idle connections, those
    // whose first request is not read yet among them: net.Server's only stops
    // accepting (and, in a cluster worker, tells the primary to hand it no more).
    NetServer.prototype.close.call(this.#server.listener);
    const silentSince = Date.now();
    while (Date.now() - silentSince < QUIET && this.#silent() > 0) {
      await new Promise((resolve) => setTimeout(resolve, POLL));
    }
    await this.#server.serverClose();
  }

  /** Connections that have not sent a byte yet. */
  #silent(): number {
    let n = 0;
    for (const socket of this.#sockets) if (socket.bytesRead === 0) n += 1;
    return n;
  }
}
