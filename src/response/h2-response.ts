/**
 * `H2Response` and `H2ResponseWriter`: the response to a request that came over
 * HTTP/2, written like any `Response`, or frame by frame on its stream.
 *
 * Port of wptserve's `wptserve.response.H2Response` and `H2ResponseWriter`.
 * wptserve drives its own HTTP/2 state machine (the `h2` package) and can send
 * any frame; here the stream is Node's (`node:http2`), which frames, orders and
 * compresses the header block itself, so a few of wptserve's frame-level writes
 * cannot be expressed and throw an `Error` saying so (docs/response.md lists them).
 */

import type { OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { show } from "../internal/check.js";
import { formatError } from "../internal/format-error.js";
import type { ErrorStream, FileLike, WSGIEnvironment } from "../types.js";
import type { Request } from "./request.js";
import { Response } from "./response.js";
import type { HeaderValue } from "./response-headers.js";
import type { ResponseOutput } from "./response-output.js";
import { type Chunk, isFileLike, ResponseWriter } from "./response-writer.js";

/** A header block as wptserve writes one: `[name, value]` pairs, in order. */
export type H2HeaderList = Iterable<readonly [string, HeaderValue]>;

/** What a push sends: its response's status, headers and data (wptserve's `write_push` arguments). */
export interface H2PushOptions {
  /**
   * The promised stream's id. node:http2 picks stream ids itself: a number is
   * accepted for wptserve's signature and not used.
   */
  pushStreamId?: number;
  /** The pushed response's status. Default 200. */
  status?: number;
  /** The pushed response's headers. */
  responseHeaders?: H2HeaderList;
  /** The pushed response's body. Default: none. */
  responseData?: Chunk;
}

/** A header block being written by `writeRawHeaderFrame()` and `writeRawContinuationFrame()`. */
interface HeaderBlock {
  headers: Array<readonly [string, HeaderValue]>;
  endStream: boolean;
}

/** The default frame size (RFC 9113 §6.5.2), when the session has none yet. */
const DEFAULT_MAX_FRAME_SIZE = 16_384;

function headerObject(headers: H2HeaderList, what: string): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const pair of headers) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") {
      throw new TypeError(`${what} must be [name, value] pairs: ${show(pair)}`);
    }
    const name = pair[0].toLowerCase();
    const value = String(pair[1]);
    const held = out[name];
    if (held === undefined) out[name] = value;
    else if (Array.isArray(held)) held.push(value);
    else out[name] = [held, value];
  }
  return out;
}

/** Internal hooks for `handlerApp`, set in the class's static block. */
export const h2WriterInternals: {
  /** Whether the handler took the stream over (any frame-level write). */
  takenOver(writer: H2ResponseWriter): boolean;
  /** End a stream the handler took over and left open (wptserve does the same). */
  finish(writer: H2ResponseWriter): void;
} = {
  takenOver: () => false,
  finish: () => undefined,
};

/**
 * Write an HTTP/2 response: everything `ResponseWriter` does (which goes out
 * through WSGI, as the server's HTTP/2 output sends it), plus wptserve's
 * frame-level writes on the request's `ServerHttp2Stream`. The first of those
 * takes the stream over from the server, which then sends nothing for this
 * request; a handler that leaves the stream open has it ended when it returns.
 *
 * Every method returns, synchronously, whether the client can still be reached.
 * Data is queued and sent as the stream's flow-control window allows.
 *
 * @see wptserve's `wptserve.response.H2ResponseWriter`
 */
export class H2ResponseWriter extends ResponseWriter {
  readonly #response: Response;
  readonly #output: ResponseOutput;
  #stream: ServerHttp2Stream | undefined;
  /** A header block begun by `writeRawHeaderFrame()` without `endHeaders`. */
  #block: HeaderBlock | undefined;
  #headersSent = false;
  #ending = false;
  /** Data waiting for the flow-control window: bytes, or a file read as it goes. */
  #queue: Array<Uint8Array | FileLike> = [];
  #waiting = false;

  static {
    h2WriterInternals.takenOver = (writer) => writer.#stream !== undefined;
    h2WriterInternals.finish = (writer) => {
      if (writer.#stream !== undefined && !writer.#ending) writer.endStream();
    };
  }

  /** Write the response `response` to `output`, or frame by frame on its HTTP/2 stream. */
  constructor(response: Response, output: ResponseOutput) {
    super(response, output);
    this.#response = response;
    this.#output = output;
  }

  /**
   * Send the response's HEADERS: `:status` `statusCode`, then `headers` (names
   * lower-cased, as HTTP/2 requires), ending the stream when `last` (always for
   * HEAD). HTTP/2 has no reason phrase: `statusMessage` is accepted for
   * wptserve's signature and not sent. Nothing is added (wptserve adds nothing
   * either), except the `date` node:http2 always sends.
   *
   * Throws an `Error` when headers were already sent on the stream, and
   * node:http2's `TypeError` for a header HTTP/2 forbids (`connection`,
   * `transfer-encoding`, …) or an unknown pseudo-header.
   *
   * @see wptserve's `H2ResponseWriter.write_headers`
   */
  writeHeaders(
    headers: H2HeaderList,
    statusCode: number,
    statusMessage?: string,
    options: { last?: boolean } = {},
  ): boolean {
    if (typeof statusCode !== "number" || !Number.isInteger(statusCode)) {
      throw new TypeError(`status code must be an integer: ${show(statusCode)}`);
    }
    if (statusMessage !== undefined && typeof statusMessage !== "string") {
      throw new TypeError(`status message must be a string: ${show(statusMessage)}`);
    }
    const block = { ...headerObject(headers, "headers"), ":status": statusCode };
    return this.#respond(block, options.last === true, statusCode);
  }

  /**
   * Send `item` as DATA (text encoded with `response.encoding`; a file read
   * `fileChunkSize` bytes at a time as the window opens, then closed), ending
   * the stream after it when `last`. Sends the default status (200) first when no
   * headers were sent.
   *
   * @see wptserve's `H2ResponseWriter.write_data`
   */
  writeData(item: Chunk | FileLike, options: { last?: boolean } = {}): boolean {
    const data = isFileLike(item) ? item : this.encode(item);
    const stream = this.#take(this.defaultStatus);
    this.#assertOpen("writeData()");
    if (!this.#headersSent) this.writeHeaders([], this.defaultStatus);
    this.#queue.push(data);
    if (options.last === true) this.#ending = true;
    this.#pump(stream);
    return this.#reachable();
  }

  /**
   * Send one DATA frame's worth: `writeData(data, { last: endStream })`.
   * node:http2 cuts DATA into frames itself, so data longer than
   * `getMaxPayloadSize()` goes in several frames.
   *
   * @see wptserve's `H2ResponseWriter.write_data_frame`
   */
  writeDataFrame(data: Chunk, options: { endStream?: boolean } = {}): boolean {
    return this.writeData(data, { last: options.endStream === true });
  }

  /**
   * Not expressible on node:http2, which sends DATA only through a stream's
   * state machine: always throws an `Error`. Use `writeDataFrame()`.
   *
   * @see wptserve's `H2ResponseWriter.write_raw_data_frame`
   */
  writeRawDataFrame(_data: Chunk, _options: { endStream?: boolean } = {}): never {
    throw new Error(
      "writeRawDataFrame() cannot be expressed on node:http2, which sends DATA only through the stream's state machine; use writeDataFrame()",
    );
  }

  /**
   * Begin (or, with `endHeaders`, send) a header block given as raw pairs,
   * pseudo-headers (`:status`) included. node:http2 encodes and frames a header
   * block itself: a block begun without `endHeaders` is completed by
   * `writeRawContinuationFrame()` and sent whole when one of them says
   * `endHeaders` (in as many frames as node:http2 needs, usually one).
   *
   * Throws an `Error` for what node:http2 cannot send: a pseudo-header after a
   * regular one (it would reorder them; wptserve sends the malformed frame), or a
   * block after the headers were sent.
   *
   * @see wptserve's `H2ResponseWriter.write_raw_header_frame`
   */
  writeRawHeaderFrame(
    headers: H2HeaderList,
    options: { endStream?: boolean; endHeaders?: boolean } = {},
  ): boolean {
    if (this.#block !== undefined) {
      throw new Error(
        "writeRawHeaderFrame() came while a header block is open; end it with writeRawContinuationFrame(headers, { endHeaders: true })",
      );
    }
    this.#block = { headers: [...headers], endStream: options.endStream === true };
    return options.endHeaders === true ? this.#sendBlock() : this.#reachable();
  }

  /**
   * Add `headers` to the block `writeRawHeaderFrame()` began, sending it when
   * `endHeaders`. Throws an `Error` when no block is open.
   *
   * @see wptserve's `H2ResponseWriter.write_raw_continuation_frame`
   */
  writeRawContinuationFrame(
    headers: H2HeaderList,
    options: { endHeaders?: boolean } = {},
  ): boolean {
    if (this.#block === undefined) {
      throw new Error(
        "writeRawContinuationFrame() came without a header block open; begin one with writeRawHeaderFrame()",
      );
    }
    this.#block.headers.push(...headers);
    return options.endHeaders === true ? this.#sendBlock() : this.#reachable();
  }

  /**
   * Promise a pushed response (PUSH_PROMISE with `promiseHeaders`: `:method`,
   * `:path`, `:scheme`, `:authority`), then send it on its own stream: `status`,
   * `responseHeaders`, `responseData`. Returns false, sending nothing, when the
   * client has turned pushes off (`SETTINGS_ENABLE_PUSH` 0, as browsers do now)
   * or has gone. An error node:http2 reports for the push goes to `wsgi.errors`.
   *
   * @see wptserve's `H2ResponseWriter.write_push`
   */
  writePush(promiseHeaders: H2HeaderList, options: H2PushOptions = {}): boolean {
    const promised = headerObject(promiseHeaders, "promiseHeaders");
    const response = {
      ...headerObject(options.responseHeaders ?? [], "responseHeaders"),
      ":status": options.status ?? 200,
    };
    const data = options.responseData === undefined ? undefined : this.encode(options.responseData);
    const stream = this.#take(this.defaultStatus);
    this.#assertOpen("writePush()");
    if (!stream.pushAllowed || !this.#reachable()) return false;
    stream.pushStream(promised, (err, push) => {
      if (err) {
        this.#log(err);
        return;
      }
      push.on("error", (pushErr) => this.#log(pushErr));
      push.respond(response, { endStream: data === undefined });
      if (data !== undefined) push.end(data);
    });
    return true;
  }

  /**
   * End the stream: an empty DATA frame with END_STREAM after what is queued
   * (the default status first when no headers were sent).
   *
   * @see wptserve's `H2ResponseWriter.end_stream`
   */
  endStream(): boolean {
    const stream = this.#take(this.defaultStatus);
    if (this.#ending) return this.#reachable();
    if (!this.#headersSent)
      return this.writeHeaders([], this.defaultStatus, undefined, { last: true });
    this.#ending = true;
    this.#pump(stream);
    return this.#reachable();
  }

  /**
   * The largest DATA payload one frame may carry: the client's
   * `SETTINGS_MAX_FRAME_SIZE` (16 384 until it says otherwise).
   *
   * @see wptserve's `H2ResponseWriter.get_max_payload_size`
   */
  getMaxPayloadSize(): number {
    const offer = this.#stream ?? this.#offeredStream();
    return offer?.session?.remoteSettings.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Once the stream is taken over, `write()` is `writeData()`; before, as `ResponseWriter`. */
  override write(data: Chunk): boolean {
    return this.#stream === undefined ? super.write(data) : this.writeData(data);
  }

  /** Once the stream is taken over, a file goes out as `writeData()`; before, as `ResponseWriter`. */
  override writeContentFile(file: FileLike): boolean {
    return this.#stream === undefined ? super.writeContentFile(file) : this.writeData(file);
  }

  /** As `ResponseWriter`; an `Error` once the stream is taken over (use `writeHeaders()`). */
  override writeStatus(code: number, message?: string): boolean {
    this.#assertNotTaken("writeStatus()");
    return super.writeStatus(code, message);
  }

  /** As `ResponseWriter`; an `Error` once the stream is taken over (use `writeHeaders()`). */
  override writeHeader(name: string, value: HeaderValue): boolean {
    this.#assertNotTaken("writeHeader()");
    return super.writeHeader(name, value);
  }

  /** As `ResponseWriter`; an `Error` once the stream is taken over (use `writeHeaders()`). */
  override endHeaders(): boolean {
    this.#assertNotTaken("endHeaders()");
    return super.endHeaders();
  }

  #offeredStream(): ServerHttp2Stream | undefined {
    const offer = this.#response.request.environ["wsgiref.http2_stream"] as
      | { stream?: ServerHttp2Stream }
      | undefined;
    return offer?.stream;
  }

  #assertNotTaken(method: string): void {
    if (this.#stream !== undefined) {
      throw new Error(
        `${method} came after the HTTP/2 stream was taken over by a frame-level write; use writeHeaders()`,
      );
    }
  }

  #assertOpen(method: string): void {
    if (this.#ending) throw new Error(`${method} came after the stream was ended`);
  }

  /** The stream, taken over from the server on first use (the response's status `code` for its log). */
  #take(code: number): ServerHttp2Stream {
    if (this.#stream === undefined) {
      if (this.#output.mode !== "pending") {
        throw new Error(
          "a frame-level write came after the response started through WSGI; write it all one way",
        );
      }
      this.#stream = this.#output.takeOverStream(code);
      this.contentWritten = true;
    }
    return this.#stream;
  }

  #respond(headers: OutgoingHttpHeaders, last: boolean, code: number): boolean {
    const stream = this.#take(code);
    if (this.#headersSent) throw new Error("headers were already sent on this stream");
    const endStream = last || this.#response.request.method === "HEAD";
    if (!this.#reachable()) return false;
    stream.respond(headers, { endStream });
    this.#headersSent = true;
    if (endStream) this.#ending = true;
    return this.#reachable();
  }

  #sendBlock(): boolean {
    const block = this.#block as HeaderBlock;
    this.#block = undefined;
    let regular = false;
    let status: number | undefined;
    for (const [name] of block.headers) {
      if (name.startsWith(":")) {
        if (regular) {
          throw new Error(
            `writeRawHeaderFrame() cannot send pseudo-header ${name} after a regular header: node:http2 orders the header block itself`,
          );
        }
      } else {
        regular = true;
      }
    }
    const headers = headerObject(block.headers, "headers");
    const given = headers[":status"];
    if (given !== undefined) status = Number(given);
    return this.#respond(headers, block.endStream, status ?? this.defaultStatus);
  }

  /** Write queued data until the stream pushes back, then again on `drain`; end it when asked. */
  #pump(stream: ServerHttp2Stream): void {
    while (!this.#waiting && this.#queue.length > 0) {
      if (stream.destroyed) {
        this.#dropQueue();
        return;
      }
      const first = this.#queue[0] as Uint8Array | FileLike;
      let chunk: Uint8Array;
      if (first instanceof Uint8Array) {
        this.#queue.shift();
        chunk = first;
      } else {
        chunk = first.read(this.fileChunkSize);
        if (chunk.byteLength === 0) {
          this.#queue.shift();
          first.close?.();
          continue;
        }
      }
      if (!stream.write(chunk)) {
        this.#waiting = true;
        stream.once("drain", () => {
          this.#waiting = false;
          try {
            this.#pump(stream);
          } catch (err) {
            // A queued file failed to read, with no caller to throw to.
            this.#log(err);
            // Destroyed with an error: RST_STREAM INTERNAL_ERROR.
            stream.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        });
      }
    }
    if (!this.#waiting && this.#queue.length === 0 && this.#ending && !stream.writableEnded) {
      if (!stream.destroyed && !stream.headersSent)
        stream.respond({ ":status": this.defaultStatus });
      stream.end();
    }
  }

  #dropQueue(): void {
    for (const item of this.#queue) if (!(item instanceof Uint8Array)) item.close?.();
    this.#queue = [];
  }

  #reachable(): boolean {
    const stream = this.#stream;
    return this.#output.writable && stream !== undefined && !stream.destroyed;
  }

  #log(error: unknown): void {
    const errors = this.#response.request.environ["wsgi.errors"] as ErrorStream | undefined;
    errors?.write(formatError(error));
    errors?.flush();
  }
}

/**
 * The response to a request that came over HTTP/2: `handlerApp` gives one to a
 * handler when the server says `SERVER_PROTOCOL` `HTTP/2` and offers the stream
 * (`environ["wsgiref.http2_stream"]`). Everything `Response` offers works the
 * same (through WSGI, as the server's HTTP/2 output sends it); `writer` adds
 * wptserve's frame-level writes.
 *
 * @example
 * ```ts
 * import { H2Response, handlerApp } from "wsgiref/response";
 *
 * export const app = handlerApp((request, response) => {
 *   if (response instanceof H2Response) {
 *     response.writer.writeHeaders([["content-type", "text/plain"]], 200);
 *     response.writer.writeData("over HTTP/2", { last: true });
 *   } else {
 *     response.content = "over HTTP/1.1";
 *   }
 * });
 * ```
 *
 * @see wptserve's `wptserve.response.H2Response`
 */
export class H2Response extends Response {
  declare readonly writer: H2ResponseWriter;

  /** Respond to `request` (over HTTP/2) through `output`; `handlerApp` makes both. */
  constructor(request: Request, output: ResponseOutput) {
    super(request, output, H2ResponseWriter);
  }
}

/** Whether `environ`'s request came over HTTP/2 with its stream offered, so it gets an `H2Response`. */
export function isHttp2Request(environ: WSGIEnvironment): boolean {
  const offer = environ["wsgiref.http2_stream"] as { takeOver?: unknown } | undefined;
  return (
    environ.SERVER_PROTOCOL === "HTTP/2" &&
    typeof offer === "object" &&
    offer !== null &&
    typeof offer.takeOver === "function"
  );
}
