/**
 * `Request`: what a handler run by `handlerApp` knows about its request, read from
 * the WSGI environ: method, URL, headers, body, query, form and cookies.
 *
 * Port of wptserve's `wptserve.request.Request`.
 */

import { Buffer } from "node:buffer";
import { show } from "../internal/check.js";
import type { InputStream, WSGIEnvironment } from "../types.js";
import { requestUri } from "../util.js";
import { parseCookieHeader } from "./cookies.js";
import {
  closeForm,
  type FormLimits,
  type FormValue,
  formKind,
  formTooBig,
  formTooLarge,
  parseMultipart,
  parseMultipartInput,
  parseUrlencoded,
  type ResolvedFormLimits,
  resolveFormLimits,
} from "./form.js";
import { MultiDict, RequestHeaders } from "./multi-dict.js";
import { RequestError } from "./request-error.js";

/** The limits of a `Request`: its form's (`FormLimits`) and its body's. */
export interface RequestLimits extends FormLimits {
  /**
   * Most bytes `request.body` reads into memory: a larger `CONTENT_LENGTH` is a
   * `RequestError` (413) before anything is read; a body of unknown length is
   * counted as it is read. Default 64 MiB.
   */
  maxBodyMemory?: number;
}

/** The default `maxBodyMemory`: 64 MiB. */
const DEFAULT_MAX_BODY_MEMORY = 64 * 1024 * 1024;

/** `RequestLimits` with every default filled in. */
export type ResolvedRequestLimits = Required<RequestLimits>;

/** Fill in and check limits: a `TypeError` for an unknown field or a value that is no size. */
export function resolveRequestLimits(limits: RequestLimits = {}): ResolvedRequestLimits {
  const form = resolveFormLimits(limits);
  const maxBodyMemory: unknown = limits.maxBodyMemory;
  if (
    maxBodyMemory !== undefined &&
    (typeof maxBodyMemory !== "number" || !Number.isSafeInteger(maxBodyMemory) || maxBodyMemory < 0)
  ) {
    throw new TypeError(`maxBodyMemory must be a non-negative integer: ${show(maxBodyMemory)}`);
  }
  return { ...form, maxBodyMemory: maxBodyMemory ?? DEFAULT_MAX_BODY_MEMORY };
}

/** A `wsgi.input` that can seek, as wsgiref's `BytesInput` and `SpooledInput` (Python's `io.BytesIO`). */
interface SeekableInput extends InputStream {
  tell(): number;
  seek(offset: number): number;
}

const EMPTY = new Uint8Array(0);
const READ_CHUNK = 64 * 1024;
const DIGITS = /^[0-9]+$/;
// What a URL cannot hold as it is: controls, space, and the latin-1 code points
// that stand for bytes above 0x7E (SPEC.md §1: environ strings are bytes).
const UNSAFE_IN_URL = /[^\x21-\x7E]/g;
const NON_ASCII = /[\u0080-\uFFFF]/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Read a "bytes in unicode" string as UTF-8 text, or keep it as it is when it is not UTF-8. */
function textFromLatin1(s: string): string {
  // ASCII is the same either way.
  if (!NON_ASCII.test(s)) return s;
  try {
    return utf8.decode(Buffer.from(s, "latin1"));
  } catch {
    // Not UTF-8: the bytes as latin-1 are the best reading left.
    return s;
  }
}

const lossyUtf8 = new TextDecoder("utf-8");
const PLUS = 0x2b;
const PERCENT = 0x25;

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Percent-decode `bytes` (`+` as space) to the bytes they stand for; a stray `%` stays. */
function unquoteBytes(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === PLUS) {
      out[n++] = 0x20;
      continue;
    }
    if (byte === PERCENT) {
      const high = hexValue(bytes[i + 1]);
      const low = hexValue(bytes[i + 2]);
      if (high >= 0 && low >= 0) {
        out[n++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/**
 * Split an `application/x-www-form-urlencoded` string (a query, or a form body
 * read as latin-1) as `URLSearchParams` does, but keep each value's bytes: the
 * name is decoded as `URLSearchParams` decodes it (UTF-8, U+FFFD for what is
 * not), so the same names find the same fields as in `GET` and `POST`.
 */
function parseUrlencodedBytes(text: string): MultiDict<Uint8Array> {
  const pairs = new MultiDict<Uint8Array>();
  for (const field of text.split("&")) {
    if (field === "") continue;
    const equals = field.indexOf("=");
    const name = equals < 0 ? field : field.slice(0, equals);
    const value = equals < 0 ? "" : field.slice(equals + 1);
    pairs.add(
      lossyUtf8.decode(unquoteBytes(Buffer.from(name, "latin1"))),
      unquoteBytes(Buffer.from(value, "latin1")),
    );
  }
  return pairs;
}

function percentEncodeByte(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/**
 * One HTTP request, as a handler sees it.
 *
 * Everything is read from `environ` when first asked for, then kept. `body`
 * reads `wsgi.input` (at most `CONTENT_LENGTH` bytes; to the end when the
 * server says `wsgi.input_terminated`). `GET`, `POST` and `cookies` are decoded
 * as UTF-8, as browsers send them; `headers` keep the environ's latin-1 strings.
 *
 * @see wptserve's `wptserve.request.Request`
 */
export class Request {
  /** The WSGI environ this request was read from. */
  readonly environ: WSGIEnvironment;
  readonly #limits: ResolvedFormLimits;
  readonly #maxBodyMemory: number;
  #body: Uint8Array | undefined;
  /** Whether a multipart form was parsed as it was read, so the body is gone. */
  #bodyConsumed = false;
  #closed = false;
  #url: string | undefined;
  #urlParts: URL | undefined;
  #headers: RequestHeaders | undefined;
  #get: MultiDict<string> | undefined;
  #rawGet: MultiDict<Uint8Array> | undefined;
  #rawPost: MultiDict<Uint8Array> | undefined;
  #cookies: MultiDict<string> | undefined;
  #post: MultiDict<FormValue> | undefined;
  #postError: unknown;

  /**
   * Read the request of `environ`, whose body and form (`POST`) are held to `limits`.
   *
   * Throws a `TypeError` when `environ` is not an object or `limits` is invalid.
   */
  constructor(environ: WSGIEnvironment, limits: RequestLimits = {}) {
    if (typeof environ !== "object" || environ === null) {
      throw new TypeError(`environ must be an object: ${show(environ)}`);
    }
    this.environ = environ;
    const resolved = resolveRequestLimits(limits);
    this.#limits = resolved;
    this.#maxBodyMemory = resolved.maxBodyMemory;
  }

  /** The method (`REQUEST_METHOD`), such as `"GET"`. */
  get method(): string {
    const method = this.environ.REQUEST_METHOD;
    return typeof method === "string" ? method : "GET";
  }

  /**
   * The full URL: scheme, host, then the request target as the client sent it
   * (`REQUEST_URI`, so `%2F` stays `%2F`), or as PEP 3333 rebuilds it
   * (`requestUri`) when the server gives no `REQUEST_URI`.
   */
  get url(): string {
    if (this.#url === undefined) {
      const env = this.environ;
      const raw = env.REQUEST_URI;
      if (typeof raw === "string" && raw.startsWith("/")) {
        const scheme = env["wsgi.url_scheme"] === "https" ? "https" : "http";
        let host = env.HTTP_HOST;
        if (!host) {
          const port = env.SERVER_PORT ?? "";
          host = `${env.SERVER_NAME ?? "localhost"}`;
          if (port && port !== (scheme === "https" ? "443" : "80")) host += `:${port}`;
        }
        this.#url = `${scheme}://${host}${raw.replace(UNSAFE_IN_URL, percentEncodeByte)}`;
      } else {
        this.#url = requestUri(env);
      }
    }
    return this.#url;
  }

  /** The URL, parsed (the same `URL` object each time). */
  get urlParts(): URL {
    this.#urlParts ??= new URL(this.url);
    return this.#urlParts;
  }

  /**
   * The header fields, by lower-case name: `HTTP_*` keys, `CONTENT_TYPE` and
   * `CONTENT_LENGTH` (when not empty).
   */
  get headers(): RequestHeaders {
    if (this.#headers === undefined) {
      const headers = new RequestHeaders();
      for (const key in this.environ) {
        const value = this.environ[key];
        if (typeof value !== "string") continue;
        if (key.startsWith("HTTP_")) {
          headers.add(key.slice(5).toLowerCase().replaceAll("_", "-"), value);
        } else if ((key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") && value !== "") {
          headers.add(key.toLowerCase().replace("_", "-"), value);
        }
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  /**
   * The request body, read from `wsgi.input` on first use.
   *
   * Throws a `RequestError` (413) when it is larger than `maxBodyMemory`, and an
   * `Error` when a multipart form larger than `fileSpoolThreshold` was parsed as
   * it was read (`loadPost()`, which `handlerApp` runs first): its bytes are in
   * `POST` then, not kept whole.
   */
  get body(): Uint8Array {
    if (this.#body === undefined) {
      if (this.#bodyConsumed) {
        throw new Error(
          "request.body was read by the multipart form parsed as it arrived (a body larger than fileSpoolThreshold); read the form's parts in request.POST",
        );
      }
      this.#body = this.#readBody(
        this.#maxBodyMemory,
        (length) =>
          new RequestError(
            `request body is larger than maxBodyMemory (${this.#maxBodyMemory} bytes)${length === undefined ? "" : `: ${length} bytes`}`,
            413,
          ),
      );
    }
    return this.#body;
  }

  /** The query string's parameters, in order. */
  get GET(): MultiDict<string> {
    if (this.#get === undefined) {
      const query = this.environ.QUERY_STRING;
      this.#get = new MultiDict(
        new URLSearchParams(typeof query === "string" ? textFromLatin1(query) : ""),
      );
    }
    return this.#get;
  }

  /**
   * The query string's parameters with each value's bytes as the client sent
   * them (percent-decoded, not UTF-8-decoded): what `GET` cannot hold when a
   * value is not UTF-8 (`?q=%82%A0`, Shift JIS), as wptserve's `GET` keeps
   * bytes. Names are decoded as in `GET`.
   */
  get rawGET(): MultiDict<Uint8Array> {
    if (this.#rawGet === undefined) {
      const query = this.environ.QUERY_STRING;
      this.#rawGet = parseUrlencodedBytes(typeof query === "string" ? query : "");
    }
    return this.#rawGet;
  }

  /**
   * The fields of an `application/x-www-form-urlencoded` body with each value's
   * bytes as sent (percent-decoded, not UTF-8-decoded), as `rawGET` for the
   * query; empty for a body that is no form. Read under `POST`'s limits, and
   * throws what `POST` throws. A `multipart/form-data` body throws an `Error`:
   * its files are bytes in `POST` already, and its text fields are decoded
   * as they are parsed.
   */
  get rawPOST(): MultiDict<Uint8Array> {
    if (this.#rawPost !== undefined) return this.#rawPost;
    const kind = this.#formKind();
    if (kind === "multipart") {
      throw new Error(
        "request.rawPOST holds urlencoded forms only: a multipart/form-data body's files are bytes in request.POST",
      );
    }
    // POST first: its limits and errors hold for the bytes too.
    this.POST;
    this.#rawPost =
      kind === "urlencoded"
        ? parseUrlencodedBytes(Buffer.from(this.#formBody()).toString("latin1"))
        : new MultiDict();
    return this.#rawPost;
  }

  /**
   * The form in the body: fields of an `application/x-www-form-urlencoded` or
   * `multipart/form-data` body (a file's value is a `FilePart`: its bytes, with
   * `filename` and `contentType`); empty for any other body.
   *
   * Throws a `FormError` when the form is malformed (400) or past its limits (413).
   * A multipart form must be parsed first with `await loadPost()`, which
   * `handlerApp` does before calling the handler; until then reading it throws an
   * `Error` saying so. An urlencoded body is read and parsed when `POST` is first
   * read, at most `maxFormMemory` bytes (its `CONTENT_LENGTH` is checked first).
   */
  get POST(): MultiDict<FormValue> {
    if (this.#postError !== undefined) throw this.#postError;
    if (this.#post !== undefined) return this.#post;
    const kind = this.#formKind();
    if (kind === "multipart") {
      throw new Error(
        "Request.POST of a multipart/form-data body is parsed asynchronously: await request.loadPost() first (handlerApp does so before calling the handler)",
      );
    }
    try {
      this.#post =
        kind === "urlencoded" ? parseUrlencoded(this.#formBody(), this.#limits) : new MultiDict();
    } catch (err) {
      this.#postError = err;
      throw err;
    }
    return this.#post;
  }

  /**
   * Parse the form in the body now, so `POST` can then be read synchronously.
   *
   * A multipart body larger than `maxFormSize` is refused before it is read. One
   * whose `CONTENT_LENGTH` is at most `fileSpoolThreshold` is read whole first
   * (`body` keeps it); a larger one, or one of unknown length, is parsed as it
   * is read, a chunk at a time with the event loop free between them, its large
   * files going to a temporary file (`DiskFilePart`) that `close()` removes.
   * `body` then throws.
   *
   * Resolves to `POST`; rejects with the `FormError` that `POST` will throw.
   */
  async loadPost(): Promise<MultiDict<FormValue>> {
    if (
      this.#post === undefined &&
      this.#postError === undefined &&
      this.#formKind() === "multipart"
    ) {
      try {
        this.#post = await this.#parseMultipart();
        // A request closed while its form was parsed: its files go at once.
        if (this.#closed) closeForm(this.#post);
      } catch (err) {
        this.#postError = err;
      }
    }
    return this.POST;
  }

  /**
   * Remove the temporary file of the form's `DiskFilePart`s. `handlerApp` calls
   * it when the gateway closes the response's body; a `Request` built by hand is
   * closed by its maker. Closing again is harmless.
   */
  close(): void {
    this.#closed = true;
    if (this.#post !== undefined) closeForm(this.#post);
  }

  /** The cookies of the `Cookie` header, in order. */
  get cookies(): MultiDict<string> {
    if (this.#cookies === undefined) {
      const header = this.environ.HTTP_COOKIE;
      this.#cookies = new MultiDict(
        typeof header === "string" ? parseCookieHeader(textFromLatin1(header)) : [],
      );
    }
    return this.#cookies;
  }

  #formKind(): ReturnType<typeof formKind> {
    const contentType = this.environ.CONTENT_TYPE;
    return typeof contentType === "string" ? formKind(contentType) : undefined;
  }

  /** The body's length from `CONTENT_LENGTH`; `undefined` when it gives none. */
  #contentLength(): number | undefined {
    const length = this.environ.CONTENT_LENGTH;
    return typeof length === "string" && DIGITS.test(length) ? Number(length) : undefined;
  }

  /** `wsgi.input` when it can seek (wsgiref's own inputs can; a validator's wrapper cannot). */
  #seekableInput(): SeekableInput | undefined {
    const input: unknown = this.environ["wsgi.input"];
    return typeof input === "object" &&
      input !== null &&
      typeof (input as Partial<SeekableInput>).seek === "function" &&
      typeof (input as Partial<SeekableInput>).tell === "function"
      ? (input as SeekableInput)
      : undefined;
  }

  /**
   * A reader of the body: `read(size)` up to `CONTENT_LENGTH`, or to the end when
   * terminated; from the body's first byte when the input can seek, whatever the
   * handler read of it before (wptserve's `body` seeks to 0 likewise).
   */
  #reader(): (size: number) => Uint8Array {
    const input = this.environ["wsgi.input"] as InputStream | undefined;
    const known = this.#contentLength();
    if (
      input === undefined ||
      input === null ||
      (known === undefined && this.environ["wsgi.input_terminated"] !== true)
    ) {
      return () => EMPTY;
    }
    this.#seekableInput()?.seek(0);
    let remaining = known ?? Number.POSITIVE_INFINITY;
    return (size) => {
      if (remaining <= 0) return EMPTY;
      // Always with a size: validator() (as Python's) refuses read() without one.
      const chunk = input.read(Math.min(remaining, size));
      remaining -= chunk.length;
      return chunk;
    };
  }

  /**
   * Read the body: `CONTENT_LENGTH` bytes when it is given (PEP 3333: never read
   * past it), everything when the server marks the input terminated, else none;
   * past `max` bytes (checked against `CONTENT_LENGTH` before reading), the
   * error `tooLarge` makes.
   */
  #readBody(max: number, tooLarge: (length?: number) => Error): Uint8Array {
    const known = this.#contentLength();
    if (known !== undefined && known > max) throw tooLarge(known);
    // The handler's own position in wsgi.input is given back after, as wptserve does.
    const input = this.#seekableInput();
    const position = input?.tell();
    const read = this.#reader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const chunk = read(READ_CHUNK);
        if (chunk.length === 0) break;
        total += chunk.length;
        if (total > max) throw tooLarge();
        chunks.push(chunk);
      }
    } finally {
      if (position !== undefined) input?.seek(position);
    }
    if (chunks.length === 0) return EMPTY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  /** The body of an urlencoded form: at most `maxFormSize` and `maxFormMemory` bytes. */
  #formBody(): Uint8Array {
    if (this.#body !== undefined) return this.#body;
    const limits = this.#limits;
    const size = limits.maxFormSize <= limits.maxFormMemory;
    this.#body = this.#readBody(Math.min(limits.maxFormSize, limits.maxFormMemory), (length) =>
      size ? formTooLarge(limits, length) : formTooBig(limits, length),
    );
    return this.#body;
  }

  /** Parse the multipart form: from the body when it is small or already read, else as it is read. */
  async #parseMultipart(): Promise<MultiDict<FormValue>> {
    const limits = this.#limits;
    const contentType = this.environ.CONTENT_TYPE ?? "";
    const known = this.#contentLength();
    if (known !== undefined && known > limits.maxFormSize) throw formTooLarge(limits, known);
    if (this.#body === undefined && known !== undefined && known <= limits.fileSpoolThreshold) {
      this.#body = this.#readBody(limits.fileSpoolThreshold, (length) =>
        formTooLarge(limits, length),
      );
    }
    if (this.#body !== undefined) {
      if (this.#body.length > limits.maxFormSize) throw formTooLarge(limits, this.#body.length);
      return this.#body.length === 0
        ? new MultiDict()
        : await parseMultipart(this.#body, contentType, limits);
    }
    const read = this.#reader();
    this.#bodyConsumed = true;
    // An empty body is an empty form, as when it is read whole.
    let first: Uint8Array | undefined = read(READ_CHUNK);
    if (first.length === 0) return new MultiDict();
    return await parseMultipartInput(
      (size) => {
        if (first === undefined) return read(size);
        const chunk = first;
        first = undefined;
        return chunk;
      },
      contentType,
      limits,
    );
  }
}
