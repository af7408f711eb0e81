/**
 * Stopping a server on a signal without dropping a request it has accepted.
 *
 * `serverClose()` closes idle connections at once, and to `node:http` a
 * connection accepted a moment ago whose request is still in the socket's
 * buffer is idle: its client gets a closed connection in answer to a request it
 * sent. Under `--workers` that happens on every retirement (`--max-requests`),
 * to the connections the primary handed the worker just before telling it to
 * stop. So a drain first stops accepting, waits until every connection has
 * begun its first request (or `QUIET` ms have passed without it doing so, as a
 * client that only connected), and only then closes; `serverClose()` lets the
 * requests begun finish.
 *
 * With HTTPS or HTTP/2 a connection is the front's (`listener`) before it is
 * `node:http`'s: a TLS handshake, then the first line read to pick the
 * protocol, or an HTTP/2 session, which has begun once it has opened a stream
 * (it then gets GOAWAY from `serverClose()` and its open streams finish).
 */

import type { Http2Session } from "node:http2";
import { Server as NetServer, type Socket } from "node:net";
import { type TLSSocket, Server as TlsServer } from "node:tls";
import type { WSGIServer } from "../simple-server.js";

/** How long (ms) a connection that has not begun a request may hold up a drain. */
const QUIET = 1000;
/** How often (ms) a drain looks at its fresh connections again. */
const POLL = 5;

/** Where a connection is: the front reads its first bytes, or `node:http` has it. */
type Stage = "front" | "http";

/** The connections of one server, watched from when it starts serving. */
export class Drain {
  readonly #server: WSGIServer;
  /** Connections not handed to HTTP/2, by stage (a TLS one once its handshake is done). */
  readonly #sockets = new Map<Socket, Stage>();
  readonly #sessions = new Set<Http2Session>();
  /**
   * TLS connections in their handshake: those accepted less those whose
   * handshake is done, each counted back when it closes. The two sockets of a
   * connection (TCP and TLS) close in either order, so it may dip below 0.
   */
  #handshakes = 0;
  #closing: Promise<void> | undefined;

  constructor(server: WSGIServer) {
    this.#server = server;
    const listener = server.listener;
    const http = server.httpServer;
    if (listener instanceof TlsServer) {
      listener.on("connection", (socket: Socket) => {
        this.#handshakes += 1;
        socket.once("close", () => {
          this.#handshakes -= 1;
        });
      });
      listener.on("secureConnection", (socket: TLSSocket) => {
        this.#handshakes -= 1;
        socket.once("close", () => {
          this.#handshakes += 1;
        });
        // The front has handed it to the HTTP/2 server already (ALPN offers h2 only with it).
        if (socket.alpnProtocol !== "h2") this.#watch(socket, "front");
      });
    } else {
      listener.on("connection", (socket: Socket) =>
        this.#watch(socket, listener === http ? "http" : "front"),
      );
    }
    if (listener !== http) {
      http.on("connection", (socket: Socket) => {
        if (this.#sockets.has(socket)) this.#sockets.set(socket, "http");
      });
    }
    const h2 = server.http2Server;
    if (h2 !== undefined) {
      // Its session stands for it from now on.
      h2.on("connection", (socket: Socket) => this.#sockets.delete(socket));
      h2.on("session", (session: Http2Session) => {
        this.#sessions.add(session);
        session.once("close", () => this.#sessions.delete(session));
      });
    }
  }

  #watch(socket: Socket, stage: Stage): void {
    this.#sockets.set(socket, stage);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  /**
   * Stop accepting, wait for the connections that have not begun a request
   * (at most `QUIET` ms), then `serverClose()`: idle connections close, HTTP/2
   * sessions get GOAWAY, requests being handled finish. Calling it again
   * returns the same promise.
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
    const since = Date.now();
    while (Date.now() - since < QUIET && this.#fresh() > 0) {
      await new Promise((resolve) => setTimeout(resolve, POLL));
    }
    await this.#server.serverClose();
  }

  /** Connections that have not begun their first request. */
  #fresh(): number {
    let n = Math.max(0, this.#handshakes);
    for (const [socket, stage] of this.#sockets) {
      // Handed to node:http by the front once its first line came; at once without a front.
      if (stage === "front" || socket.bytesRead === 0) n += 1;
    }
    // A closed session's state is empty: not counted.
    for (const session of this.#sessions) if (session.state.lastProcStreamID === 0) n += 1;
    return n;
  }
}
