/**
 * Small helpers for WSGI servers and applications: URL reconstruction, path
 * shifting, testing defaults, hop-by-hop header names, and the file wrapper.
 *
 * Port of Python's `wsgiref.util`, plus `openFile`, the counterpart of Python's
 * `open(path, "rb")` that a `FileWrapper` reads from.
 *
 * @module wsgiref/util
 */

import { Buffer } from "node:buffer";
import { closeSync, openSync, readSync } from "node:fs";
import { expectBytes, expectInteger, expectObject, expectString, show } from "./internal/check.js";
import { latin1Bytes } from "./internal/latin1.js";
import { BytesInput, StringErrors } from "./streams.js";
import type {
  FileLike,
  FileWrapper as FileWrapperProtocol,
  PartialEnvironment,
  WSGIEnvironment,
} from "./types.js";

/**
 * Guess whether `wsgi.url_scheme` should be `"http"` or `"https"`.
 *
 * Only the CGI variable `HTTPS` counts, and only its exact values `"yes"`, `"on"`
 * and `"1"` mean `"https"`.
 *
 * @see Python's `wsgiref.util.guess_scheme`
 */
export function guessScheme(environ: PartialEnvironment): "http" | "https" {
  expectObject(environ, "environ");
  const https = environ.HTTPS;
  return https === "yes" || https === "on" || https === "1" ? "https" : "http";
}

/**
 * Return the application's base URI: scheme, host and `SCRIPT_NAME`, without
 * `PATH_INFO` or `QUERY_STRING`.
 *
 * `HTTP_HOST` wins over `SERVER_NAME`; with `SERVER_NAME`, `SERVER_PORT` is added
 * unless it is the scheme's default (80, 443). `SCRIPT_NAME` (or `/` when empty) is
 * percent-quoted as latin-1 bytes with `/` left as is. Throws a `TypeError` when a
 * needed key is missing or not a string, or `SCRIPT_NAME` is not latin-1.
 *
 * @see Python's `wsgiref.util.application_uri`; PEP 3333, "URL Reconstruction"
 */
export function applicationUri(environ: PartialEnvironment): string {
  expectObject(environ, "environ");
  const scheme = environ["wsgi.url_scheme"];
  expectString(scheme, "environ['wsgi.url_scheme']");
  let url = scheme + "://";

  const host = environ.HTTP_HOST;
  if (host) {
    expectString(host, "environ['HTTP_HOST']");
    url += host;
  } else {
    const serverName = environ.SERVER_NAME;
    expectString(serverName, "environ['SERVER_NAME']");
    url += serverName;
    const port = environ.SERVER_PORT;
    expectString(port, "environ['SERVER_PORT']");
    if (port !== (scheme === "https" ? "443" : "80")) {
      url += ":" + port;
    }
  }

  const scriptName = environ.SCRIPT_NAME || "/";
  expectString(scriptName, "environ['SCRIPT_NAME']");
  return url + quoteScriptName(scriptName, "environ['SCRIPT_NAME']");
}

/**
 * Return the full request URI, with the query string unless `includeQuery` is false.
 *
 * `PATH_INFO` is percent-quoted as latin-1 bytes with `/;=,` left as is, so `?` and
 * `#` inside it are quoted. As in Python, when `SCRIPT_NAME` is empty the first
 * character of `PATH_INFO` is dropped (it stands for the `/` the base URI ends
 * with). `QUERY_STRING` is appended unchanged.
 *
 * @see Python's `wsgiref.util.request_uri`; PEP 3333, "URL Reconstruction"
 */
export function requestUri(environ: PartialEnvironment, includeQuery = true): string {
  expectObject(environ, "environ");
  if (typeof includeQuery !== "boolean") {
    throw new TypeError(`includeQuery must be a boolean: ${show(includeQuery)}`);
  }
  let url = applicationUri(environ);

  const rawPathInfo = environ.PATH_INFO === undefined ? "" : environ.PATH_INFO;
  expectString(rawPathInfo, "environ['PATH_INFO']");
  const pathInfo = quotePathInfo(rawPathInfo, "environ['PATH_INFO']");
  url += environ.SCRIPT_NAME ? pathInfo : pathInfo.slice(1);

  const query = environ.QUERY_STRING;
  if (includeQuery && query) {
    expectString(query, "environ['QUERY_STRING']");
    url += "?" + query;
  }
  return url;
}

/**
 * Move one path segment from `PATH_INFO` to `SCRIPT_NAME` and return it.
 *
 * Mutates `environ`. Returns `undefined` when `PATH_INFO` is empty (or is `/.`).
 * Empty and `.` segments in the middle are dropped and `SCRIPT_NAME` is normalised
 * as by `posixpath.normpath`, so `..` climbs back out of it. When `PATH_INFO` is
 * just `/`, returns `""` and leaves a trailing `/` on `SCRIPT_NAME`, so that an
 * application can tell `/x` from `/x/`.
 *
 * @see Python's `wsgiref.util.shift_path_info`
 */
export function shiftPathInfo(environ: PartialEnvironment): string | undefined {
  expectObject(environ, "environ");
  const pathInfo = environ.PATH_INFO;
  if (!pathInfo) {
    return undefined;
  }
  expectString(pathInfo, "environ['PATH_INFO']");

  let parts = pathInfo.split("/");
  if (parts.length > 2) {
    // Keep the first and last parts: the last one carries a trailing slash.
    const middle = parts.slice(1, -1).filter((p) => p !== "" && p !== ".");
    parts = [parts[0]!, ...middle, parts[parts.length - 1]!];
  }
  const name = parts[1];
  if (name === undefined) {
    // Python fails here with an IndexError.
    throw new TypeError(
      `environ['PATH_INFO'] has no segment to shift; it must begin with '/': ${show(pathInfo)}`,
    );
  }
  parts.splice(1, 1);

  const oldScriptName = environ.SCRIPT_NAME === undefined ? "" : environ.SCRIPT_NAME;
  expectString(oldScriptName, "environ['SCRIPT_NAME']");
  let scriptName = normpath(oldScriptName + "/" + name);
  if (scriptName.endsWith("/")) {
    scriptName = scriptName.slice(0, -1);
  }
  if (!name && !scriptName.endsWith("/")) {
    scriptName += "/";
  }

  environ.SCRIPT_NAME = scriptName;
  environ.PATH_INFO = parts.join("/");

  // '/.' is the one case where the last segment is '.': it is not a name, and
  // PATH_INFO has still been normalised to ''.
  return name === "." ? undefined : name;
}

/**
 * Fill `environ` with trivial defaults for testing.
 *
 * Mutates `environ`, adding only keys that are not `in` it already: `SERVER_NAME`
 * `127.0.0.1`, `SERVER_PROTOCOL` `HTTP/1.0`, `HTTP_HOST` (the `SERVER_NAME`),
 * `REQUEST_METHOD` `GET`, `SCRIPT_NAME` `""` and `PATH_INFO` `/` when both are
 * missing (the one missing is `""` when the other is there: Python leaves it
 * out), every `wsgi.*` key (`wsgi.input` an empty `BytesInput`, `wsgi.errors` a
 * `StringErrors`, `wsgi.url_scheme` from `guessScheme`), and `SERVER_PORT` `80`
 * or `443` to match the scheme. Not for real servers: the data is fake.
 *
 * Afterwards the compiler treats `environ` as a complete `WSGIEnvironment`, ready
 * to pass to an application. That holds when the keys it already had carry values
 * of their types: a key present with the value `undefined` stays `undefined`, and
 * a `wsgi.url_scheme` other than `http` or `https` gets no `SERVER_PORT`, as in
 * Python.
 *
 * @see Python's `wsgiref.util.setup_testing_defaults`
 */
export function setupTestingDefaults(
  environ: PartialEnvironment,
): asserts environ is WSGIEnvironment {
  expectObject(environ, "environ");
  setDefault(environ, "SERVER_NAME", "127.0.0.1");
  setDefault(environ, "SERVER_PROTOCOL", "HTTP/1.0");

  setDefault(environ, "HTTP_HOST", environ.SERVER_NAME);
  setDefault(environ, "REQUEST_METHOD", "GET");

  if (!("SCRIPT_NAME" in environ) && !("PATH_INFO" in environ)) {
    environ.SCRIPT_NAME = "";
    environ.PATH_INFO = "/";
  }
  // Python stops there; filling the other one makes the environ the complete
  // WSGIEnvironment this function's signature promises.
  setDefault(environ, "SCRIPT_NAME", "");
  setDefault(environ, "PATH_INFO", "");

  setDefault(environ, "wsgi.version", [1, 0]);
  setDefault(environ, "wsgi.run_once", false);
  setDefault(environ, "wsgi.multithread", false);
  setDefault(environ, "wsgi.multiprocess", false);

  if (!("wsgi.input" in environ)) {
    environ["wsgi.input"] = new BytesInput();
  }
  if (!("wsgi.errors" in environ)) {
    environ["wsgi.errors"] = new StringErrors();
  }
  setDefault(environ, "wsgi.url_scheme", guessScheme(environ));

  const scheme = environ["wsgi.url_scheme"];
  if (scheme === "http") {
    setDefault(environ, "SERVER_PORT", "80");
  } else if (scheme === "https") {
    setDefault(environ, "SERVER_PORT", "443");
  }
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);
// Lower-casing keeps the length of every name that can become one of these
// (only ASCII letters, `-` and the Kelvin sign, U+212A, fold to them).
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));

/**
 * Return whether `headerName` is an HTTP/1.1 hop-by-hop header, in any case.
 *
 * The set is Python's: `Connection`, `Keep-Alive`, `Proxy-Authenticate`,
 * `Proxy-Authorization`, `TE`, `Trailers`, `Transfer-Encoding`, `Upgrade`.
 *
 * @see Python's `wsgiref.util.is_hop_by_hop`; RFC 2616 §13.5.1
 */
export function isHopByHop(headerName: string): boolean {
  expectString(headerName, "headerName");
  // Called for every header of every response: most names (Content-Type,
  // Content-Length) are told apart by their length, without a lower-cased copy.
  if (!HOP_BY_HOP_LENGTHS.has(headerName.length)) return false;
  return HOP_BY_HOP.has(headerName.toLowerCase());
}

/**
 * Wrap a file-like object as an iterable of blocks of `blksize` bytes.
 *
 * Iterating calls `filelike.read(blksize)` until it returns no bytes. The wrapper
 * is its own iterator, so it cannot be restarted: once exhausted it stays
 * exhausted. It has a `close()` only when `filelike` has one (it then closes
 * `filelike`), so `"close" in wrapper` tells the two apart, as in Python.
 *
 * @see Python's `wsgiref.util.FileWrapper`; PEP 3333, "Optional Platform-Specific File Handling"
 */
export class FileWrapper implements FileWrapperProtocol, IterableIterator<Uint8Array> {
  /** The wrapped file, for servers that can send it faster (`sendfile`). */
  readonly filelike: FileLike;
  /** How many bytes each step reads. */
  readonly blksize: number;
  /** Close the wrapped file; present only when `filelike.close` exists. */
  declare readonly close?: () => void;
  #done = false;

  /**
   * Wrap `filelike`, reading `blksize` bytes (default 8192) at a time.
   *
   * Throws a `TypeError` when `filelike` has no `read()` method, when its `close`
   * is not a function, or when `blksize` is not a positive integer.
   */
  constructor(filelike: FileLike, blksize = 8192) {
    expectObject(filelike, "filelike");
    if (typeof filelike.read !== "function") {
      throw new TypeError(`filelike must have a read() method: ${show(filelike)}`);
    }
    if (!(typeof blksize === "number" && Number.isInteger(blksize) && blksize > 0)) {
      throw new TypeError(`blksize must be a positive integer: ${show(blksize)}`);
    }
    this.filelike = filelike;
    this.blksize = blksize;

    const close: unknown = filelike.close;
    if (close !== undefined) {
      if (typeof close !== "function") {
        throw new TypeError(`filelike.close must be a function when present: ${show(close)}`);
      }
      // An own property, set only here: its absence is part of the protocol.
      // Bound, as Python's `self.close = filelike.close`; whatever close() returns
      // (a Promise, say) is passed on.
      this.close = () => close.call(filelike);
    }
  }

  /** Return this wrapper: it is its own iterator. */
  [Symbol.iterator](): this {
    return this;
  }

  /** Read the next block; done once `filelike.read()` returns no bytes. */
  next(): IteratorResult<Uint8Array, undefined> {
    if (this.#done) {
      return { done: true, value: undefined };
    }
    const data: unknown = this.filelike.read(this.blksize);
    expectBytes(data, "filelike.read() result");
    if (data.length === 0) {
      this.#done = true;
      return { done: true, value: undefined };
    }
    return { done: false, value: data };
  }
}

/** How much `read()` asks the OS for at a time when reading to the end. */
const READ_CHUNK = 64 * 1024;

/** A file opened with `openFile`: synchronous reads over a file descriptor. */
class FdFile {
  readonly fd: number;
  readonly #path: string | URL;
  #closed = false;

  constructor(path: string | URL) {
    this.#path = path;
    this.fd = openSync(path, "r");
  }

  get closed(): boolean {
    return this.#closed;
  }

  read(size = -1): Uint8Array {
    expectInteger(size, "size");
    if (this.#closed) {
      throw new Error(`read() was called on a closed file: ${show(this.#path)}`);
    }
    const limit = size < 0 ? Number.POSITIVE_INFINITY : size;
    const chunks: Buffer[] = [];
    let total = 0;
    // Loop: one readSync may return less than asked (pipes, /proc files).
    while (total < limit) {
      const want = Math.min(limit - total, READ_CHUNK);
      // Not allocUnsafe: a pooled or uninitialised buffer would expose other
      // memory through the returned view's `.buffer`.
      const chunk = Buffer.alloc(want);
      const got = readSync(this.fd, chunk, 0, want, null);
      if (got === 0) {
        break;
      }
      chunks.push(got === want ? chunk : chunk.subarray(0, got));
      total += got;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      closeSync(this.fd);
    }
  }
}

/**
 * Open a file for reading bytes, as Python's `open(path, "rb")` does, for
 * `FileWrapper` and `wsgi.file_wrapper`.
 *
 * `read(size)` reads synchronously from the file's current position, at most
 * `size` bytes, or everything left when `size` is missing or negative; an empty
 * result means the end. `close()` closes the file descriptor and may be called
 * again; `read()` after it throws. `fd` lets a server send the file with
 * `sendfile()`. Errors from opening (such as `ENOENT`) are Node's own.
 *
 * @see Python's `open(path, "rb")`; PEP 3333, "Optional Platform-Specific File Handling"
 */
export function openFile(path: string | URL): Required<Omit<FileLike, "remaining">> & {
  /** Read at most `size` bytes; everything left when `size` is missing or negative. */
  read(size?: number): Uint8Array;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
} {
  if (typeof path !== "string" && !(path instanceof URL)) {
    throw new TypeError(`path must be a string or a URL: ${show(path)}`);
  }
  return new FdFile(path);
}

function setDefault(environ: Record<string, unknown>, key: string, value: unknown): void {
  if (!(key in environ)) {
    environ[key] = value;
  }
}

/** Python's `posixpath.normpath`, which keeps a leading `//` (POSIX allows it). */
function normpath(path: string): string {
  let initialSlashes = path.startsWith("/") ? 1 : 0;
  if (path.startsWith("//") && !path.startsWith("///")) {
    initialSlashes = 2;
  }
  const comps: string[] = [];
  for (const comp of path.split("/")) {
    if (comp === "" || comp === ".") {
      continue;
    }
    if (
      comp !== ".." ||
      (initialSlashes === 0 && comps.length === 0) ||
      comps[comps.length - 1] === ".."
    ) {
      comps.push(comp);
    } else if (comps.length > 0) {
      comps.pop();
    }
  }
  const result = "/".repeat(initialSlashes) + comps.join("/");
  return result || ".";
}

/** Python's `urllib.parse.quote(s, safe, encoding="latin1")`, upper-case hex. */
function makeQuoter(safe: string): (s: string, what: string) => string {
  const table: string[] = [];
  for (let byte = 0; byte < 256; byte++) {
    const ch = String.fromCharCode(byte);
    const keep = /^[A-Za-z0-9_.~-]$/.test(ch) || safe.includes(ch);
    table.push(keep ? ch : "%" + byte.toString(16).toUpperCase().padStart(2, "0"));
  }
  return (s, what) => {
    let out = "";
    for (const byte of latin1Bytes(s, what)) {
      out += table[byte]!;
    }
    return out;
  };
}

/** The quoting `application_uri` applies to `SCRIPT_NAME`: `quote`'s default safe `/`. */
const quoteScriptName = makeQuoter("/");
/** The quoting `request_uri` applies to `PATH_INFO`: safe `/;=,`. */
const quotePathInfo = makeQuoter("/;=,");
