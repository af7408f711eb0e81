/**
 * One HTTP/2 request, served: a `node:http2` stream (core API) turned into a WSGI
 * environ by the shared request stage (`gateway/request-head.ts`), its body
 * spooled under the server's limits, and the application's response sent on the
 * stream. node:http2 (nghttp2) does the framing, HPACK, flow control and the
 * RFC 9113 §8.2 checks (pseudo-headers, connection-specific fields, upper-case
 * names, a `Content-Length` that disagrees with the DATA); what is left is §8.3
 * (`:authority` as `Host`) and §8.2.3 (split `cookie` fields).
 */

import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { GatewayHandler } from "../gateway/gateway-handler.js";
import type { ResponseSink, SentFile } from "../gateway/output-stage.js";
import { EmptyInput } from "../gateway/request-body.js";
import {
  http2Head,
  http2RefusalStatus,
  type RequestHead,
  type RequestLimits,
  type RequestPeer,
  requestEnviron,
} from "../gateway/request-head.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { lowerFieldName } from "../internal/field-chars.js";
import { formatError } from "../internal/format-error.js";
import { formatDateTime, type HttpDates } from "../internal/http-date.js";
import { checkHttp2Field } from "../internal/http2-fields.js";
import { StreamErrors } from "../streams/errors.js";
import { SpooledInput } from "../streams/spooled-input.js";
import type { ErrorStream, InputStream, PartialEnvironment, WSGIApplication } from "../types.js";
import { drained, streamFile } from "./send-file.js";

/** The environ key of the stream offer (`H2ResponseWriter` reads it): `wsgiref.http2_stream`. */
export const HTTP2_STREAM_KEY = "wsgiref.http2_stream";

/** What serving a stream needs of the server. */
export interface Http2StreamServer {
  /**
   * The request and body limits, and how long a response may wait for the
   * client to take its data (`sendTimeout`, ms; 0: no limit).
   */
  readonly options: RequestLimits & {
    readonly requestTimeout: number;
    readonly sendTimeout: number;
  };
  /** The environ every request's starts from. */
  readonly baseEnviron: PartialEnvironment;
  /** `wsgi.multiprocess`. */
  readonly wsgiMultiprocess: boolean;
  /** The application, once set. */
  getApp(): WSGIApplication | undefined;
  /** The request's error stream and access log, made once per request. */
  requestLog(head: RequestHead): RequestLog;
  /** `SERVER_SOFTWARE`; the `Server` header adds the runtime. */
  readonly software: string;
  /** The `Server` header sent with every response. */
  readonly serverHeader: string;
  /** The current HTTP date, formatted once a second; absent: formatted for each response. */
  readonly dates?: HttpDates | undefined;
}

/** One request's error stream and access log (a `WSGIRequestHandler` is one). */
export interface RequestLog {
  /** Where the application's errors go (`wsgi.errors`). */
  getStderr(): ErrorStream;
  /** Log the finished request: its status code and the body bytes sent. */
  logRequest(code: number | string, size: number | string): void;
}

/** What serving a stream knows of its session, read once when the session opens. */
export interface Http2SessionPeer {
  /** The client's address and port: `REMOTE_ADDR`, `REMOTE_PORT`. */
  readonly peer: RequestPeer;
}

/**
 * The stream offered to the application as `environ["wsgiref.http2_stream"]`, for
 * output the WSGI response cannot express (HTTP/2 frames: `H2ResponseWriter`).
 * Until `takeOver()` the server owns the stream: write nothing to it.
 */
export interface Http2StreamOffer {
  /** The request's stream. */
  readonly stream: ServerHttp2Stream;
  /**
   * Take the response over: from now on the server sends nothing for this
   * request (what the application returns is iterated, closed and dropped).
   * Throws an `Error` once the response has started.
   */
  takeOver(): ServerHttp2Stream;
}

/**
 * The most body bytes a response may send without a send timeout, when the
 * client's stream window takes them all at once: they leave without waiting
 * for a WINDOW_UPDATE, and a timer for every small response would cost more
 * than the rest of the stream's bookkeeping.
 */
const UNTIMED = 16 * 1024;

// respond()'s options (node:http2 copies them).
const END_STREAM = Object.freeze({ endStream: true });
const MORE_TO_COME = Object.freeze({ endStream: false });

/**
 * Add a field named `__proto__` (a valid token) to `head` as an own property,
 * after any value it has already: an assignment would set the object's
 * prototype instead.
 */
function addProtoField(head: OutgoingHttpHeaders, value: string): void {
  const held = Object.getOwnPropertyDescriptor(head, "__proto__")?.value as
    | string
    | string[]
    | undefined;
  Object.defineProperty(head, "__proto__", {
    value: held === undefined ? value : [...(Array.isArray(held) ? held : [held]), value],
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A body that arrived past a limit: its status, and why. */
class StreamBodyError extends Error {
  override name = "StreamBodyError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Spool the request's DATA into a `SpooledInput`, held to `maxBodySize` (413)
 * and to `bodyTimeout` between DATA frames and `requestTimeout` in all (408).
 * The stream is paused while a chunk is written to the spool, so its
 * flow-control window only reopens as fast as the disk takes the body.
 */
function receiveStreamBody(
  stream: ServerHttp2Stream,
  limits: Http2StreamServer["options"],
): Promise<SpooledInput> {
  const spool = new SpooledInput(limits.spoolThreshold);
  return new Promise<SpooledInput>((resolve, reject) => {
    let total = 0;
    let idle: NodeJS.Timeout | undefined;
    // Once failed, the spool is closed: later events must not touch it.
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      clearTimeout(idle);
      clearTimeout(whole);
      stream.off("data", onData);
      spool.close();
      reject(err);
    };
    const arm = (): void => {
      const timeout = limits.bodyTimeout ?? 0;
      if (timeout <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => fail(new StreamBodyError(408, "request body timed out")), timeout);
    };
    const whole =
      limits.requestTimeout > 0
        ? setTimeout(
            () => fail(new StreamBodyError(408, "request timed out")),
            limits.requestTimeout,
          )
        : undefined;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limits.maxBodySize) {
        fail(new StreamBodyError(413, "request body is larger than maxBodySize"));
        return;
      }
      if (failed) return;
      arm();
      stream.pause();
      spool.write(chunk).then(
        () => stream.resume(),
        (err: Error) => fail(err),
      );
    };
    stream.on("data", onData);
    stream.once("end", () => {
      if (failed) return;
      clearTimeout(idle);
      clearTimeout(whole);
      spool.end().then(
        () => resolve(spool),
        (err: Error) => fail(err),
      );
    });
    stream.once("close", () => {
      if (!stream.readableEnded) fail(new StreamBodyError(0, "the client reset the stream"));
    });
    arm();
  });
}

/**
 * The transport's end of the output stage for one HTTP/2 stream: the head is
 * held until the first body byte, the end or a file, so that a small body goes
 * out with it and the end in one write; names are sent lower-case (RFC 9113 §8.2), and the
 * output stage has already dropped hop-by-hop fields (§8.2.2). `cut()` resets
 * the stream (`RST_STREAM` `INTERNAL_ERROR`); the connection's other streams
 * carry on.
 *
 * A client that never opens its flow-control window would hold a response for
 * ever: a response that has to wait for the client (a write the stream does not
 * take at once, a file, a body past `UNTIMED` or past the client's initial
 * window, a stream taken over) gets the stream's timeout of `sendTimeout`
 * without activity, then `CANCEL`.
 */
export class Http2StreamSink implements ResponseSink {
  readonly stream: ServerHttp2Stream;
  /** No `wsgiref.connection` over HTTP/2: the stream is offered as `wsgiref.http2_stream`. */
  readonly connection = undefined;
  /** The status code of the head, once given (0 before). */
  code = 0;
  #takenOver = false;
  #head: OutgoingHttpHeaders | undefined;
  #responded = false;
  /** The chunk that completes the Content-Length, held to go out with the end. */
  #held: Uint8Array | undefined;
  /** Body bytes handed to the stream. */
  #sent = 0;
  #timed = false;
  readonly #dates: HttpDates | undefined;
  readonly #sendTimeout: number;

  /**
   * `dates`: the server's HTTP date, formatted once a second (absent: one is
   * formatted per response); `sendTimeout`: see the class (0: none).
   */
  constructor(stream: ServerHttp2Stream, dates?: HttpDates, sendTimeout = 0) {
    this.stream = stream;
    this.#dates = dates;
    this.#sendTimeout = sendTimeout;
  }

  date(): string {
    return this.#dates?.now() ?? formatDateTime(Date.now());
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get takenOver(): boolean {
    return this.#takenOver;
  }

  /** The offer of `environ["wsgiref.http2_stream"]`. */
  offer(): Http2StreamOffer {
    return new StreamOffer(this);
  }

  /** See `Http2StreamOffer.takeOver`. */
  takeOver(): ServerHttp2Stream {
    if (this.#head !== undefined || this.#responded) {
      throw new Error("the stream cannot be taken over once the response has started");
    }
    this.#takenOver = true;
    this.#time();
    return this.stream;
  }

  /**
   * Keep the head for the response's first frame; throws a `TypeError`, having
   * sent nothing, for what node:http2 would refuse to send then: a second value
   * of a single-valued field (`Content-Type` twice, in any case) or
   * `HTTP2-Settings`.
   */
  head(code: number, _reason: string, fields: string[]): void {
    this.code = code;
    const head: Record<string, string | string[] | number> = { ":status": code };
    for (let i = 0; i < fields.length; i += 2) {
      const name = lowerFieldName(fields[i] as string);
      const value = fields[i + 1] as string;
      // Refused by node:http2 as connection-specific, though not hop-by-hop for PEP 3333.
      if (name === "proxy-connection") continue;
      if (name === "http2-settings") checkHttp2Field(name, fields[i] as string, value, false);
      if (name === "__proto__") {
        addProtoField(head, value);
        continue;
      }
      const held = head[name];
      if (held === undefined) {
        head[name] = value;
        continue;
      }
      checkHttp2Field(name, fields[i] as string, value, true);
      if (Array.isArray(held)) held.push(value);
      else head[name] = [String(held), value];
    }
    this.#head = head;
  }

  /**
   * Send body bytes; the `last` chunk (it completes the Content-Length) is held
   * for `end()`, so that a small response goes out as one write that ends the
   * stream, as `stream.end(body)` does, instead of a write and an empty end.
   */
  write(chunk: Uint8Array, last?: boolean): boolean {
    if (last === true && this.#held === undefined) {
      this.#held = chunk;
      return true;
    }
    this.#flushHeld();
    this.#respond(false);
    this.#sent += chunk.length;
    if (this.stream.write(chunk)) return true;
    this.#time();
    return false;
  }

  #flushHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#respond(false);
    this.#sent += held.length;
    if (!this.stream.write(held)) this.#time();
  }

  /** Give the stream its send timeout, once. */
  #time(): void {
    if (this.#timed || this.#sendTimeout <= 0 || this.stream.destroyed) return;
    this.#timed = true;
    const stream = this.stream;
    stream.setTimeout(this.#sendTimeout, () => stream.close(constants.NGHTTP2_CANCEL));
  }

  drained(): Promise<void> {
    return drained(this.stream, "the HTTP/2 stream");
  }

  /**
   * Send the file from its position (a `FileWrapper` over a file read or
   * seeked into, as a byte range is) in send-file.ts's 64 KiB reads, each written once
   * the stream has taken the one before. Not `respondWithFD`: node:http2 pipes
   * the file one DATA frame at a time (the client's frame size, 16 KiB for
   * curl), a read through the thread pool and a socket write for each frame;
   * these reads copy no more (the pipe reads into a buffer too) and leave in
   * writes of many frames.
   */
  sendFile(fd: number, limit: number): Promise<SentFile> {
    const stream = this.stream;
    if (this.#head === undefined) return Promise.reject(new Error("sendFile() came before head()"));
    if (stream.destroyed) return Promise.reject(streamDestroyedError("the HTTP/2 stream"));
    this.#time();
    // Body bytes the write() callable sent go first.
    this.#flushHeld();
    this.#respond(false);
    // A stream whose client takes nothing holds one block until sendTimeout; a
    // connection at most maxConcurrentStreams of them.
    return streamFile(fd, stream, limit, "the HTTP/2 stream");
  }

  end(): void {
    const held = this.#held;
    this.#held = undefined;
    if (!this.#responded && held === undefined) {
      this.#respond(true);
      return;
    }
    this.#respond(false);
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded) return;
    if (held !== undefined) this.#sent += held.length;
    stream.end(held);
    if (this.#sent > UNTIMED || this.#sent > peerWindow(stream)) this.#time();
  }

  /**
   * Reset the stream with `INTERNAL_ERROR`. Destroyed with an error rather than
   * `close(code)`: that ends the writable side first, and the END_STREAM it
   * sends reaches the client before the RST_STREAM, so it sees a complete
   * (truncated) response.
   */
  cut(): void {
    if (!this.stream.destroyed) this.stream.destroy(new Error("the response was cut"));
  }

  #respond(endStream: boolean): void {
    if (this.#responded) return;
    this.#responded = true;
    if (this.stream.destroyed) return;
    this.stream.respond(this.#head ?? { ":status": 200 }, endStream ? END_STREAM : MORE_TO_COME);
  }
}

/** The offer of one sink's stream: what the application may do with it, and no more. */
class StreamOffer implements Http2StreamOffer {
  readonly stream: ServerHttp2Stream;
  readonly #sink: Http2StreamSink;

  constructor(sink: Http2StreamSink) {
    this.stream = sink.stream;
    this.#sink = sink;
  }

  takeOver(): ServerHttp2Stream {
    return this.#sink.takeOver();
  }
}

/**
 * Run one application for one HTTP/2 stream into its `Http2StreamSink`: the
 * shared gateway handler and output stage, with `SERVER_PROTOCOL` `HTTP/2` and
 * the stream offered as `environ["wsgiref.http2_stream"]`.
 */
export class Http2GatewayHandler extends GatewayHandler {
  override httpVersion = "2";
  readonly sink: Http2StreamSink;
  /** Told once, with the status code and the bytes sent, when the request is done. */
  readonly #log: RequestLog;

  /** `log` gives `wsgi.errors` and logs the request once it is done. */
  constructor(
    stdin: InputStream,
    sink: Http2StreamSink,
    log: RequestLog,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multiprocess: boolean,
  ) {
    super(stdin, sink, stderr, environ, false, multiprocess);
    this.sink = sink;
    this.#log = log;
  }

  /** Build the environ, adding `wsgiref.http2_stream`. */
  override setupEnviron(): void {
    super.setupEnviron();
    (this.environ as PartialEnvironment)[HTTP2_STREAM_KEY] = this.sink.offer();
  }

  /**
   * As the gateway handler; and once the application took the stream over, an
   * error resets it (`INTERNAL_ERROR`): over HTTP/1.1 the server closes a
   * taken-over connection anyway, over HTTP/2 nothing else would end the stream.
   */
  override handleError(err: unknown): void | Promise<void> {
    if (this.sink.takenOver) {
      this.logException(err);
      this.sink.cut();
      return;
    }
    return super.handleError(err);
  }

  /** Close the body (once), then report the request done. */
  override close(): void | Promise<void> {
    const code = this.sink.code || Number.parseInt(String(this.status ?? "").slice(0, 3), 10) || 0;
    const size = this.bytesSent;
    const closing = super.close();
    if (closing !== undefined) {
      return Promise.resolve(closing).finally(() => this.#log.logRequest(code || "-", size));
    }
    this.#log.logRequest(code || "-", size);
  }
}

/** The client's initial stream window: what a new stream may send before its first WINDOW_UPDATE. */
function peerWindow(stream: ServerHttp2Stream): number {
  return stream.session?.remoteSettings.initialWindowSize ?? 0;
}

/** Answer a refused request with its status and a one-line body, then end the stream. */
function refuse(stream: ServerHttp2Stream, status: number, server: Http2StreamServer): void {
  if (stream.destroyed || stream.headersSent) return;
  const body = Buffer.from(`${status}\n`);
  stream.respond({
    ":status": status,
    "content-type": "text/plain",
    "content-length": body.length,
    server: server.serverHeader,
  });
  stream.end(body);
}

/** A stream's `error` listener: a reset or a cut is seen by the handler, not here. */
function ignoreError(): void {}

/**
 * Serve one HTTP/2 stream (the `stream` event of a `node:http2` server) of a
 * session whose peer is `session`: refuse it, or receive its body, run the
 * application and send its response. Calls `done` once, when the request is
 * done; never throws (errors go to the request's error stream).
 */
export function serveHttp2Stream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  server: Http2StreamServer,
  session: Http2SessionPeer,
  done: () => void,
): void {
  // A stream reset by the client later is seen by the handler; the event only
  // needs a listener so that it is not an uncaught error.
  stream.on("error", ignoreError);
  let stderr: ErrorStream | undefined;
  try {
    const head = http2Head(headers, rawHeaders, session.peer);
    const log = server.requestLog(head);
    stderr = log.getStderr();
    const status = http2RefusalStatus(head, headers, server.options);
    if (status !== 0) {
      refuse(stream, status, server);
      log.logRequest(status, "-");
      done();
    } else if (stream.readableEnded || stream.endAfterHeaders) {
      serve(stream, head, new EmptyInput(), server, log, stderr, done);
    } else {
      receiveAndServe(stream, head, server, log, stderr, done);
    }
  } catch (err) {
    failed(stream, err, stderr);
    done();
  }
}

/** A stream's request failed past its handler: say so on `stderr` and reset the stream. */
function failed(stream: ServerHttp2Stream, err: unknown, stderr: ErrorStream | undefined): void {
  try {
    (stderr ?? new StreamErrors(process.stderr)).write(formatError(err));
  } finally {
    // Destroyed with an error: RST_STREAM INTERNAL_ERROR (see Http2StreamSink's cut).
    if (!stream.destroyed) stream.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Receive the stream's body, then serve the request with it; or refuse it. */
function receiveAndServe(
  stream: ServerHttp2Stream,
  head: RequestHead,
  server: Http2StreamServer,
  log: RequestLog,
  stderr: ErrorStream,
  done: () => void,
): void {
  receiveStreamBody(stream, server.options).then(
    (input) => serve(stream, head, input, server, log, stderr, done),
    (err: unknown) => {
      try {
        const code = err instanceof StreamBodyError ? err.status : 500;
        if (!(err instanceof StreamBodyError)) stderr.write(formatError(err));
        if (code !== 0) refuse(stream, code, server);
        if (!stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
        log.logRequest(code || "-", "-");
      } catch (logErr) {
        failed(stream, logErr, stderr);
      } finally {
        done();
      }
    },
  );
}

/** Run the application for the request with `input` as its body; `done` once it is answered. */
function serve(
  stream: ServerHttp2Stream,
  head: RequestHead,
  input: EmptyInput | SpooledInput,
  server: Http2StreamServer,
  log: RequestLog,
  stderr: ErrorStream,
  done: () => void,
): void {
  const settle = (threw: boolean, err?: unknown): void => {
    try {
      if (threw) failed(stream, err, stderr);
    } finally {
      input.close();
      done();
    }
  };
  let running: Promise<void>;
  try {
    const env = requestEnviron(head, server.baseEnviron);
    env.SERVER_SOFTWARE = server.software;
    // HTTP/2 need not send Content-Length: the body's length is known once received.
    if (input instanceof SpooledInput) env.CONTENT_LENGTH = String(input.length);
    const handler = new Http2GatewayHandler(
      input,
      new Http2StreamSink(stream, server.dates, server.options.sendTimeout),
      log,
      stderr,
      env,
      server.wsgiMultiprocess,
    );
    handler.serverSoftware = server.serverHeader;
    // The environ is this request's own: the handler takes it as it is, not a copy.
    handler.ownsEnviron = true;
    const app = server.getApp();
    if (app === undefined) throw new Error("no application is set: call setApp() first");
    running = handler.run(app);
  } catch (err) {
    settle(true, err);
    return;
  }
  running.then(
    () => settle(false),
    (err: unknown) => settle(true, err),
  );
}
