/**
 * `ServerResponseSink`: the output stage's sink over `node:http`'s
 * `ServerResponse`, for the HTTP/1.1 server (and any user of a Node
 * `(req, res)` pair). Node frames the body (Content-Length, chunked, or the
 * close; none for HEAD, 204 and 304) and adds `Connection` and `Keep-Alive`.
 *
 * The one module of the server that reads Node internals, each because no
 * public API says it: `ServerResponse._last` (whether Node closes the
 * connection after this response), `ServerResponse._sent100` (whether Node
 * already answered `100 Continue`, see `continueSent`) and the socket's
 * `_handle.fd` (the descriptor sendfile(2) writes to).
 */

import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { ResponseSink, SentFile } from "../gateway/output-stage.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { formatDateTime, type HttpDates } from "../internal/http-date.js";
import type { EndBatch } from "./end-batch.js";
import type { KernelSendfile } from "./kernel-sendfile.js";
import { drained, sendFile } from "./send-file.js";

const EMPTY = new Uint8Array(0);

/** What a `ServerResponseSink` may use of its server (a `WSGIServer` has both). */
export interface SinkServices {
  /** Responses end with their turn of the event loop through it; absent: at once. */
  readonly endBatch?: EndBatch | undefined;
  /** Files go out by sendfile(2) through it when it applies; absent: by reads. */
  readonly kernelSendfile?: KernelSendfile | undefined;
  /** The current HTTP date, formatted once a second; absent: formatted for each response. */
  readonly dates?: HttpDates | undefined;
}

/**
 * The client connection, offered to the application as `environ["wsgiref.connection"]`
 * for output the WSGI response cannot express (raw bytes, custom framing).
 *
 * Until `takeOver()` is called the server owns the socket: write nothing to it.
 */
export interface ServerConnection {
  /** The client's socket. */
  readonly socket: Socket;
  /**
   * Take the response over and return the socket: from now on the server writes
   * nothing for this request (status, headers and body returned by the
   * application are dropped; the body is still iterated and closed), and it closes
   * the connection (after what was written is sent) once the application has
   * finished. Throws an `Error` once the response has started.
   */
  takeOver(): Socket;
}

class Connection implements ServerConnection {
  readonly #sink: ServerResponseSink;

  constructor(sink: ServerResponseSink) {
    this.#sink = sink;
  }

  get socket(): Socket {
    return this.#sink.response.socket as Socket;
  }

  takeOver(): Socket {
    return this.#sink.takeOver();
  }
}

/**
 * A response written to a `ServerResponse`. The chunk that completes the
 * Content-Length is held back for `end()`, so that it goes out with the end as a
 * plain Node server sends a body (no wait for "drain" before the end, no empty
 * write after); if the end does not come with it (a body still finishing), the
 * chunk goes out at the end of the current turn of the event loop (when
 * responses end with their turn), or once the synchronous work that wrote it
 * is done.
 */
export class ServerResponseSink implements ResponseSink {
  /** The response written to. */
  readonly response: ServerResponse;
  readonly #endBatch: EndBatch | undefined;
  readonly #kernel: KernelSendfile | undefined;
  readonly #dates: HttpDates | undefined;
  #held: Uint8Array | undefined = undefined;
  #headSent = false;
  #lengthFramed = false;
  #takenOver = false;
  #connection: Connection | undefined = undefined;
  readonly #release = (): void => {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined && !this.response.destroyed && !this.response.writableEnded) {
      this.response.write(held);
    }
  };

  constructor(response: ServerResponse, services?: SinkServices) {
    this.response = response;
    this.#endBatch = services?.endBatch;
    this.#kernel = services?.kernelSendfile;
    this.#dates = services?.dates;
  }

  get destroyed(): boolean {
    return this.response.destroyed;
  }

  get takenOver(): boolean {
    return this.#takenOver;
  }

  /** The `wsgiref.connection` of the request. */
  get connection(): ServerConnection {
    this.#connection ??= new Connection(this);
    return this.#connection;
  }

  /**
   * Take the response over: nothing more is written for this request. Returns
   * the socket. Throws an `Error` once the head is out.
   */
  takeOver(): Socket {
    if (this.#headSent) {
      throw new Error("the connection cannot be taken over once the response has started");
    }
    this.#takenOver = true;
    return this.response.socket as Socket;
  }

  head(code: number, reason: string, fields: string[], lengthFramed: boolean): void {
    // Node adds no Date of its own when the fields have one. It checks names and
    // values again (tokens; no control character, nothing past U+00FF), throwing
    // before anything is written.
    this.response.writeHead(code, reason, fields);
    this.#headSent = true;
    this.#lengthFramed = lengthFramed;
  }

  write(chunk: Uint8Array, last = false): boolean {
    const res = this.response;
    if (res.destroyed || res.writableEnded) throw res.errored ?? streamDestroyedError("stdout");
    if (!last) return res.write(chunk);
    this.#held = chunk;
    const batch = this.#endBatch;
    if (batch !== undefined) batch.releaseAfterTurn(this.#release);
    else queueMicrotask(this.#release);
    return true;
  }

  drained(): Promise<void> {
    return drained(this.response);
  }

  date(): string {
    return this.#dates?.now() ?? formatDateTime(Date.now());
  }

  sendFile(fd: number, limit: number): Promise<SentFile> {
    this.#release();
    return sendFile(fd, this.response, limit, this.#kernel, this.#socketFd());
  }

  end(closeAfter: boolean): void {
    const res = this.response;
    const last = this.#held;
    this.#held = undefined;
    if (closeAfter) {
      // Node fixed keep-alive with the head; the server reads shouldKeepAlive to
      // drop what is pipelined.
      res.shouldKeepAlive = false;
      const socket = res.socket;
      const onEnd = (): void => socket?.destroySoon();
      if (last === undefined) res.end(onEnd);
      else res.end(last, onEnd);
      return;
    }
    // A response after which Node closes the connection (`_last`: its head said
    // `Connection: close`, as for HTTP/1.0 without a Content-Length) ends at
    // once, and says so through shouldKeepAlive, which the server reads to serve
    // nothing pipelined after it: the socket's own end comes only once the
    // client has taken the response. Node has no public flag for it.
    if ((res as { _last?: boolean })._last === true) {
      res.shouldKeepAlive = false;
      endWith(res, last);
    } else if (this.#endBatch !== undefined) {
      this.#endBatch.endAfterTurn(res, last);
    } else {
      endWith(res, last);
    }
  }

  cut(): void {
    const res = this.response;
    this.#release();
    const socket = res.socket;
    if (socket === null || socket.destroyed) {
      res.destroy();
      return;
    }
    if (res.chunkedEncoding || this.#lengthFramed) {
      // Framed by Content-Length or chunked: a clean close leaves the body short
      // or without its last chunk.
      socket.end(() => socket.destroy());
    } else {
      // A body delimited by the close itself needs a reset to look incomplete;
      // after what was written has gone out: a reset with a write in flight
      // turns into a plain close.
      socket.write(EMPTY, () => socket.resetAndDestroy());
    }
  }

  /**
   * The descriptor of the plain TCP socket under the response, or -1 (TLS, or
   * gone). Node has no public API for it; sendfile(2) needs it.
   */
  #socketFd(): number {
    const socket = this.response.socket as
      | (Socket & { encrypted?: boolean; _handle?: { fd?: unknown } })
      | null;
    if (socket === null || socket.destroyed || socket.encrypted) return -1;
    const fd = socket._handle?.fd;
    return typeof fd === "number" && fd >= 0 ? fd : -1;
  }
}

/**
 * Whether Node has sent `100 Continue` on `res` itself: it does before its
 * `request` event when no `checkContinue` listener is set (a host server's,
 * under `toNodeListener`); a second would be a stray interim response.
 */
export function continueSent(res: ServerResponse): boolean {
  return (res as { _sent100?: boolean })._sent100 === true;
}

function endWith(res: ServerResponse, last: Uint8Array | undefined): void {
  if (last === undefined) res.end();
  else res.end(last);
}
