/**
 * `ResponseWriter`: a response written step by step (status line, header lines,
 * the blank line, content), each step returning at once whether it can still
 * reach the client.
 *
 * Port of wptserve's `wptserve.response.ResponseWriter`. wptserve writes every
 * step to the socket as it comes; here a response goes through WSGI
 * (`startResponse` and the body), so it works under every gateway, unless it
 * must be raw: see `ResponseWriter`.
 */

import { Buffer } from "node:buffer";
import { Headers } from "../headers.js";
import { show } from "../internal/check.js";
import { formatDateTime } from "../internal/http-date.js";
import { latin1Bytes } from "../internal/latin1.js";
import type { FileLike } from "../types.js";
import { isHopByHop } from "../util.js";
import type { Response } from "./response.js";
import type { HeaderValue } from "./response-headers.js";
import type { ResponseOutput } from "./response-output.js";
import { reasonPhrase } from "./status-codes.js";

/** Text or bytes to write; text is encoded with `Response.encoding`. */
export type Chunk = string | Uint8Array;

/** Whether `value` is a file-like object (`read(size)`), as wptserve's `hasattr(x, "read")`. */
export function isFileLike(value: unknown): value is FileLike {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as { read?: unknown }).read === "function"
  );
}

const CRLF = Buffer.from("\r\n", "latin1");

// What a reason phrase must not carry, as the gateway's startResponse checks it:
// CR and LF would end the status line early (response splitting); HTAB is allowed
// (RFC 9112 §4).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const STATUS_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;

/**
 * Check a status line that goes raw though the handler did not ask for raw bytes
 * (`addRequiredHeaders` true): the rules the WSGI path applies, and a code a
 * client can read as a status (RFC 9110 §15: three digits, 100 to 599).
 */
function checkStatus(code: number, message: string): void {
  if (code < 100 || code > 599) {
    throw new TypeError(
      `status code must be from 100 to 599 unless response.addRequiredHeaders is false: ${show(code)}`,
    );
  }
  if (STATUS_CONTROL.test(message)) {
    throw new TypeError(`status message contains a control character: ${show(message)}`);
  }
}

/**
 * Check a header line likewise: the gateway's own `Headers` checks (the name a
 * token, the value without control characters other than tab), so a header is
 * refused the same way whichever path it takes.
 */
function checkHeader(name: string, value: string): void {
  new Headers([[name, value]]);
}

/** Internal hooks for `handlerApp`, set in the class's static block. */
export const writerInternals: {
  /** Whether anything was written yet (wptserve's `content_written`, counting the status). */
  started(writer: ResponseWriter): boolean;
  /** Complete a response the handler left unfinished (a head without its blank line). */
  finish(writer: ResponseWriter): void;
} = {
  started: () => false,
  finish: () => undefined,
};

/**
 * Write a response step by step; every method returns, synchronously, whether
 * the client can still be reached (false once it has gone).
 *
 * Two ways out:
 * - Through WSGI (the default): the status line and headers are held until
 *   `endHeaders()`, which passes them to `startResponse` (adding `Content-Length`
 *   when the content's length is known; the gateway adds `Date` and `Server`);
 *   what is written after goes into the body, framed by the gateway. Works
 *   under every gateway.
 * - Raw: the bytes go to the socket as given, nothing added. Taken when
 *   `response.addRequiredHeaders` is false, when bytes are written before
 *   `endHeaders()` (`write`, `writeRawContent`, `writeContentFile`), or when
 *   WSGI cannot carry the head (a hop-by-hop header such as `Connection` or
 *   `Transfer-Encoding`; a body for HEAD with `sendBodyForHeadRequest`;
 *   `response.closeConnection`, whose `Connection: close` is hop-by-hop). Only
 *   with `addRequiredHeaders` false are status and header lines sent unchecked;
 *   otherwise they are checked as the WSGI path checks them (a `TypeError` for a
 *   header name that is no token, a control character in a value or the reason
 *   phrase, a status code outside 100 to 599), and the bytes of `write`,
 *   `writeRawContent` and `writeContentFile` are never checked. It needs
 *   the connection the server offers as `environ["wsgiref.connection"]`;
 *   without one (CGI, `SimpleHandler`) it throws an `Error` and sends nothing
 *   (the head-only cases then go through WSGI). The server closes the
 *   connection after a raw response.
 *
 * Created by `Response`, as `response.writer`.
 *
 * @see wptserve's `wptserve.response.ResponseWriter`
 */
export class ResponseWriter {
  /** The status written when a header or content comes first. */
  defaultStatus = 200;
  /** Whether content (or anything, raw) has been written (wptserve's `content_written`). */
  contentWritten = false;
  readonly #response: Response;
  readonly #output: ResponseOutput;
  #status: [number, string] | undefined;
  #head: Array<[string, string]> = [];
  readonly #seen = new Set<string>();
  #headersComplete = false;

  static {
    writerInternals.started = (writer) => writer.contentWritten || writer.#status !== undefined;
    writerInternals.finish = (writer) => writer.#finish();
  }

  /** Write the response `response` to `output`. */
  constructor(response: Response, output: ResponseOutput) {
    this.#response = response;
    this.#output = output;
  }

  /** How many bytes a file is read at a time when written (wptserve's `file_chunk_size`). */
  get fileChunkSize(): number {
    return this.#output.fileChunkSize;
  }

  /** Set how many bytes a file is read at a time. */
  set fileChunkSize(size: number) {
    if (!Number.isInteger(size) || size <= 0) {
      throw new TypeError(`fileChunkSize must be a positive integer: ${show(size)}`);
    }
    this.#output.fileChunkSize = size;
  }

  /**
   * Write the status line: `HTTP/1.1 <code> <message>`, the message defaulting to
   * the code's standard reason phrase (`""` when it has none).
   *
   * Through WSGI, a second call before `endHeaders()` replaces the status; after
   * it, throws an `Error` (only raw output can send a second status line).
   * Throws a `TypeError` when `code` is not a non-negative integer or `message`
   * not a string; raw with `addRequiredHeaders` true, also when the code is
   * outside 100 to 599 or the message holds a control character.
   */
  writeStatus(code: number, message?: string): boolean {
    if (typeof code !== "number" || !Number.isInteger(code) || code < 0) {
      throw new TypeError(`status code must be a non-negative integer: ${show(code)}`);
    }
    if (message !== undefined && typeof message !== "string") {
      throw new TypeError(`status message must be a string: ${show(message)}`);
    }
    const text = message ?? reasonPhrase(code);
    // Encoded first: a status that cannot be sent fails before anything changes.
    const line = latin1Bytes(`HTTP/1.1 ${code} ${text}\r\n`, "status line");
    const raw = this.#routeHead("writeStatus()", code);
    if (raw && this.#response.addRequiredHeaders) checkStatus(code, text);
    this.#status = [code, text];
    return raw ? this.#raw(line) : this.#output.writable;
  }

  /**
   * Write one header line, `name: value`; the default status first when no status
   * was written.
   *
   * Through WSGI, throws an `Error` after `endHeaders()`. Throws a `TypeError`
   * when the name is not a string or the value not a string or a number; raw
   * with `addRequiredHeaders` true, also when the name is not a token or the
   * value holds a control character other than tab.
   */
  writeHeader(name: string, value: HeaderValue): boolean {
    if (typeof name !== "string")
      throw new TypeError(`header name must be a string: ${show(name)}`);
    if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
      throw new TypeError(
        `value of header ${name} must be a string or a finite number: ${show(value)}`,
      );
    }
    if (this.#status === undefined) this.writeStatus(this.defaultStatus);
    const text = String(value);
    const line = latin1Bytes(`${name}: ${text}\r\n`, `header ${name}`);
    const raw = this.#routeHead("writeHeader()");
    if (raw && this.#response.addRequiredHeaders) checkHeader(name, text);
    this.#seen.add(name.toLowerCase());
    if (raw) return this.#raw(line);
    this.#head.push([name, text]);
    return this.#output.writable;
  }

  /**
   * Add the headers HTTP requires that were not written: `Content-Length` when the
   * response's content is a string or bytes; raw, also `Date` and `Server` (the
   * environ's `SERVER_SOFTWARE` and the runtime, as the server's own header),
   * and `Connection: close` when `response.closeConnection` is set. Through WSGI
   * the gateway adds `Date` and `Server` itself, as for every application.
   */
  writeDefaultHeaders(): boolean {
    let ok = true;
    if (this.#output.mode === "raw") {
      // The client must learn that the connection ends here, or it loses the
      // requests it pipelined behind this one (RFC 9112 §9.6).
      if (this.#response.closeConnection && !this.#seen.has("connection")) {
        ok = this.writeHeader("Connection", "close") && ok;
      }
      if (!this.#seen.has("server")) ok = this.writeHeader("Server", this.#serverHeader()) && ok;
      if (!this.#seen.has("date")) ok = this.writeHeader("Date", formatDateTime(Date.now())) && ok;
    }
    const content = this.#response.content;
    if (!this.#seen.has("content-length")) {
      if (typeof content === "string") {
        ok =
          this.writeHeader("Content-Length", Buffer.byteLength(content, this.#response.encoding)) &&
          ok;
      } else if (content instanceof Uint8Array) {
        ok = this.writeHeader("Content-Length", content.byteLength) && ok;
      }
    }
    return ok;
  }

  /**
   * End the header section: add the required headers (unless
   * `response.addRequiredHeaders` is false), then the blank line. Through WSGI
   * this is when `startResponse` is called (its errors, such as a `TypeError` for
   * a control character in a header, are thrown from here). Raw and without a
   * `Content-Length`, sets `response.closeConnection`: the body ends with the
   * connection.
   */
  endHeaders(): boolean {
    if (this.#status === undefined) this.writeStatus(this.defaultStatus);
    const response = this.#response;
    const mode = this.#output.mode;
    if (mode === "wsgi") this.#assertHeadOpen("endHeaders()");
    if (mode === "pending" && response.addRequiredHeaders && !this.#mustGoRaw()) {
      this.writeDefaultHeaders();
      const [code, message] = this.#status as [number, string];
      this.#output.startWsgi(`${code} ${message}`, this.#head);
      this.#headersComplete = true;
      return this.#output.writable;
    }
    if (mode === "pending") this.#startRaw();
    let ok = true;
    if (response.addRequiredHeaders) ok = this.writeDefaultHeaders();
    ok = this.#raw(CRLF) && ok;
    this.#headersComplete = true;
    if (!this.#seen.has("content-length")) response.closeConnection = true;
    return ok;
  }

  /**
   * Write content: first, when the headers are not complete, the default status
   * and `endHeaders()` with this data as the response's content (so its length
   * becomes `Content-Length`); then the data as `writeRawContent` does.
   */
  writeContent(data: Chunk | FileLike): boolean {
    if (this.#status === undefined) this.writeStatus(this.defaultStatus);
    if (!this.#headersComplete) {
      this.#response.content = data;
      this.endHeaders();
    }
    return this.writeRawContent(data);
  }

  /**
   * Write `data` exactly as given (text encoded with `response.encoding`); a file
   * goes to `writeContentFile`. Before `endHeaders()`, this makes the response
   * raw. Throws a `TypeError` for anything else.
   */
  writeRawContent(data: Chunk | FileLike): boolean {
    if (isFileLike(data)) return this.writeContentFile(data);
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError(`content must be a string, a Uint8Array or a file: ${show(data)}`);
    }
    return this.write(data);
  }

  /**
   * Write `data` (text encoded with `response.encoding`) directly: into the body
   * once the head went through WSGI, else raw.
   */
  write(data: Chunk): boolean {
    const bytes = this.encode(data);
    this.contentWritten = true;
    if (this.#output.mode === "pending") this.#startRaw();
    return this.#output.push(bytes);
  }

  /**
   * Write a file's content, read `fileChunkSize` bytes at a time as the client
   * takes them, then close the file. Before `endHeaders()`, this makes the
   * response raw.
   */
  writeContentFile(file: FileLike): boolean {
    if (!isFileLike(file)) {
      throw new TypeError(`file must have a read(size) method: ${show(file)}`);
    }
    this.contentWritten = true;
    if (this.#output.mode === "pending") this.#startRaw();
    return this.#output.push(file);
  }

  /**
   * Return `data` as bytes: text encoded with `response.encoding`, bytes as they
   * are. Throws a `TypeError` for anything else or an unknown encoding.
   */
  encode(data: Chunk): Uint8Array {
    if (data instanceof Uint8Array) return data;
    if (typeof data !== "string") {
      throw new TypeError(`data must be a string or a Uint8Array: ${show(data)}`);
    }
    const encoding = this.#response.encoding;
    if (!Buffer.isEncoding(encoding)) {
      throw new TypeError(`response.encoding is not an encoding Node knows: ${show(encoding)}`);
    }
    return Buffer.from(data, encoding);
  }

  /**
   * Decide where a status or header line goes: true for raw (taking the
   * connection over when required headers were just turned off), false to hold
   * it for WSGI. Throws once the head went out through WSGI.
   */
  #routeHead(method: string, code?: number): boolean {
    const mode = this.#output.mode;
    if (mode === "raw") return true;
    this.#assertHeadOpen(method);
    if (this.#response.addRequiredHeaders) return false;
    this.#startRaw(code);
    return true;
  }

  /**
   * Whether WSGI cannot carry this head, so it goes raw when the connection is
   * offered: a hop-by-hop header (PEP 3333 forbids them; the client is being
   * tested on its framing), a body promised for HEAD (gateways drop it), or
   * `closeConnection` (its `Connection: close` is hop-by-hop, and the gateway
   * would say keep-alive). Without the connection, WSGI it is: `startResponse`
   * refuses the header, the gateway drops the HEAD body.
   */
  #mustGoRaw(): boolean {
    if (!this.#output.canWriteRaw) return false;
    const response = this.#response;
    if (response.closeConnection) return true;
    if (response.request.method === "HEAD" && response.sendBodyForHeadRequest) return true;
    return this.#head.some(([name]) => isHopByHop(name));
  }

  /** Throw when the head already went through WSGI: only raw output could add to it. */
  #assertHeadOpen(method: string): void {
    if (this.#headersComplete) {
      throw new Error(
        `${method} came after endHeaders(), once the head went out through WSGI; set response.addRequiredHeaders = false before writing to write raw bytes`,
      );
    }
  }

  /**
   * Take the connection over and send the head held so far, as it would have
   * gone out; `code` is the status for the server's log when none is held yet.
   */
  #startRaw(code?: number): void {
    // What is held was written with addRequiredHeaders true, for the WSGI path:
    // it gets that path's checks before it can go out unchecked.
    if (this.#status !== undefined) checkStatus(...this.#status);
    for (const [name, value] of this.#head) checkHeader(name, value);
    const lines: string[] = [];
    if (this.#status !== undefined)
      lines.push(`HTTP/1.1 ${this.#status[0]} ${this.#status[1]}\r\n`);
    for (const [name, value] of this.#head) lines.push(`${name}: ${value}\r\n`);
    // Every line was encoded once already when it was written: this cannot throw.
    const head = latin1Bytes(lines.join(""), "response head");
    this.#output.startRaw(this.#status?.[0] ?? code ?? this.defaultStatus);
    this.#head = [];
    if (head.byteLength > 0) this.#raw(head);
  }

  #raw(bytes: Uint8Array): boolean {
    this.contentWritten = true;
    return this.#output.push(bytes);
  }

  #serverHeader(): string {
    const software = this.#response.request.environ.SERVER_SOFTWARE;
    const runtime = `Node.js/${process.versions.node}`;
    return typeof software === "string" && software !== "" ? `${software} ${runtime}` : runtime;
  }

  /** Complete a head left open: through WSGI, the gateway needs a status to send. */
  #finish(): void {
    if (this.#output.mode === "pending" && this.#status !== undefined && !this.#headersComplete) {
      this.endHeaders();
    }
  }
}
