/**
 * `Response`: what a handler fills in (status, headers, content, cookies) and how
 * it is written out, at once (`write()`) or step by step (`writer`).
 *
 * Port of wptserve's `wptserve.response.Response`.
 */

import { Buffer } from "node:buffer";
import { expectObject, show } from "../internal/check.js";
import { escapeLogLine } from "../internal/log-text.js";
import type { ErrorStream, FileLike } from "../types.js";
import { type CookieOptions, formatSetCookie, setCookieName } from "./cookies.js";
import type { Request } from "./request.js";
import { ResponseHeaders } from "./response-headers.js";
import type { ResponseOutput } from "./response-output.js";
import { type Chunk, isFileLike, ResponseWriter } from "./response-writer.js";
import { reasonPhrase } from "./status-codes.js";

/** One part of an iterable content: data, a file, or a function returning one when the part is sent. */
export type ContentPart = Chunk | FileLike | (() => Chunk | FileLike | null | undefined);

/** A response's content: text, bytes, a file, or an iterable of parts. */
export type ResponseContent = Chunk | FileLike | Iterable<ContentPart>;

/** `Response.status` as it may be set: a code, or a code and its message. */
export type StatusInit = number | readonly [number, string];

function checkCode(code: unknown): number {
  if (typeof code !== "number" || !Number.isInteger(code) || code < 0 || code > 999) {
    throw new TypeError(`status code must be an integer from 0 to 999: ${show(code)}`);
  }
  return code;
}

// Python's json.encoder.ESCAPE_DCT entries that are not \uXXXX.
const PYTHON_SHORT_ESCAPES = new Map([
  ['"', '\\"'],
  ["\\", "\\\\"],
  ["\b", "\\b"],
  ["\f", "\\f"],
  ["\n", "\\n"],
  ["\r", "\\r"],
  ["\t", "\\t"],
]);

/**
 * Write `text` as a JSON string literal the way Python's `json.dumps` does
 * (`ensure_ascii=True`): only printable ASCII stays as it is; `"`, `\\` and
 * `\b \f \n \r \t` get their short escapes, and every other UTF-16 code unit
 * (controls, DEL, non-ASCII; an astral character as its surrogate pair) becomes
 * a lower-case `\uXXXX`. `JSON.stringify` writes non-ASCII and DEL raw, which
 * are other bytes on the wire.
 */
function pythonJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const short = PYTHON_SHORT_ESCAPES.get(text[i] as string);
    if (short !== undefined) out += short;
    else if (unit >= 0x20 && unit <= 0x7e) out += text[i];
    else out += `\\u${unit.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/** Read a file to its end (and close it): `iterContent(true)`. */
function readAll(file: FileLike, blockSize: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const block = file.read(blockSize);
    if (block.byteLength === 0) break;
    blocks.push(block);
    total += block.byteLength;
  }
  file.close?.();
  return Buffer.concat(blocks, total);
}

/**
 * The parts after the first of a content, as one file-like item the output reads
 * as the client takes them: each `read()` gives the next part whole (a file part
 * a block at a time), so a long iterable is never queued all at once.
 */
function restOf(parts: Iterator<Uint8Array | FileLike>): FileLike {
  let file: FileLike | undefined;
  return {
    read(size: number): Uint8Array {
      for (;;) {
        if (file !== undefined) {
          const block = file.read(size);
          if (block.byteLength > 0) return block;
          file.close?.();
          file = undefined;
        }
        const next = parts.next();
        if (next.done === true) return new Uint8Array(0);
        if (next.value instanceof Uint8Array) {
          if (next.value.byteLength > 0) return next.value;
        } else {
          file = next.value;
        }
      }
    },
    close(): void {
      file?.close?.();
      file = undefined;
      parts.return?.();
    },
  };
}

/**
 * The response to one request, as a handler run by `handlerApp` fills it in.
 *
 * Set `status`, `headers` and `content` and return: `handlerApp` then writes it
 * (`write()`). Or write it yourself, through `writer` or `write()`, in which
 * case nothing more is written after the handler returns. See `ResponseWriter`
 * for when the bytes go through WSGI and when they go raw.
 *
 * @example
 * ```ts
 * import { handlerApp } from "wsgiref/response";
 *
 * export const app = handlerApp((request, response) => {
 *   response.headers.set("Content-Type", "text/plain");
 *   response.setCookie("seen", "1", { maxAge: 3600, httpOnly: true });
 *   response.content = `Hello, ${request.GET.get("name") ?? "world"}!`;
 * });
 * ```
 *
 * @see wptserve's `wptserve.response.Response`
 */
export class Response {
  /** The request this responds to. */
  readonly request: Request;
  /** The step-by-step writer of this response. */
  readonly writer: ResponseWriter;
  /** How text content is encoded (a Node `Buffer` encoding). Default `"utf-8"`. */
  encoding: BufferEncoding = "utf-8";
  /** Whether `Content-Length` (and raw, `Date` and `Server`) is added; false writes raw. Default true. */
  addRequiredHeaders = true;
  /** Whether content is written for a HEAD request too. Default false. */
  sendBodyForHeadRequest = false;
  /**
   * Whether the connection is closed after this response. Default false. Set
   * before the head is written, the response says `Connection: close` (and so
   * goes raw under a server that offers its connection: WSGI cannot carry that
   * header); set later, the connection is still closed after the response.
   */
  closeConnection = false;
  /** The headers `write()` sends. */
  headers = new ResponseHeaders();
  /** The content `write()` sends. Default: none (`[]`). */
  content: ResponseContent = [];
  #status: [number, string | undefined] = [200, undefined];

  /**
   * Respond to `request` through `output`, with a writer of `writerClass`
   * (wptserve's `response_writer_cls`); `handlerApp` makes both.
   */
  constructor(
    request: Request,
    output: ResponseOutput,
    writerClass: new (
      response: Response,
      output: ResponseOutput,
    ) => ResponseWriter = ResponseWriter,
  ) {
    expectObject(request, "request");
    expectObject(output, "output");
    this.request = request;
    this.writer = new writerClass(this, output);
  }

  /**
   * The status as `[code, message]`. Set a number to get its standard reason
   * phrase, or `[code, message]` for any other. Setting throws a `TypeError` when
   * the code is not an integer from 0 to 999 or the message not a string.
   */
  get status(): [number, string] {
    const [code, message] = this.#status;
    return [code, message ?? reasonPhrase(code)];
  }

  /** Set the status: a code (its standard reason phrase follows) or `[code, message]`. */
  set status(value: StatusInit) {
    if (typeof value === "number") {
      this.#status = [checkCode(value), undefined];
      return;
    }
    if (!Array.isArray(value) || value.length !== 2) {
      throw new TypeError(`status must be a code or a [code, message] pair: ${show(value)}`);
    }
    const [code, message] = value as readonly unknown[];
    if (typeof message !== "string") {
      throw new TypeError(`status message must be a string: ${show(message)}`);
    }
    this.#status = [checkCode(code), message];
  }

  /**
   * Add a `Set-Cookie` header for `name` with `value` (`null` deletes it: empty,
   * expired). `path` defaults to `/`.
   *
   * Throws a `TypeError`, before any header changes, when the name, the value or
   * an attribute holds what RFC 6265 forbids there (control characters, `;`,
   * separators in the name; see `CookieOptions`).
   *
   * @see wptserve's `Response.set_cookie`
   */
  setCookie(name: string, value: string | null, options: CookieOptions = {}): void {
    const cookie =
      value === null
        ? formatSetCookie(name, "", { ...options, maxAge: 0, expires: { days: -1 } })
        : formatSetCookie(name, value, options);
    this.headers.append("Set-Cookie", cookie);
  }

  /**
   * Remove the `Set-Cookie` headers this response would send for `name`.
   *
   * @see wptserve's `Response.unset_cookie`
   */
  unsetCookie(name: string): void {
    const all = this.headers.get("Set-Cookie");
    const kept = all.filter((cookie) => setCookieName(cookie) !== name);
    if (kept.length === all.length) return;
    this.headers.delete("Set-Cookie");
    for (const cookie of kept) this.headers.append("Set-Cookie", cookie);
  }

  /**
   * Delete cookie `name` on the client: set it empty, with `Max-Age=0` and an
   * `expires` a day in the past, for `path` (default `/`) and `domain`.
   *
   * @see wptserve's `Response.delete_cookie`
   */
  deleteCookie(name: string, options: { path?: string | null; domain?: string } = {}): void {
    this.headers.append(
      "Set-Cookie",
      formatSetCookie(name, "", {
        path: options.path === undefined ? "/" : options.path,
        domain: options.domain,
        maxAge: 0,
        expires: { days: -1 },
      }),
    );
  }

  /**
   * Make this an error response: status `code`, headers replaced by
   * `Content-Type: application/json` and its `Content-Length`, content
   * `{"error": {"code": code, "message": message}}`. A 500's message is also
   * written to `wsgi.errors`.
   *
   * @see wptserve's `Response.set_error`
   */
  setError(code: number, message = ""): void {
    if (typeof message !== "string") {
      throw new TypeError(`error message must be a string: ${show(message)}`);
    }
    this.status = code;
    // wptserve's json.dumps({"error": {"code": code, "message": message}}): its
    // separators and its ASCII-only escaping, so the bytes are wptserve's.
    const data = `{"error": {"code": ${code}, "message": ${pythonJsonString(message)}}}`;
    this.headers = new ResponseHeaders([
      ["Content-Type", "application/json"],
      ["Content-Length", Buffer.byteLength(data, this.encoding)],
    ]);
    this.content = data;
    if (code === 500) {
      const errors = this.request.environ["wsgi.errors"] as ErrorStream | undefined;
      // One log line, whatever the message holds (a client's input, often).
      errors?.write(`${escapeLogLine(message)}\n`);
    }
  }

  /**
   * Iterate over the content as it will be written: text encoded, a function part
   * called (empty results skipped), a file as it is, or, with `readFile`, read to
   * its end (and closed) and given as bytes.
   *
   * Throws a `TypeError` for content or a part that is none of these.
   *
   * @see wptserve's `Response.iter_content`
   */
  *iterContent(readFile = false): Generator<Uint8Array | FileLike, void, undefined> {
    const content: unknown = this.content;
    if (typeof content === "string" || content instanceof Uint8Array) {
      yield this.writer.encode(content);
      return;
    }
    if (isFileLike(content)) {
      yield readFile ? readAll(content, this.writer.fileChunkSize) : content;
      return;
    }
    if (
      typeof content !== "object" ||
      content === null ||
      typeof (content as Iterable<unknown>)[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(
        `response.content must be a string, a Uint8Array, a file or an iterable of parts: ${show(content)}`,
      );
    }
    for (const item of content as Iterable<unknown>) {
      const value: unknown = typeof item === "function" ? item() : item;
      if (value === null || value === undefined) continue;
      if (typeof value === "string" || value instanceof Uint8Array) {
        // Python's `if value:` skips empty parts.
        if (value.length > 0) yield this.writer.encode(value);
      } else if (isFileLike(value)) {
        yield readFile ? readAll(value, this.writer.fileChunkSize) : value;
      } else {
        throw new TypeError(
          `a part of response.content must be a string, a Uint8Array, a file or a function returning one: ${show(value)}`,
        );
      }
    }
  }

  /**
   * Write the status line and headers: `writer.writeStatus(...status)`, each
   * header, `writer.endHeaders()`.
   *
   * @see wptserve's `Response.write_status_headers`
   */
  writeStatusHeaders(): void {
    this.writer.writeStatus(...this.status);
    for (const [name, value] of this.headers) {
      this.writer.writeHeader(name, value);
    }
    this.writer.endHeaders();
  }

  /**
   * Write the content, part by part (`writer.writeContent`); nothing for a HEAD
   * request unless `sendBodyForHeadRequest` (a file content is then closed unread).
   *
   * The first part is taken now; the others as the client takes what came
   * before, so an iterable's parts (its functions called) are produced no faster
   * than they are sent, and a client that stops reading stops them.
   *
   * @see wptserve's `Response.write_content`
   */
  writeContent(): void {
    if (this.request.method === "HEAD" && !this.sendBodyForHeadRequest) {
      if (isFileLike(this.content)) this.content.close?.();
      return;
    }
    const parts = this.iterContent();
    // The first part now: it captures the content (a change after write() is not
    // sent) and, before endHeaders(), gives Content-Length its length.
    const first = parts.next();
    if (first.done === true) return;
    this.writer.writeContent(first.value);
    this.writer.writeContentFile(restOf(parts));
  }

  /**
   * Write the whole response: `writeStatusHeaders()`, then `writeContent()`.
   *
   * @see wptserve's `Response.write`
   */
  write(): void {
    this.writeStatusHeaders();
    this.writeContent();
  }
}
