/**
 * One HTTP/2 request, served: a `node:http2` stream (core API) turned into a WSGI
 * environ by the shared request stage (`gateway/request-head.ts`), its body
 * spooled under the server's limits, and the application's response sent on the
 * stream. node:http2 (nghttp2) does the framing, HPACK, flow control and the
 * RFC 9113 §8.2 checks (pseudo-headers, connection-specific fields, upper-case
 * names, a `Content-Length` that disagrees with the DATA); what is left is §8.3
 * (`:authority` as `Host`) and §8.2.3 (split `cookie` fields).
 */

import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import {
  type RequestHead,
  type RequestLimits,
  refusalStatus,
  requestEnviron,
  requestFacts,
} from "../gateway/request-head.js";
import { SimpleHandler } from "../handlers/simple-handler.js";
import { formatError } from "../internal/format-error.js";
import { SpooledInput } from "../streams/spooled-input.js";
import type { ErrorStream, InputStream, PartialEnvironment, WSGIApplication } from "../types.js";
import { type FileWrapper, isHopByHop } from "../util.js";
import { EmptyInput } from "../gateway/request-body.js";

/** The environ key of the stream offer (`H2ResponseWriter` reads it): `wsgiref.http2_stream`. */
export const HTTP2_STREAM_KEY = "wsgiref.http2_stream";

/** What serving a stream needs of the server. */
export interface Http2StreamServer {
  /** The request and body limits. */
  readonly options: RequestLimits & { readonly requestTimeout: number };
  /** The environ every request's starts from. */
  readonly baseEnviron: PartialEnvironment;
  /** `wsgi.multiprocess`. */
  readonly wsgiMultiprocess: boolean;
  /** The application, once set. */
  getApp(): WSGIApplication | undefined;
  /** Where the application's errors go (`wsgi.errors`). */
  readonly stderr: ErrorStream;
  /** `SERVER_SOFTWARE`; the `Server` header adds the runtime. */
  readonly software: string;
  /** The `Server` header sent with every response. */
  readonly serverHeader: string;
  /** Log one finished request: the request line, its status code and the body bytes sent. */
  logRequest(head: RequestHead, code: number | string, size: number | string): void;
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

/** A request field HTTP/2 drops on the way in: pseudo-headers are read apart, `host` from `:authority`. */
function isPseudo(name: string): boolean {
  return name.charCodeAt(0) === 0x3a;
}

/**
 * The request's head in the request stage's shape: `:path` as the target,
 * `:authority` as `Host` (RFC 9113 §8.3.1: the one a client sends directly),
 * `cookie` fields joined with `; ` (§8.2.3), the other fields as they came.
 */
export function http2Head(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
): RequestHead {
  const fields: string[] = [];
  const authority = headers[":authority"];
  let cookies: string[] | undefined;
  let host = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    if (isPseudo(name)) continue;
    if (name === "cookie") {
      cookies ??= [];
      cookies.push(value);
      continue;
    }
    if (name === "host") host = true;
    fields.push(name, value);
  }
  if (typeof authority === "string" && !host) fields.unshift("host", authority);
  if (cookies !== undefined) fields.push("cookie", cookies.join("; "));
  const socket = stream.session?.socket;
  return {
    method: headers[":method"],
    url: headers[":path"],
    httpVersion: "2",
    httpVersionMajor: 2,
    httpVersionMinor: 0,
    rawHeaders: fields,
    socket: { remoteAddress: socket?.remoteAddress, remotePort: socket?.remotePort },
  };
}

/**
 * Why the request must be refused (its status), or 0: the request stage's
 * checks, read as HTTP/1.1's (a `Host`, here from `:authority`, is required;
 * HTTP/2 forbids `Transfer-Encoding`, which nghttp2 refuses before this), plus
 * RFC 9113 §8.3.1: a `Host` that names another authority than `:authority`.
 */
export function http2RefusalStatus(
  head: RequestHead,
  headers: IncomingHttpHeaders,
  limits: RequestLimits,
): number {
  if (headers[":method"] === "CONNECT") return 405;
  const authority = headers[":authority"];
  const host = headers.host;
  if (typeof authority === "string" && typeof host === "string" && authority !== host) return 400;
  const asHttp11 = { ...head, httpVersionMajor: 1, httpVersionMinor: 1 };
  return refusalStatus(asHttp11, requestFacts(asHttp11), limits);
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

/** The headers of a response on HTTP/2: names lower-cased, hop-by-hop fields left out (RFC 9113 §8.2.2). */
function responseHeaders(
  code: number,
  pairs: ReadonlyArray<readonly [string, string]>,
  serverHeader: string,
): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = { ":status": code };
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    // PEP 3333 forbids hop-by-hop headers; Connection-specific ones are a
    // malformed response in HTTP/2, which node:http2 would refuse whole.
    if (isHopByHop(name) || name === "proxy-connection") continue;
    const held = out[name];
    if (held === undefined) out[name] = value;
    else if (Array.isArray(held)) held.push(value);
    else out[name] = [String(held), value];
  }
  out.server ??= serverHeader;
  return out;
}

/**
 * Run one application for one HTTP/2 stream: the status and headers in one
 * HEADERS frame, the body as DATA as the client's window allows, a
 * `FileWrapper` over a file descriptor by `respondWithFD` (node:http2 reads the
 * file itself, no copy through JavaScript). An error after the headers went
 * out resets the stream (`RST_STREAM` `INTERNAL_ERROR`); the connection's other
 * streams carry on.
 */
export class Http2Handler extends SimpleHandler {
  override httpVersion = "2";
  readonly stream: ServerHttp2Stream;
  readonly #serverHeader: string;
  #takenOver = false;
  #noBody = false;
  #code = 0;
  /** Called once, with the status code and the bytes sent, when the request is done. */
  onDone: (code: number, size: number) => void = () => undefined;

  /** Handle one request on `stream`, its body `stdin`. */
  constructor(
    stdin: InputStream,
    stream: ServerHttp2Stream,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multiprocess: boolean,
    software: string,
    serverHeader: string,
  ) {
    super(stdin, stream, stderr, environ, false, multiprocess);
    this.stream = stream;
    this.serverSoftware = software;
    this.#serverHeader = serverHeader;
  }

  /** Build the environ, adding `wsgiref.http2_stream`. */
  override setupEnviron(): void {
    super.setupEnviron();
    const offer: Http2StreamOffer = {
      stream: this.stream,
      takeOver: () => {
        if (this.headersSent) {
          throw new Error("the stream cannot be taken over once the response has started");
        }
        this.#takenOver = true;
        return this.stream;
      },
    };
    (this.environ as PartialEnvironment)[HTTP2_STREAM_KEY] = offer;
  }

  /** Send status and headers as one HEADERS frame (after `cleanupHeaders()`). */
  override sendHeaders(): void {
    this.cleanupHeaders();
    this.headersSent = true;
    const code = Number.parseInt((this.status as string).slice(0, 3), 10);
    this.#code = code;
    if (this.#takenOver || this.stream.destroyed) return;
    const method = this.environ?.REQUEST_METHOD;
    this.#noBody = method === "HEAD" || code === 204 || code === 304 || (code >= 100 && code < 200);
    const headers = responseHeaders(
      code,
      (this.headers as NonNullable<typeof this.headers>).items(),
      this.#serverHeader,
    );
    this.stream.respond(headers, { endStream: this.#noBody });
  }

  /** Write `data` as DATA, waiting for the window when it is full; nothing after a body-less head. */
  override _write(data: Uint8Array): void | Promise<void> {
    if (this.#takenOver || this.#noBody) return;
    return super._write(data);
  }

  /** Nothing is buffered. */
  override _flush(): void {
    if (!this.#takenOver && this.stream.destroyed && !this.stream.writableEnded) {
      // The client reset the stream: the handler stops here (close() follows).
      throw Object.assign(new Error("the client reset the stream"), { code: "ECONNRESET" });
    }
  }

  /** Send the headers if they are not out yet, then end the stream. */
  override finishContent(): void | Promise<void> {
    if (this.#takenOver) return;
    const pending = super.finishContent();
    if (pending !== undefined) return Promise.resolve(pending).then(() => this.#end());
    this.#end();
  }

  /**
   * Send a `FileWrapper` over a file descriptor with `respondWithFD`, from its
   * current position (as far as its `remaining` or `Content-Length`, when either
   * says): node:http2 reads the file, no copy through JavaScript. Return `false`
   * (iterate it instead) when it has no `fd` or the headers are already out.
   */
  override sendfile(): boolean | Promise<boolean> {
    const { fd, remaining, position } = (this.result as FileWrapper).filelike as {
      fd?: unknown;
      remaining?: unknown;
      position?: unknown;
    };
    if (typeof fd !== "number" || this.headersSent) return false;
    if (this.#takenOver) return true;
    this.cleanupHeaders();
    this.headersSent = true;
    const code = Number.parseInt((this.status as string).slice(0, 3), 10);
    this.#code = code;
    const headers = responseHeaders(
      code,
      (this.headers as NonNullable<typeof this.headers>).items(),
      this.#serverHeader,
    );
    const declared = headers["content-length"];
    let length = typeof remaining === "number" ? remaining : undefined;
    if (typeof declared === "string" && /^[0-9]+$/.test(declared)) {
      length = Math.min(length ?? Number.POSITIVE_INFINITY, Number(declared));
    }
    const method = this.environ?.REQUEST_METHOD;
    if (method === "HEAD" || code === 204 || code === 304) {
      this.stream.respond(headers, { endStream: true });
      return true;
    }
    return new Promise<boolean>((resolve) => {
      this.stream.once("close", () => resolve(true));
      this.stream.respondWithFD(fd, headers, {
        offset: typeof position === "number" ? position : 0,
        length,
        onError: (err: Error) => {
          this.logException(err);
          this.#reset();
        },
      } as Parameters<ServerHttp2Stream["respondWithFD"]>[2]);
      if (length !== undefined) this.bytesSent += length;
    });
  }

  /** Log `err`; before the headers, the error page; after, reset the stream (`INTERNAL_ERROR`). */
  override handleError(err: unknown): void | Promise<void> {
    if (this.headersSent || this.#takenOver) {
      this.logException(err);
      this.#reset();
      return;
    }
    return super.handleError(err);
  }

  /** Close the body (once), then report the request done. */
  override close(): void | Promise<void> {
    const code = this.#code;
    const size = this.bytesSent;
    const closing = super.close();
    if (closing !== undefined) {
      return Promise.resolve(closing).finally(() => this.onDone(code, size));
    }
    this.onDone(code, size);
  }

  #end(): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
  }

  /**
   * Reset the stream with `INTERNAL_ERROR`. Destroyed with an error rather than
   * `close(code)`: that ends the writable side first, and the END_STREAM it
   * sends reaches the client before the RST_STREAM, so it sees a complete
   * (truncated) response.
   */
  #reset(): void {
    if (!this.stream.destroyed) this.stream.destroy(new Error("the application failed"));
  }
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

/**
 * Serve one HTTP/2 stream (the `stream` event of a `node:http2` server): refuse
 * it, or receive its body, run the application and send its response. Resolves
 * when the request is done; never rejects (errors go to the server's stderr).
 */
export async function serveHttp2Stream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  server: Http2StreamServer,
): Promise<void> {
  // A stream reset by the client later is seen by the handler; the event only
  // needs a listener so that it is not an uncaught error.
  stream.on("error", () => undefined);
  const head = http2Head(stream, headers, rawHeaders);
  const status = http2RefusalStatus(head, headers, server.options);
  if (status !== 0) {
    refuse(stream, status, server);
    server.logRequest(head, status, "-");
    return;
  }
  let input: EmptyInput | SpooledInput;
  if (stream.readableEnded || stream.endAfterHeaders) {
    input = new EmptyInput();
  } else {
    try {
      input = await receiveStreamBody(stream, server.options);
    } catch (err) {
      const code = err instanceof StreamBodyError ? err.status : 500;
      if (!(err instanceof StreamBodyError)) server.stderr.write(formatError(err));
      if (code !== 0) refuse(stream, code, server);
      if (!stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
      server.logRequest(head, code || "-", "-");
      return;
    }
  }
  const env = requestEnviron(head, server.baseEnviron);
  env.SERVER_SOFTWARE = server.software;
  // HTTP/2 need not send Content-Length: the body's length is known once received.
  if (input instanceof SpooledInput) env.CONTENT_LENGTH = String(input.length);
  const handler = new Http2Handler(
    input,
    stream,
    server.stderr,
    env,
    server.wsgiMultiprocess,
    server.software,
    server.serverHeader,
  );
  handler.onDone = (code, size) => server.logRequest(head, code || "-", size);
  try {
    const app = server.getApp();
    if (app === undefined) throw new Error("no application is set: call setApp() first");
    await handler.run(app);
  } catch (err) {
    server.stderr.write(formatError(err));
    // Destroyed with an error: RST_STREAM INTERNAL_ERROR (see Http2Handler's reset).
    if (!stream.destroyed) stream.destroy(err instanceof Error ? err : new Error(String(err)));
  } finally {
    input.close();
  }
}
