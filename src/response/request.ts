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
  type FormLimits,
  type FormValue,
  formKind,
  parseMultipart,
  parseUrlencoded,
  type ResolvedFormLimits,
  resolveFormLimits,
} from "./form.js";
import { MultiDict, RequestHeaders } from "./multi-dict.js";

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
  #body: Uint8Array | undefined;
  #url: string | undefined;
  #urlParts: URL | undefined;
  #headers: RequestHeaders | undefined;
  #get: MultiDict<string> | undefined;
  #cookies: MultiDict<string> | undefined;
  #post: MultiDict<FormValue> | undefined;
  #postError: unknown;

  /**
   * Read the request of `environ`, whose form (`POST`) is held to `limits`.
   *
   * Throws a `TypeError` when `environ` is not an object or `limits` is invalid.
   */
  constructor(environ: WSGIEnvironment, limits: FormLimits = {}) {
    if (typeof environ !== "object" || environ === null) {
      throw new TypeError(`environ must be an object: ${show(environ)}`);
    }
    this.environ = environ;
    this.#limits = resolveFormLimits(limits);
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

  /** The request body, read from `wsgi.input` on first use. */
  get body(): Uint8Array {
    this.#body ??= this.#readBody();
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
   * The form in the body: fields of an `application/x-www-form-urlencoded` or
   * `multipart/form-data` body (a file's value is a `FilePart`: its bytes, with
   * `filename` and `contentType`); empty for any other body.
   *
   * Throws a `FormError` when the form is malformed (400) or past its limits (413).
   * A multipart form must be parsed first with `await loadPost()`, which
   * `handlerApp` does before calling the handler; until then reading it throws an
   * `Error` saying so.
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
        kind === "urlencoded" ? parseUrlencoded(this.body, this.#limits) : new MultiDict();
    } catch (err) {
      this.#postError = err;
      throw err;
    }
    return this.#post;
  }

  /**
   * Parse the form in the body now, so `POST` can then be read synchronously.
   *
   * Resolves to `POST`; rejects with the `FormError` that `POST` will throw.
   */
  async loadPost(): Promise<MultiDict<FormValue>> {
    if (
      this.#post === undefined &&
      this.#postError === undefined &&
      this.#formKind() === "multipart"
    ) {
      const body = this.body;
      try {
        this.#post =
          body.length === 0
            ? new MultiDict()
            : await parseMultipart(body, this.environ.CONTENT_TYPE ?? "", this.#limits);
      } catch (err) {
        this.#postError = err;
      }
    }
    return this.POST;
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

  /**
   * Read the body: `CONTENT_LENGTH` bytes when it is given (PEP 3333: never read
   * past it), everything when the server marks the input terminated, else none.
   */
  #readBody(): Uint8Array {
    const input = this.environ["wsgi.input"] as InputStream | undefined;
    if (input === undefined || input === null) return EMPTY;
    const length = this.environ.CONTENT_LENGTH;
    const known = typeof length === "string" && DIGITS.test(length);
    if (!known && this.environ["wsgi.input_terminated"] !== true) return EMPTY;
    let remaining = known ? Number(length) : Number.POSITIVE_INFINITY;
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (remaining > 0) {
      // Always with a size: validator() (as Python's) refuses read() without one.
      const chunk = input.read(Math.min(remaining, READ_CHUNK));
      if (chunk.length === 0) break;
      chunks.push(chunk);
      total += chunk.length;
      remaining -= chunk.length;
    }
    if (chunks.length === 0) return EMPTY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }
}
