/**
 * `ServerHandler`: the `SimpleHandler` that `WSGIRequestHandler` runs for each
 * request, writing through Node's `ServerResponse` so that `node:http` frames the
 * response (Content-Length or chunked, keep-alive, HEAD without a body).
 *
 * Port of `ServerHandler` from Python's `wsgiref.simple_server`.
 */

import { AssertionError } from "node:assert";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { sendFile } from "../adapters/node-http.js";
import { checkContentLengths } from "../handlers/base-handler.js";
import { SimpleHandler } from "../handlers/simple-handler.js";
import { Headers } from "../headers.js";
import { equalsFolded } from "../internal/ascii-fold.js";
import { formatError } from "../internal/format-error.js";
import { formatDateTime } from "../internal/http-date.js";
import { escapeLogLine } from "../internal/log-text.js";
import { isThenable } from "../internal/thenable.js";
import type {
  ErrorStream,
  FileWrapper,
  InputStream,
  PartialEnvironment,
  WriteCallable,
} from "../types.js";
import { isHopByHop } from "../util.js";
import { endAfterTurn, releaseAfterTurn } from "./end-batch.js";

/** The package's version, read through its own name so it is right from `src/` and `build/`. */
const VERSION = (createRequire(import.meta.url)("wsgiref/package.json") as { version: string })
  .version;

/** `WSGIServer/<version>`: `SERVER_SOFTWARE`, as Python's `server_version`. */
export const serverVersion = `WSGIServer/${VERSION}`;
/** `Node.js/<version>`, as Python's `sys_version`. */
export const sysVersion = `Node.js/${process.versions.node}`;
/** The `Server` response header: `WSGIServer/<version> Node.js/<version>`. */
export const softwareVersion = `${serverVersion} ${sysVersion}`;

const EMPTY = new Uint8Array(0);

/** A Content-Length value the body is counted against (RFC 9110 §8.6: 1*DIGIT). */
const DIGITS = /^[0-9]+$/;

/** The environ key under which the server offers the connection to the application. */
export const CONNECTION_KEY = "wsgiref.connection";

/**
 * Whether `env` has no key (`osEnviron` is empty by default). Symbol keys are
 * not looked for: the request handler's ServerHandler has its own new `{}`.
 */
function isEmpty(env: PartialEnvironment): boolean {
  for (const _ in env) return false;
  return true;
}

/** Who `ServerHandler` reports each finished request to (a `WSGIRequestHandler`). */
export interface RequestLogger {
  /** Log one finished request: its status code and the body bytes sent. */
  logRequest(code?: number | string, size?: number | string): void;
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

// Set by ServerHandler's static block: see ownEnviron().
let markOwned: (handler: ServerHandler) => void;

/**
 * Let `handler` take the environ it was given as its request's environ rather
 * than a copy, once: for the request handler, whose `getEnviron()` builds a new
 * object for every request that nothing else holds. Copying it (Python's
 * `environ.update(base_env)`) costs a request some 2 µs, and up to 15 µs for one
 * with a browser's dozen header fields, because the copy, grown key by key,
 * becomes a hash table in V8. Not exported from the package.
 */
export function ownEnviron(handler: ServerHandler): void {
  markOwned(handler);
}

class Connection implements ServerConnection {
  readonly #handler: ServerHandler;

  constructor(handler: ServerHandler) {
    this.#handler = handler;
  }

  get socket(): Socket {
    return this.#handler.response.socket as Socket;
  }

  takeOver(): Socket {
    return this.#handler.takeOverConnection();
  }
}

/**
 * Run one application for one request over a Node `ServerResponse`.
 *
 * Status and headers go out in one `writeHead` (names keep their case,
 * duplicates stay), preceded by `Date` and `Server` unless the application set
 * them; Node adds `Connection`, `Keep-Alive` and `Transfer-Encoding` as the
 * request allows. An error after the headers went out cuts the connection, so the
 * client can tell the response is incomplete. A `FileWrapper` over a file
 * descriptor is sent in large blocks, not through its iterator. `close()` logs the
 * request through `requestHandler`.
 *
 * @see Python's `wsgiref.simple_server.ServerHandler`
 */
export class ServerHandler extends SimpleHandler {
  override serverSoftware: string | undefined = softwareVersion;
  /** The status line comes from Node, which always speaks HTTP/1.1. */
  override httpVersion = "1.1";
  /**
   * End the response after the other requests of this turn of the event loop
   * have been handled, rather than at once (see `end-batch.ts`): set by
   * `WSGIRequestHandler` under `serveForever()`. Off by default, so that a
   * response is ended when `run()` resolves.
   */
  deferEnd = false;
  /** Where `close()` logs the request; set by `WSGIRequestHandler.handle()`. */
  requestHandler: RequestLogger | undefined = undefined;
  /** The response written to (also `stdout`). */
  readonly response: ServerResponse;
  #takenOver = false;
  #ended = false;
  #ownsBaseEnv = false;
  #list: Array<[string, string]> | undefined = undefined;
  // Node sends whatever is written, past the Content-Length too, and ends a short
  // body cleanly: either way the client would take the wrong bytes for the next
  // response on the connection. So the body is counted against the declared
  // length (-1: none, or no body allowed), as gunicorn and waitress do.
  #declared = -1;
  #written = 0;
  #excess = false;
  // The last chunk of an array body, held back for res.end(chunk); how many of
  // its chunks came through _write().
  #last: Uint8Array | undefined = undefined;
  #arrayChunks = 0;

  /**
   * Handle one request whose response is `response`.
   *
   * @see Python's `SimpleHandler.__init__`
   */
  constructor(
    stdin: InputStream,
    response: ServerResponse,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multithread = true,
    multiprocess = false,
  ) {
    super(stdin, response, stderr, environ, multithread, multiprocess);
    this.response = response;
  }

  static {
    markOwned = (handler) => {
      handler.#ownsBaseEnv = true;
    };
  }

  /** Whether the response is ended, or its end queued (`deferEnd`). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the application took the connection over (`wsgiref.connection`). */
  get connectionTakenOver(): boolean {
    return this.#takenOver;
  }

  /**
   * Merge `baseEnv` into `environ` (see `SimpleHandler.addCgiVars`), or, for the
   * request handler's own environ, make it the environ: the same keys, no copy.
   */
  override addCgiVars(): void {
    if (this.#ownsBaseEnv && isEmpty(this.environ as PartialEnvironment)) {
      this.#ownsBaseEnv = false;
      this.environ = this.baseEnv;
      return;
    }
    super.addCgiVars();
  }

  /** Build the environ, adding `wsgiref.connection`. @see Python's `BaseHandler.setup_environ` */
  override setupEnviron(): void {
    super.setupEnviron();
    // A literal key, not CONNECTION_KEY: V8 stores a computed key as "keyed",
    // and one keyed store on an object this large turns it into a hash table
    // (slower to build and to read, some 2 µs per request). A test pins the two equal.
    (this.environ as PartialEnvironment)["wsgiref.connection"] = new Connection(this);
  }

  /**
   * Take the response over: the server writes nothing more for this request and
   * closes the connection once the application has finished. Returns the socket.
   * Throws an `Error` once the headers are sent.
   */
  takeOverConnection(): Socket {
    if (this.headersSent) {
      throw new Error("the connection cannot be taken over once the response has started");
    }
    this.#takenOver = true;
    return this.response.socket as Socket;
  }

  /**
   * Send status and headers with `writeHead`, after `cleanupHeaders()`.
   *
   * @see Python's `BaseHandler.send_headers`
   */
  override sendHeaders(): void {
    this.cleanupHeaders();
    if (this.#takenOver) {
      this.headersSent = true;
      return;
    }
    const status = this.status as string;
    // Headers wraps the application's own list (cleanupHeaders' changes show in
    // it): read it as it is rather than through a copy.
    const list = this.#list;
    const pairs =
      list !== undefined && this.headersClass === Headers
        ? list
        : (this.headers as NonNullable<typeof this.headers>).items();
    let hasDate = false;
    let hasServer = false;
    let length: string | undefined;
    let lengths = 0;
    for (let i = 0; i < pairs.length; i++) {
      const name = pairs[i]![0];
      if (name.length === 4) hasDate ||= equalsFolded(name, "date");
      else if (name.length === 6) hasServer ||= equalsFolded(name, "server");
      else if (name.length === 14 && equalsFolded(name, "content-length")) {
        length ??= pairs[i]![1];
        lengths++;
      } else if (isHopByHop(name)) {
        // Added to the list after startResponse() checked it: Node would send
        // it, and a Transfer-Encoding frame the body otherwise than Node does.
        throw new AssertionError({
          message: `Hop-by-hop header, '${name}: ${pairs[i]![1]}', not allowed`,
        });
      }
    }
    // startResponse() checked them; the application may have edited its list
    // since. Node would send any value, and a client frame the body by it.
    if (lengths > 1 || (length !== undefined && !DIGITS.test(length))) {
      checkContentLengths(pairs);
      // The same value more than once: send it once.
      (this.headers as Headers).set("Content-Length", length as string);
      this.sendHeaders();
      return;
    }
    // Python's origin server writes Date and Server first; Node's own Date is off.
    const flat: string[] = [];
    if (!hasDate) flat.push("Date", formatDateTime(Date.now()));
    const software = this.serverSoftware;
    if (software && !hasServer) flat.push("Server", software);
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!;
      flat.push(pair[0], pair[1]);
    }
    const res = this.response;
    // Node adds no Date of its own since the list has one. It checks names and
    // values again (tokens; no control character, nothing past U+00FF), throwing
    // before anything is written.
    res.writeHead(Number(status.slice(0, 3)), status.slice(4), flat);
    this.headersSent = true;
    // HEAD, 204 and 304 declare a length without a body (Node writes none).
    this.#declared =
      length !== undefined && DIGITS.test(length) && this.#bodyAllowed() ? Number(length) : -1;
  }

  /**
   * Start the response (see `BaseHandler.startResponse`), keeping the header list
   * for `sendHeaders`.
   *
   * @see Python's `BaseHandler.start_response`
   */
  override startResponse(
    status: string,
    headers: Array<[string, string]>,
    excInfo?: unknown,
  ): WriteCallable {
    const write = super.startResponse(status, headers, excInfo);
    this.#list = headers;
    return write;
  }

  /**
   * Write `data`, unless the connection was taken over; never past the declared
   * Content-Length (the excess is dropped, logged once, and the connection
   * closed after the response).
   *
   * @see Python's `SimpleHandler._write`
   */
  override _write(data: Uint8Array): void | Promise<void> {
    if (this.#takenOver) return;
    let chunk = data;
    if (this.#declared >= 0) {
      const room = this.#declared - this.#written;
      if (chunk.length > room) {
        this.#tooLong();
        // write() counted the whole chunk: count only what is sent.
        this.bytesSent -= chunk.length - room;
        if (room === 0) return;
        chunk = chunk.subarray(0, room);
      }
      this.#written += chunk.length;
    }
    const result = this.result;
    if (Array.isArray(result) && result[this.#arrayChunks] === data) {
      this.#arrayChunks += 1;
      if (this.#arrayChunks === result.length && !this.response.destroyed) {
        // The body's last chunk goes out with end(), as a plain Node server
        // sends one: no wait for "drain" before the end, no empty write after.
        this.#last = chunk;
        return;
      }
    } else if (
      this.deferEnd &&
      this.#declared > 0 &&
      this.#written === this.#declared &&
      chunk.length > 0 &&
      result !== undefined &&
      !this.resultIsFile() &&
      !this.response.destroyed
    ) {
      // A body iterated (not the write() callable's output) whose chunk completes
      // the Content-Length: that chunk is the body's last, and goes out with the
      // end, batched as an array's last chunk is; at the latest when the turn
      // ends, if the body is still finishing then.
      this.#last = chunk;
      releaseAfterTurn(() => this.#releaseLast());
      return;
    }
    return super._write(chunk);
  }

  /**
   * Send the headers if they are not out yet, then end the response.
   *
   * @see Python's `BaseHandler.finish_content`
   */
  override finishContent(): void | Promise<void> {
    if (this.#takenOver || this.#ended) return;
    const pending = super.finishContent();
    if (isThenable(pending)) return Promise.resolve(pending).then(() => this.#end());
    this.#end();
  }

  /**
   * Send a `FileWrapper` over a file descriptor from its current position (as
   * far as its `remaining`, when it says): by sendfile(2) for a regular file
   * whose bytes go on the wire as they are (a
   * Content-Length or close-delimited response on plain TCP, with the addon
   * built), else in 64 KiB blocks; return `false` (iterate it instead) when it has
   * no `fd`.
   *
   * Ends the response too (`finishContent`).
   *
   * @see Python's `BaseHandler.sendfile`
   */
  override sendfile(): boolean | Promise<boolean> {
    const { fd, remaining } = (this.result as FileWrapper).filelike;
    if (typeof fd !== "number") return false;
    if (this.#takenOver) return true;
    if (!this.headersSent) this.sendHeaders();
    if (!this.#bodyAllowed()) {
      this.#end();
      return true;
    }
    const declared = this.#declared;
    // What the write() callable sent counts against the declared length too.
    let limit = declared >= 0 ? declared - this.#written : Number.POSITIVE_INFINITY;
    // A byte range ends where the file-like says: the file after it is no excess.
    const ranged = typeof remaining === "number";
    if (ranged) limit = Math.min(limit, remaining);
    return sendFile(fd, this.response, limit).then(({ sent, excess }) => {
      this.bytesSent += sent;
      this.#written += sent;
      if (excess && !(ranged && sent === remaining)) this.#tooLong();
      this.#end();
      return true;
    });
  }

  /**
   * Log `err` on `wsgi.errors`, or, when that stream itself throws, on the
   * server's stderr with the reason, so that the request still gets its error
   * page. Python's `BaseHandler.run` gives up on the request here ("an error
   * handling an error"); a server should not drop a 500 because a logger broke.
   *
   * @see Python's `BaseHandler.log_exception`
   */
  override logException(err: unknown): void {
    try {
      super.logException(err);
    } catch (logErr) {
      const reason = logErr instanceof Error ? logErr.message : String(logErr);
      process.stderr.write(
        `wsgi.errors failed (${escapeLogLine(reason)}) ` +
          `while logging an application error:\n${formatError(err, this.tracebackLimit)}`,
      );
    }
  }

  /**
   * Log `err`; before the headers, answer with the error page; after them, cut
   * the connection so the client sees an incomplete response.
   *
   * @see Python's `BaseHandler.handle_error`
   */
  override handleError(err: unknown): void | Promise<void> {
    // Node's own flag too: a body whose close() throws does so once the whole
    // response is out and BaseHandler.close() has reset `headersSent` (as
    // Python's does); the error page would then be written after the response
    // (Node refuses: ERR_HTTP_HEADERS_SENT, and the connection was dropped).
    if (this.#takenOver || this.headersSent || this.response.headersSent) {
      this.logException(err);
      // A response already ended is whole: its connection may go on serving.
      if (!this.#takenOver && !this.#ended) this.#cut();
      return;
    }
    return super.handleError(err);
  }

  /**
   * Log the request (status code and body bytes sent), then close.
   *
   * @see Python's `ServerHandler.close`
   */
  override close(): void | Promise<void> {
    let closing: void | Promise<void>;
    try {
      const status = this.status;
      this.requestHandler?.logRequest(
        status === undefined ? "-" : status.slice(0, 3),
        this.bytesSent,
      );
    } finally {
      closing = super.close();
    }
    return closing;
  }

  #end(): void {
    this.#ended = true;
    const res = this.response;
    if (res.destroyed) return;
    if (this.#written < this.#declared) {
      // Short of its Content-Length: a clean end would leave the client reading
      // the next response as the rest of this body. Cut, as after an error once
      // the headers are out (SPEC §7), so it sees the response incomplete.
      // Cut first: a log that fails must not leave the connection open.
      this.#cut();
      this.#logMismatch(
        `is shorter than its Content-Length (${this.#written} of ${this.#declared} bytes); the connection was cut`,
      );
      return;
    }
    if (this.#excess) {
      // The response is whole, but the application did not send what it meant:
      // serve nothing more on this connection. Node fixed keep-alive with the
      // headers; the server reads shouldKeepAlive to drop what is pipelined.
      res.shouldKeepAlive = false;
      const socket = res.socket;
      const onEnd = (): void => socket?.destroySoon();
      const last = this.#takeLast();
      if (last === undefined) res.end(onEnd);
      else res.end(last, onEnd);
      return;
    }
    const last = this.#takeLast();
    // A response after which Node closes the connection (Node's `_last`: its head
    // said `Connection: close`, as for HTTP/1.0 without a Content-Length) ends at
    // once, and says so through shouldKeepAlive, which the server reads to serve
    // nothing pipelined after it: the socket's own end comes only once the
    // client has taken the response.
    if ((res as { _last?: boolean })._last === true) {
      res.shouldKeepAlive = false;
      if (last === undefined) res.end();
      else res.end(last);
    } else if (this.deferEnd) endAfterTurn(res, last);
    else if (last === undefined) res.end();
    else res.end(last);
  }

  /** Send the held-back last chunk, if the response has not ended with it. */
  #releaseLast(): void {
    const last = this.#takeLast();
    if (last !== undefined && !this.response.destroyed) this.response.write(last);
  }

  /** The held-back last chunk, if any, now to be sent. */
  #takeLast(): Uint8Array | undefined {
    const last = this.#last;
    this.#last = undefined;
    return last;
  }

  /** The body went past the declared Content-Length: say so once. */
  #tooLong(): void {
    if (this.#excess) return;
    this.#excess = true;
    this.#logMismatch(
      `is longer than its Content-Length (${this.#declared} bytes); the rest was not sent and the connection closes after it`,
    );
  }

  /** One line on wsgi.errors about the body of this response. */
  #logMismatch(what: string): void {
    const env = this.environ;
    const stderr = this.getStderr();
    // The target is the client's: escaped, as in the access log.
    const request = escapeLogLine(`${env?.REQUEST_METHOD} ${env?.REQUEST_URI}`);
    stderr.write(`the response body to ${request} ${what}\n`);
    stderr.flush();
  }

  /** Whether the response may have a body: not for HEAD, 1xx, 204 or 304 (RFC 9110 §6.4.1). */
  #bodyAllowed(): boolean {
    const status = this.status as string;
    const c0 = status.charCodeAt(0);
    return (
      this.environ?.REQUEST_METHOD !== "HEAD" &&
      c0 !== 0x31 &&
      !status.startsWith("204") &&
      !status.startsWith("304")
    );
  }

  /**
   * End the connection mid-response. Framed by Content-Length or chunked, a clean
   * close leaves the body short or without its last chunk; a body delimited by
   * the close itself needs a reset to look incomplete.
   */
  #cut(): void {
    const res = this.response;
    const last = this.#takeLast();
    if (last !== undefined && !res.destroyed) res.write(last);
    const socket = res.socket;
    if (socket === null || socket.destroyed) {
      res.destroy();
      return;
    }
    if (res.chunkedEncoding || this.headers?.has("Content-Length") === true) {
      socket.end(() => socket.destroy());
    } else {
      // After what was written has gone out: a reset with a write in flight
      // turns into a plain close.
      socket.write(EMPTY, () => socket.resetAndDestroy());
    }
  }
}
