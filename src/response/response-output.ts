/**
 * Where a `ResponseWriter`'s bytes go: through WSGI (`startResponse`, then a body
 * the gateway iterates), or raw, straight to the client's socket once the server
 * has handed it over (`environ["wsgiref.connection"]`).
 *
 * One object is both: the body `handlerApp` returns to the gateway, and the sink
 * the writer pushes to. Writes are queued and return at once; the queue is
 * drained as the gateway pulls chunks (WSGI) or as the socket accepts them (raw).
 */

import { Buffer } from "node:buffer";
import type { ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { formatError } from "../internal/format-error.js";
import type { ErrorStream, FileLike, StartResponse, WSGIEnvironment } from "../types.js";
import { reasonPhrase } from "./status-codes.js";

/**
 * The environ key under which a server offers the client connection; the same
 * string as `CONNECTION_KEY` of `wsgiref/simple-server` (a test pins it), which
 * the core cannot import.
 */
export const CONNECTION_KEY = "wsgiref.connection";

/** What the Response API needs of `environ["wsgiref.connection"]` (`ServerConnection`). */
export interface Connection {
  readonly socket: Socket;
  takeOver(): Socket;
}

/**
 * The environ key under which an HTTP/2 server offers the request's stream; the
 * same string as `HTTP2_STREAM_KEY` of `wsgiref/simple-server`.
 */
export const HTTP2_STREAM_KEY = "wsgiref.http2_stream";

/**
 * What the Response API needs of `environ["wsgiref.http2_stream"]`: the
 * request's `ServerHttp2Stream`, and a way to take its response over from the
 * server (after which the server sends nothing on it).
 */
export interface StreamOffer {
  readonly stream: ServerHttp2Stream;
  takeOver(): ServerHttp2Stream;
}

/** Whether `value` is a `StreamOffer`. */
export function isStreamOffer(value: unknown): value is StreamOffer {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { takeOver?: unknown }).takeOver === "function" &&
    typeof (value as { stream?: unknown }).stream === "object"
  );
}

/** What is queued for output: bytes, or a file read in chunks as it goes out. */
export type OutputItem = Uint8Array | FileLike;

/** Where the response stands: nothing out yet, started through WSGI, or raw. */
export type OutputMode = "pending" | "wsgi" | "raw";

function isConnection(value: unknown): value is Connection {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { takeOver?: unknown }).takeOver === "function" &&
    typeof (value as { socket?: unknown }).socket === "object"
  );
}

function closeFile(file: FileLike): void {
  file.close?.();
}

/**
 * The sink of one response and the WSGI body of its application.
 *
 * Not constructed by users: `handlerApp` makes one per request.
 */
export class ResponseOutput implements AsyncIterableIterator<Uint8Array> {
  /** How many bytes a queued file is read at a time (wptserve's `file_chunk_size`). */
  fileChunkSize = 32 * 1024;
  /** Asked when the body is closed: whether to close the connection after a WSGI response. */
  closeConnection: () => boolean = () => false;
  /** Called when the body is closed, once the handler has finished: the request's end. */
  onClose: () => void = () => undefined;
  readonly #environ: WSGIEnvironment;
  readonly #startResponse: StartResponse;
  readonly #connection: Connection | undefined;
  #mode: OutputMode = "pending";
  #queue: OutputItem[] = [];
  /** The raw socket, once taken over. */
  #socket: Socket | undefined;
  /** The HTTP/2 stream, once taken over. */
  #stream: ServerHttp2Stream | undefined;
  #waitingForDrain = false;
  /** Resolves whoever waits for more output (next(), or the raw pump's caller). */
  #wake: (() => void) | undefined;
  #gone = false;
  #closed = false;
  #finished = false;
  #failure: { error: unknown } | undefined;
  /** Whether the gateway took a failure from the body: its error handling owns the connection. */
  #failed = false;
  #settled: Promise<void>;
  #settle!: () => void;
  readonly #onSocketClose = (): void => {
    this.#gone = true;
    this.#dropQueue();
    this.#wakeUp();
  };

  /** Write the response of the request `environ` through `startResponse` or its connection. */
  constructor(environ: WSGIEnvironment, startResponse: StartResponse) {
    this.#environ = environ;
    this.#startResponse = startResponse;
    const connection: unknown = environ[CONNECTION_KEY];
    this.#connection = isConnection(connection) ? connection : undefined;
    // The client leaving is seen at once, not only at the next failed write.
    this.#connection?.socket.once("close", this.#onSocketClose);
    this.#settled = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** Where the response stands. */
  get mode(): OutputMode {
    return this.#mode;
  }

  /** Whether the gateway offers the connection, so raw output is possible. */
  get canWriteRaw(): boolean {
    return this.#connection !== undefined;
  }

  /** Whether output can still reach the client: false once it has gone or the body was closed. */
  get writable(): boolean {
    if (this.#gone || this.#closed) return false;
    if (this.#stream !== undefined) return !this.#stream.destroyed;
    const socket = this.#socket ?? this.#connection?.socket;
    return socket === undefined || !socket.destroyed;
  }

  /** Start the response through WSGI. Errors from `startResponse` (bad status or header) propagate. */
  startWsgi(status: string, headers: Array<[string, string]>): void {
    this.#startResponse(status, headers);
    this.#mode = "wsgi";
  }

  /**
   * Take the connection over for raw output, the response's status code being
   * `code` (for the server's log only).
   *
   * Throws an `Error` when the gateway offers no connection (CGI,
   * `SimpleHandler`): nothing has been sent then.
   */
  startRaw(code: number): void {
    const connection = this.#connection;
    if (connection === undefined) {
      throw new Error(
        `raw output (addRequiredHeaders = false, writeRawContent(), or a write before endHeaders()) needs environ['${CONNECTION_KEY}'], which this gateway does not offer; serve the handler with wsgiref/simple-server, or keep to the WSGI path`,
      );
    }
    // The gateway still sees a well-formed response start, which it drops once the
    // connection is taken over; it only shows in its access log. A Content-Type
    // keeps validator() content when it wraps a raw handler.
    const logged = Number.isInteger(code) && code >= 100 && code <= 999 ? code : 200;
    const noContent = logged === 204 || logged === 304;
    this.#startResponse(
      `${logged} ${reasonPhrase(logged)}`,
      noContent ? [] : [["Content-Type", "application/octet-stream"]],
    );
    const socket = connection.takeOver();
    this.#socket = socket;
    this.#mode = "raw";
    if (socket !== connection.socket) {
      connection.socket.off("close", this.#onSocketClose);
      socket.once("close", this.#onSocketClose);
    }
    if (socket.destroyed) this.#gone = true;
  }

  /**
   * Take the request's HTTP/2 stream over from the server for frame-level
   * output (`H2ResponseWriter`), the response's status code being `code` (for
   * the server's log only); the body then ends, empty, once the handler has
   * finished. Throws an `Error` when the server offers no stream.
   */
  takeOverStream(code: number): ServerHttp2Stream {
    const offer: unknown = this.#environ[HTTP2_STREAM_KEY];
    if (!isStreamOffer(offer)) {
      throw new Error(
        `HTTP/2 frame-level output needs environ['${HTTP2_STREAM_KEY}'], which this gateway does not offer; serve the handler with wsgiref/simple-server and http2 on`,
      );
    }
    const logged = Number.isInteger(code) && code >= 100 && code <= 999 ? code : 200;
    const noContent = logged === 204 || logged === 304;
    this.#startResponse(
      `${logged} ${reasonPhrase(logged)}`,
      noContent ? [] : [["Content-Type", "application/octet-stream"]],
    );
    const stream = offer.takeOver();
    this.#mode = "raw";
    this.#stream = stream;
    stream.once("close", this.#onSocketClose);
    if (stream.destroyed) this.#gone = true;
    return stream;
  }

  /** Queue `item` for output; return whether it can still reach the client. */
  push(item: OutputItem): boolean {
    if (!this.writable) {
      if (!(item instanceof Uint8Array)) closeFile(item);
      return false;
    }
    if (item instanceof Uint8Array && item.byteLength === 0) return true;
    this.#queue.push(item);
    if (this.#mode === "raw") this.#pump();
    else this.#wakeUp();
    return true;
  }

  /** The handler is done: end the body once the queue is out. */
  finish(): void {
    this.#finished = true;
    this.#settle();
    this.#wakeUp();
  }

  /**
   * The handler failed with `error`: the gateway gets it from the body, after
   * what was queued before it (a 500 if nothing was sent, else a cut
   * connection). After the body was closed nobody is listening: it goes to
   * `wsgi.errors`.
   */
  fail(error: unknown): void {
    if (this.#closed) this.#log(error);
    else this.#failure = { error };
    this.#finished = true;
    this.#settle();
    this.#wakeUp();
  }

  /** This body is its own iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next chunk for the gateway: queued bytes, or the next block of a queued file. */
  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    for (;;) {
      if (this.#mode === "raw") {
        // Raw output goes to the socket by itself; the body ends when the handler
        // has finished and its output is in the socket.
        if ((this.#queue.length === 0 || !this.writable) && this.#finished) return this.#end();
      } else if (this.#queue.length > 0) {
        const chunk = this.#take();
        if (chunk !== undefined) return { done: false, value: chunk };
        continue;
      } else if (this.#finished) {
        return this.#end();
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /**
   * Called by the gateway once, when it is done with the body: writes from now on
   * return false. Waits for the handler to finish; then, for a WSGI response with
   * `closeConnection`, closes the connection after what was sent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#dropQueue();
    this.#wakeUp();
    await this.#settled;
    this.#stream?.off("close", this.#onSocketClose);
    try {
      this.onClose();
    } catch (err) {
      this.#log(err);
    }
    // A failure the gateway never took (it stopped reading first) is still an error.
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) this.#log(failure.error);
    const connection = this.#connection;
    if (connection === undefined) return;
    connection.socket.off("close", this.#onSocketClose);
    this.#socket?.off("close", this.#onSocketClose);
    const socket = connection.socket;
    if (this.#mode !== "raw" && !this.#failed && this.closeConnection() && !socket.destroyed) {
      // The gateway has ended its response by now (close() comes after
      // finishContent), so end() sends the rest of it before the FIN. Not after
      // a failure: the gateway closes the body before it writes its error page
      // (Python's finish_response), which an end() here would cut off.
      socket.end(() => socket.destroy());
    }
  }

  #log(error: unknown): void {
    const errors = this.#environ["wsgi.errors"] as ErrorStream | undefined;
    errors?.write(formatError(error));
    errors?.flush();
  }

  #end(): IteratorResult<Uint8Array, undefined> {
    const failure = this.#failure;
    if (failure !== undefined) {
      this.#failure = undefined;
      this.#failed = true;
      throw failure.error;
    }
    return { done: true, value: undefined };
  }

  /**
   * Take the next chunk off the queue: consecutive byte items joined into one
   * (fewer writes), or one block of a file (a file is closed at its end).
   */
  #take(): Uint8Array | undefined {
    const first = this.#queue[0] as OutputItem;
    if (first instanceof Uint8Array) {
      let count = 1;
      let total = first.byteLength;
      while (count < this.#queue.length) {
        const item = this.#queue[count];
        if (!(item instanceof Uint8Array)) break;
        total += item.byteLength;
        count++;
      }
      const items = this.#queue.splice(0, count) as Uint8Array[];
      return count === 1 ? first : Buffer.concat(items, total);
    }
    const block = first.read(this.fileChunkSize);
    if (block.byteLength > 0) return block;
    this.#queue.shift();
    closeFile(first);
    return undefined;
  }

  /** Write queued items to the raw socket until it pushes back, then again on `drain`. */
  #pump(): void {
    const socket = this.#socket as Socket;
    while (!this.#waitingForDrain && this.#queue.length > 0) {
      if (!this.writable) {
        this.#dropQueue();
        break;
      }
      const chunk = this.#take();
      if (chunk === undefined) continue;
      if (!socket.write(chunk)) {
        this.#waitingForDrain = true;
        socket.once("drain", () => {
          this.#waitingForDrain = false;
          try {
            this.#pump();
          } catch (err) {
            // A queued file failed to read, with no caller to throw to: the
            // gateway gets the error from the body.
            this.#failure ??= { error: err };
            this.#dropQueue();
            this.#wakeUp();
          }
        });
      }
    }
    this.#wakeUp();
  }

  /** Forget what was not sent; queued files are closed. */
  #dropQueue(): void {
    for (const item of this.#queue) {
      if (!(item instanceof Uint8Array)) closeFile(item);
    }
    this.#queue = [];
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
