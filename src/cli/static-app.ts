/**
 * The application behind `wsgiref static`: Python's file-server example (the
 * wsgiref docs' "serving the current directory") made safe to point at a real
 * directory and worth using as a small file server. Files get a MIME type
 * guessed from their extension, a directory its `index.html`, anything else
 * 404; no request reaches outside the directory or sees a dotfile. Conditional
 * requests and single byte ranges are answered (RFC 9110 §13, §14), and every
 * file body goes out as a `FileWrapper`, so the server can send it by
 * sendfile(2).
 */

import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { formatDateTime } from "../handlers/index.js";
import { seekFile } from "../simple-server/kernel-sendfile.js";
import type {
  FileLike,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../types.js";
import { FileWrapper, requestUri } from "../util.js";

/**
 * MIME types by extension: the web's usual files. A short table rather than a
 * dependency: a development file server needs these, and an unknown extension
 * is sent as `application/octet-stream`, which browsers download rather than
 * guess at. Text types get `charset=utf-8`, as source files are written today.
 */
const MIME_TYPES: Record<string, string> = {
  ".html": "text/html",
  ".htm": "text/html",
  ".css": "text/css",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".cjs": "text/javascript",
  ".map": "application/json",
  ".json": "application/json",
  ".jsonld": "application/ld+json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".csv": "text/csv",
  ".xml": "application/xml",
  ".xhtml": "application/xhtml+xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/vnd.microsoft.icon",
  ".bmp": "image/bmp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wasm": "application/wasm",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".wav": "audio/wav",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
};

/** Guess a file's `Content-Type` from its extension, as Python's `mimetypes.guess_file_type`. */
export function guessType(path: string): string {
  const type = MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}

/**
 * Make an application serving the files under `root`.
 *
 * `PATH_INFO` (bytes, read as UTF-8) names a file under `root`. A directory is
 * answered with its `index.html`, after a 301 to the same path with a trailing
 * slash so relative links work (the `Location` is built with `requestUri`, so
 * it keeps `SCRIPT_NAME` and `wsgi.url_scheme`: put `proxyFix` or
 * `--root-path` in front behind a proxy). Only `GET` and `HEAD` are allowed
 * (405). A path with a NUL or a `..` segment, however it was encoded, is
 * refused with 400. A path with a segment starting with `.` (dotfiles, `.git/`)
 * is 404, and so is a file asked for with a trailing slash. A symbolic link is
 * followed only when its target is inside `root` too and is not a dotfile; one
 * pointing out is 404, as if absent. Missing files and directories without
 * `index.html` are 404. Every response says `X-Content-Type-Options: nosniff`.
 *
 * Files carry `Last-Modified`, a strong `ETag` made of their size and
 * modification time, and `Accept-Ranges: bytes`. `If-None-Match` (or, without
 * it, `If-Modified-Since`) that matches is answered 304. A `GET` with one byte
 * range (`Range: bytes=0-99`, `bytes=100-`, `bytes=-100`) is answered 206 with
 * `Content-Range`, or 416 with `Content-Range: bytes *\/SIZE` when the range
 * starts past the end; `If-Range` that does not match asks for the whole file.
 * A request for several ranges gets the whole file with 200 (RFC 9110 §14.2
 * lets a server ignore `Range`; no multipart/byteranges), as does a `Range`
 * that is not well formed.
 */
export function staticApp(root: string): WSGIApplication {
  const base = realpathSync(root);
  return (environ, startResponse) => {
    const method = environ.REQUEST_METHOD ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      return plain(startResponse, "405 Method Not Allowed", "method not allowed", [
        ["Allow", "GET, HEAD"],
      ]);
    }
    const path = Buffer.from(environ.PATH_INFO ?? "", "latin1").toString("utf8");
    const segments = path.split(sep === "/" ? "/" : /[\\/]/);
    if (path.includes("\0") || segments.includes("..")) {
      return plain(startResponse, "400 Bad Request", "bad request");
    }
    if (segments.some(isHidden)) {
      return notFound(startResponse);
    }
    const file = inside(base, join(base, ...segments));
    if (file === undefined) {
      return notFound(startResponse);
    }
    if (statSync(file).isDirectory()) {
      if (!path.endsWith("/")) {
        return redirectToDirectory(environ, startResponse);
      }
      const index = inside(base, join(file, "index.html"));
      return index === undefined
        ? notFound(startResponse)
        : sendFile(index, environ, startResponse);
    }
    // "/file.txt/" names a directory that is not there (as Apache and nginx answer).
    if (path.endsWith("/")) {
      return notFound(startResponse);
    }
    return sendFile(file, environ, startResponse);
  };
}

/** Whether a path segment names a hidden file: `.env`, `.git`, `.` itself. */
function isHidden(segment: string): boolean {
  return segment.startsWith(".");
}

/** Errors that mean "nothing to serve here" rather than a fault of the server. */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EACCES", "EPERM", "ENAMETOOLONG"]);

function isAbsent(err: unknown): boolean {
  return err instanceof Error && ABSENT.has(String(Reflect.get(err, "code")));
}

/**
 * The real path of `candidate` if it exists and lies within `base`, and is not
 * a dotfile there (a link may point at one), else `undefined`.
 */
function inside(base: string, candidate: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch (err) {
    if (isAbsent(err)) {
      return undefined;
    }
    throw err;
  }
  const within = real === base || real.startsWith(base.endsWith(sep) ? base : base + sep);
  return within && !relative(base, real).split(sep).some(isHidden) ? real : undefined;
}

/**
 * A byte range of an open file, as a `FileLike` for `FileWrapper`: `read()`
 * returns the range's bytes and then nothing. `fd` is present only when the
 * descriptor's position is the range's start (a new descriptor, or moved there
 * by `seekFile`), so that a server sending from `fd` sends the range; with
 * `remaining` it stops at the range's end. Without `fd` the server iterates.
 */
class FileRange implements FileLike {
  readonly fd?: number;
  readonly #fd: number;
  #position: number;
  #remaining: number;
  #closed = false;

  constructor(fd: number, start: number, length: number) {
    this.#fd = fd;
    this.#position = start;
    this.#remaining = length;
    if (start === 0 || seekFile(fd, start)) this.fd = fd;
  }

  get remaining(): number {
    return this.#remaining;
  }

  read(size: number): Uint8Array {
    if (this.#closed) throw new Error("read() was called on a closed file range");
    const want = Math.min(size < 0 ? this.#remaining : size, this.#remaining);
    if (want <= 0) return new Uint8Array(0);
    const buffer = Buffer.allocUnsafe(want);
    // At an explicit position (pread): reading never moves the descriptor.
    const count = readSync(this.#fd, buffer, 0, want, this.#position);
    this.#position += count;
    this.#remaining = count === 0 ? 0 : this.#remaining - count;
    return buffer.subarray(0, count);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function sendFile(file: string, environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    // Unreadable, or gone since it was found: to the client, it is not there.
    if (isAbsent(err)) {
      return notFound(startResponse);
    }
    throw err;
  }
  let owned = true;
  try {
    // Size and time of the file opened, not of the path, which may change.
    const stats = fstatSync(fd);
    // Only regular files: reading a FIFO would block until a writer comes.
    if (!stats.isFile()) {
      return notFound(startResponse);
    }
    const size = stats.size;
    const lastModified = formatDateTime(stats.mtimeMs);
    const etag = `"${size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const validators: Array<[string, string]> = [
      ["Last-Modified", lastModified],
      ["ETag", etag],
      ["Accept-Ranges", "bytes"],
      NOSNIFF,
    ];
    if (notModified(environ, etag, stats.mtimeMs)) {
      // RFC 9110 §15.4.5: the validators a 200 would carry, no body, no Content-Type.
      startResponse("304 Not Modified", validators);
      return [];
    }
    const range =
      environ.REQUEST_METHOD === "GET" && ifRangeHolds(environ, etag, lastModified)
        ? parseRange(environ.HTTP_RANGE, size)
        : undefined;
    if (range === UNSATISFIABLE) {
      return plain(startResponse, "416 Range Not Satisfiable", "range not satisfiable", [
        ["Content-Range", `bytes */${size}`],
        ["Accept-Ranges", "bytes"],
      ]);
    }
    const type: [string, string] = ["Content-Type", guessType(file)];
    let body: FileRange;
    if (range === undefined) {
      startResponse("200 OK", [type, ["Content-Length", String(size)], ...validators]);
      body = new FileRange(fd, 0, size);
    } else {
      const [first, last] = range;
      startResponse("206 Partial Content", [
        type,
        ["Content-Length", String(last - first + 1)],
        ["Content-Range", `bytes ${first}-${last}/${size}`],
        ...validators,
      ]);
      body = new FileRange(fd, first, last - first + 1);
    }
    owned = false;
    // 64 KiB steps when it is iterated (no fd: a range without the addon's seek).
    return new FileWrapper(body, 64 * 1024);
  } finally {
    if (owned) closeSync(fd);
  }
}

/** `X-Content-Type-Options: nosniff`: a browser takes the Content-Type as given. */
const NOSNIFF: [string, string] = ["X-Content-Type-Options", "nosniff"];

/** The entity-tags of an `If-None-Match` or `If-Range` value (`W/` kept), or `*`. */
function entityTags(value: string): string[] {
  if (value.trim() === "*") return ["*"];
  return value.match(/(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"/g) ?? [];
}

/**
 * Whether a GET or HEAD has a precondition that makes it 304 (RFC 9110
 * §13.2.2): `If-None-Match` when present (weak comparison), else
 * `If-Modified-Since` (a valid date not older than the file's time).
 */
function notModified(environ: WSGIEnvironment, etag: string, mtimeMs: number): boolean {
  const noneMatch = environ.HTTP_IF_NONE_MATCH;
  if (typeof noneMatch === "string") {
    return entityTags(noneMatch).some((tag) => tag === "*" || tag.replace(/^W\//, "") === etag);
  }
  const since = environ.HTTP_IF_MODIFIED_SINCE;
  if (typeof since !== "string") return false;
  const date = Date.parse(since);
  // HTTP dates have whole seconds; an invalid date is ignored (RFC 9110 §13.1.3).
  return !Number.isNaN(date) && Math.floor(mtimeMs / 1000) * 1000 <= date;
}

/**
 * Whether `Range` is to be honoured under `If-Range` (RFC 9110 §13.1.5): no
 * `If-Range`, or one naming this file exactly (a strong `ETag` match, or its
 * `Last-Modified` date).
 */
function ifRangeHolds(environ: WSGIEnvironment, etag: string, lastModified: string): boolean {
  const ifRange = environ.HTTP_IF_RANGE;
  if (typeof ifRange !== "string") return true;
  const value = ifRange.trim();
  return value.startsWith('"') || value.startsWith("W/") ? value === etag : value === lastModified;
}

const UNSATISFIABLE = "unsatisfiable";

/**
 * The one byte range `[first, last]` a `Range` value asks of a file of `size`
 * bytes, `UNSATISFIABLE` when it starts past the end, or `undefined` to send the
 * whole file: no `Range`, a unit other than bytes, a value not well formed, or
 * several ranges.
 */
function parseRange(
  value: unknown,
  size: number,
): [number, number] | typeof UNSATISFIABLE | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^bytes=(.*)$/i.exec(value.trim());
  if (match === null) return undefined;
  const specs = (match[1] as string).split(",").filter((spec) => spec.trim() !== "");
  if (specs.length !== 1) return undefined;
  const bounds = /^\s*(\d*)-(\d*)\s*$/.exec(specs[0] as string);
  if (bounds === null) return undefined;
  const [, from = "", to = ""] = bounds;
  if (from === "") {
    // A suffix: the last N bytes.
    if (to === "") return undefined;
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(from);
  if (to !== "" && Number(to) < first) return undefined;
  if (first >= size) return UNSATISFIABLE;
  return [first, to === "" ? size - 1 : Math.min(Number(to), size - 1)];
}

function redirectToDirectory(environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody {
  const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : "";
  const location = `${requestUri(environ, false)}/${query}`;
  return plain(startResponse, "301 Moved Permanently", "moved permanently", [
    ["Location", location],
  ]);
}

function notFound(startResponse: StartResponse): WSGIBody {
  return plain(startResponse, "404 Not Found", "not found");
}

function plain(
  startResponse: StartResponse,
  status: string,
  text: string,
  extra: Array<[string, string]> = [],
): WSGIBody {
  const body = Buffer.from(`${text}\n`);
  startResponse(status, [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(body.length)],
    NOSNIFF,
    ...extra,
  ]);
  return [body];
}
