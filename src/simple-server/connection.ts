/**
 * `Connection`: everything the HTTP/1.1 server keeps about one client
 * connection, and its bounds: the requests pipelined behind the one being
 * handled (how many, and when reading stops), the send-stall timeout, and
 * whether anything more is served on it.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { EndBatch } from "./end-batch.js";
import type { WSGIRequestHandler } from "./request-handler.js";

/**
 * How many requests of one connection may wait (pipelined) behind the one being
 * handled before the server stops reading the connection, and how many of them
 * it serves in one turn of the event loop before the other connections get
 * theirs. A client that pipelines deeper is slowed down, not refused.
 */
export const PIPELINE_DEPTH = 16;

/**
 * How many requests of one connection may wait at all: past it the connection
 * is closed at once. Node parses every request of a read (up to 64 KiB, some
 * 2,400 minimal requests) before it can be paused, and keeps each request and
 * its response (about 1.5 KiB) until answered or the connection closes; so the
 * pause alone leaves a connection holding megabytes. A client this far ahead of
 * its responses is flooding, and one that pipelines must retry what a closed
 * connection left unanswered (RFC 9112 §9.3.2).
 */
export const PIPELINE_LIMIT = 128;

/**
 * Let Node abort the requests it parsed on `socket` and never saw answered
 * without capturing a stack for each, when the socket closes.
 *
 * Node's server, on close, destroys every such request with a new
 * `ConnResetException`; a connection that pipelines without reading has
 * thousands of them (a whole read of minimal requests), and the stacks, which
 * would show only Node's own frames, were most of the cost of closing it. The
 * limit is 0 only while the socket's "close" listeners run, from one put before
 * Node's own to one put after it.
 */
function withoutStacksOnClose(socket: Socket | Duplex): void {
  let saved = Error.stackTraceLimit;
  socket.prependOnceListener("close", () => {
    saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  socket.once("close", () => {
    Error.stackTraceLimit = saved;
  });
}

/** A request Node parsed and its response, waiting to be served. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/** One client connection of a `WSGIServer`. */
export class Connection {
  /** A request of this connection is being handled (or is about to be). */
  busy = false;
  /** Its first request waits in the server's pending list (nothing is served yet). */
  pending = false;
  /** No further request of this connection is ever handled. */
  closed = false;
  /** The server stopped reading the connection: its queue is full. */
  paused = false;
  /** Requests served from the queue in a row, in this turn of the event loop. */
  streak = 0;
  /** Requests that arrived (pipelined) while one was handled. */
  readonly queue: Exchange[] = [];
  /** The response being written. */
  current: ServerResponse | undefined = undefined;
  /** The handler of the request being served, once it has one. */
  handler: WSGIRequestHandler | undefined = undefined;
  /** Whether the socket's own timeout is the server's sendTimeout (see `watchSend`). */
  sendArmed = false;
  /** Whether `withoutStacksOnClose` is on for the socket. */
  abortsCheaply = false;
  readonly socket: Socket | Duplex;
  readonly #endBatch: EndBatch;

  /** Keep the state of `socket`; `endBatch` is its server's. */
  constructor(socket: Socket | Duplex, endBatch: EndBatch) {
    this.socket = socket;
    this.#endBatch = endBatch;
    // Node resumes a socket it did not pause itself whenever a request's body is
    // read or a response finishes; while the queue is full, pause it again (in
    // the same tick, so nothing is read in between).
    socket.on("resume", () => {
      if (this.paused) socket.pause();
    });
    // A client that leaves costs nothing more: its queue is dropped at once.
    socket.once("close", () => {
      this.closed = true;
      this.queue.length = 0;
    });
  }

  /**
   * Queue a pipelined request; stop reading the connection when the queue is
   * full. Returns false, having queued nothing, past `PIPELINE_LIMIT`.
   */
  enqueue(req: IncomingMessage, res: ServerResponse): boolean {
    const queue = this.queue;
    if (queue.length >= PIPELINE_LIMIT) return false;
    queue.push({ req, res });
    if (!this.paused && queue.length >= PIPELINE_DEPTH) {
      this.paused = true;
      this.socket.pause();
      if (!this.abortsCheaply) {
        this.abortsCheaply = true;
        withoutStacksOnClose(this.socket);
      }
    }
    return true;
  }

  /** The next queued request; reading goes on once half the queue is free. */
  dequeue(): Exchange | undefined {
    const next = this.queue.shift();
    if (next !== undefined && this.paused && this.queue.length <= PIPELINE_DEPTH / 2) {
      this.paused = false;
      this.socket.resume();
    }
    return next;
  }

  /**
   * Serve nothing more on the connection: what is pipelined is dropped, and the
   * responses queued to end with the turn go out now, before anything is
   * written straight to the socket, never after it.
   */
  stopServing(): void {
    this.closed = true;
    this.queue.length = 0;
    this.#endBatch.flush();
  }

  /**
   * Run `refuse` (an answer written straight to the socket) after the response in
   * progress, never inside it; not at all when that response closes the
   * connection already (a refused request): nothing more is to be said on it.
   */
  refuseAfterCurrent(refuse: () => void): void {
    const current = this.current;
    if (current === undefined || (current.shouldKeepAlive && current.writableFinished)) {
      refuse();
    } else if (current.shouldKeepAlive) {
      current.once("close", refuse);
    }
  }

  /**
   * While bytes wait to be sent, make the socket's own inactivity timeout
   * `sendTimeout`; in the middle of a request once none wait, take it off.
   * Node counts a write that moves only part of its bytes as activity, so only
   * a client that takes nothing at all times out (then "timeout" closes the
   * socket); Node's keep-alive timeout takes the timer over between requests.
   */
  watchSend(sendTimeout: number): void {
    const socket = this.socket as Socket;
    if (typeof socket.setTimeout !== "function") return;
    if (socket.writableLength > 0) {
      // Once only: setting it again would restart the count.
      if (!this.sendArmed || socket.timeout !== sendTimeout) {
        this.sendArmed = true;
        socket.setTimeout(sendTimeout);
      }
    } else if (this.sendArmed) {
      this.sendArmed = false;
      // An application still at work on its answer, with nothing to send now.
      if (this.busy && socket.timeout === sendTimeout) socket.setTimeout(0);
    }
  }

  /**
   * The socket's timeout fired: if it was `sendTimeout`, close the connection.
   * Node closes a socket whose timeout nobody handles; this makes sure of it
   * whoever else listens.
   */
  sendTimedOut(sendTimeout: number): void {
    const socket = this.socket as Socket;
    if (!this.sendArmed || socket.timeout !== sendTimeout) return;
    this.stopServing();
    socket.destroy();
  }
}
