/**
 * Handlers for CGI and CGI-like gateways: `BaseCGIHandler` (CGI output over
 * streams it is given), `CGIHandler` (this process's stdio and environment, one
 * request per process), `IISCGIHandler` (the same, with IIS's `PATH_INFO` fixed),
 * and `readEnviron`, which recovers the request's raw bytes from the environment.
 *
 * Port of the CGI half of Python's `wsgiref.handlers`. This is the one handler
 * file that touches the process (STYLE.md §1): CGI is a per-process protocol.
 */

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { FdErrors, FdInput, FdOutput } from "../internal/fd-io.js";
import { isLatin1, latin1String } from "../internal/latin1.js";
import type { PartialEnvironment } from "../types.js";
import { SimpleHandler } from "./simple-handler.js";

/** CGI variables that carry request data, as Python's `_is_request`. */
const REQUEST_KEYS = new Set([
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "REQUEST_METHOD",
  "AUTH_TYPE",
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "HTTPS",
  "REMOTE_USER",
  "REMOTE_IDENT",
]);

/**
 * Whether `key` holds bytes from the HTTP request (and so must become a latin-1
 * "bytes in unicode" string): the request variables above, `HTTP_*`, `SSL_*`, and
 * any of these behind one or more `REDIRECT_` prefixes.
 *
 * @see Python's `wsgiref.handlers._needs_transcode`
 */
function needsTranscode(key: string): boolean {
  return (
    REQUEST_KEYS.has(key) ||
    key.startsWith("HTTP_") ||
    key.startsWith("SSL_") ||
    (key.startsWith("REDIRECT_") && needsTranscode(key.slice(9)))
  );
}

/**
 * The environment this process was started with, as raw bytes, or `undefined`
 * where it cannot be read (not Linux, `/proc` not mounted or not readable).
 *
 * `/proc/self/environ` holds `KEY=VALUE` entries separated by NUL bytes, exactly
 * as `execve` received them. Names are decoded as UTF-8, as Node decodes them
 * for `process.env`; when a name occurs twice the first wins, as with `getenv`.
 */
function execEnviron(): Map<string, Buffer> | undefined {
  if (process.platform !== "linux") return undefined;
  let raw: Buffer;
  try {
    raw = readFileSync("/proc/self/environ");
  } catch {
    // Unreadable (no /proc in a chroot or container, hidepid): use process.env alone.
    return undefined;
  }
  const entries = new Map<string, Buffer>();
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0, start);
    if (end === -1) end = raw.length;
    const eq = raw.indexOf(0x3d, start);
    // An entry without "=" is not a variable (getenv never finds it): skip it.
    if (eq !== -1 && eq < end && eq > start) {
      const key = raw.toString("utf8", start, eq);
      if (!entries.has(key)) entries.set(key, raw.subarray(eq + 1, end));
    }
    start = end + 1;
  }
  return entries;
}

/**
 * Turn a request variable that only exists as a JavaScript string into "bytes in
 * unicode": its UTF-8 bytes, one code point per byte, as Python does with the
 * filesystem encoding. On Windows, Apache already writes request bytes as latin-1
 * characters, which are kept as they are (Python's win32 branch).
 */
function transcode(value: string, serverSoftware: string): string {
  if (
    process.platform === "win32" &&
    serverSoftware.toLowerCase().startsWith("apache/") &&
    isLatin1(value)
  ) {
    return value;
  }
  return Buffer.from(value, "utf8").toString("latin1");
}

/**
 * Read the CGI environment, with the request's bytes as latin-1 strings.
 *
 * Node decodes the environment as UTF-8 and replaces invalid bytes with U+FFFD,
 * so `process.env` cannot hold a request for `/caf%C3%A9/%80` faithfully. On Linux
 * the original bytes are read back from `/proc/self/environ`, and every request
 * variable (see Python's `_needs_transcode`: `PATH_INFO`, `QUERY_STRING`,
 * `HTTP_*`, `SSL_*`, `REDIRECT_*`, …) becomes the latin-1 string of its bytes
 * (`"/caf\u00c3\u00a9/\u0080"`); other variables keep Node's UTF-8 decoding.
 *
 * `/proc/self/environ` shows the environment at `exec` time only, so the result
 * starts from the live `process.env` and takes raw bytes only for variables whose
 * value is still what Node decoded at start: a variable set, changed or deleted
 * through `process.env` since then (by a launcher script fixing `SCRIPT_NAME`,
 * say) is seen as it is now, exactly as Python's `os.environ` would show it, with
 * request variables encoded as UTF-8. Elsewhere (not Linux, or `/proc`
 * unreadable) every request variable is taken that way from `process.env`, which
 * is exact for valid UTF-8 and loses invalid bytes to U+FFFD.
 *
 * @see Python's `wsgiref.handlers.read_environ`
 */
export function readEnviron(): Record<string, string> {
  const raw = execEnviron();
  const serverSoftware = process.env.SERVER_SOFTWARE ?? "";
  const environ: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (!needsTranscode(key)) {
      environ[key] = value;
      continue;
    }
    const bytes = raw?.get(key);
    environ[key] =
      bytes !== undefined && bytes.toString("utf8") === value
        ? latin1String(bytes)
        : transcode(value, serverSoftware);
  }
  return environ;
}

/**
 * Drop `HTTP_PROXY` from this process's environment when it runs as a CGI
 * script (`REQUEST_METHOD` is set): a CGI server makes it from a request's
 * `Proxy:` header, and HTTP clients take it for the proxy to send their own
 * requests through, so any client could have the application's outgoing
 * requests go through its server ("httpoxy", CVE-2016-5385). Python's urllib
 * and Go's net/http ignore it in CGI for the same reason. The lower-case
 * `http_proxy` a server administrator may set is kept: no header becomes it.
 */
function dropRequestProxy(): void {
  if (process.env.REQUEST_METHOD !== undefined) delete process.env.HTTP_PROXY;
}

/**
 * How many bytes of request body a CGI script may read: `CONTENT_LENGTH` when it
 * is a decimal number, else `undefined` (read to end of file, as Apache delivers
 * a chunked request body: no `CONTENT_LENGTH`, then end of file).
 */
function contentLength(environ: Record<string, string>): number | undefined {
  const value = environ.CONTENT_LENGTH;
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

/**
 * Run an application behind a CGI-like gateway, over the streams and environ it is
 * given: the response starts with a `Status:` header instead of a status line.
 *
 * Useful for protocols with CGI semantics over other transports (FastCGI,
 * ReadyExec) and for tests. Constructed as `SimpleHandler`; `wsgi.run_once` is false.
 *
 * @see Python's `wsgiref.handlers.BaseCGIHandler`
 */
export class BaseCGIHandler extends SimpleHandler {
  /** False: write CGI output (`Status: 200 OK`), not an HTTP status line. */
  override originServer = false;
}

/**
 * Run an application once, as a CGI script: request from this process's
 * environment and fd 0, response on fd 1, errors on fd 2.
 *
 * Takes no arguments, as Python's: `await new CGIHandler().run(app)`.
 * `wsgi.run_once` and `wsgi.multiprocess` are true, `wsgi.multithread` false.
 * The environ comes from `readEnviron()` when the handler is constructed.
 * `wsgi.input` reads fd 0 lazily and synchronously, never past `CONTENT_LENGTH`
 * (a server need not close the script's stdin after the body); the response is
 * written to fd 1 synchronously, so it is complete when `run` resolves even if the
 * process exits right after; `wsgi.errors` (and the stack of an application error)
 * goes to fd 2, which CGI servers send to their error log.
 *
 * Constructing it in a CGI process removes `HTTP_PROXY` from `process.env` (and
 * so from the environ): it comes from the request's `Proxy:` header, and HTTP
 * clients would send the application's own requests through it (httpoxy,
 * CVE-2016-5385). Python's handler keeps it; its urllib ignores it instead.
 *
 * @see Python's `wsgiref.handlers.CGIHandler`
 */
export class CGIHandler extends BaseCGIHandler {
  override wsgiRunOnce = true;
  /** Empty, so nothing leaks from one request's process environment to another's. */
  override osEnviron: PartialEnvironment = {};

  constructor() {
    dropRequestProxy();
    const environ = readEnviron();
    super(
      new FdInput(0, contentLength(environ)),
      new FdOutput(1),
      new FdErrors(2),
      environ,
      false,
      true,
    );
  }
}

/**
 * `CGIHandler` for Microsoft IIS without `allowPathInfo`: removes the copy of
 * `SCRIPT_NAME` that such IIS puts at the front of `PATH_INFO`.
 *
 * The prefix is removed only where it ends at a segment boundary (`/app` from
 * `/app/x` or `/app`, never from `/apple`). The environ is not checked for IIS:
 * a CGI script cannot tell whether the option is set, so choosing this class is
 * the switch. Drops `HTTP_PROXY` as `CGIHandler` does.
 *
 * @see Python's `wsgiref.handlers.IISCGIHandler`
 */
export class IISCGIHandler extends BaseCGIHandler {
  override wsgiRunOnce = true;
  /** Empty, as `CGIHandler`'s. */
  override osEnviron: PartialEnvironment = {};

  constructor() {
    dropRequestProxy();
    const environ = readEnviron();
    const path = environ.PATH_INFO ?? "";
    const script = environ.SCRIPT_NAME ?? "";
    if (`${path}/`.startsWith(`${script}/`)) {
      environ.PATH_INFO = path.slice(script.length);
    }
    super(
      new FdInput(0, contentLength(environ)),
      new FdOutput(1),
      new FdErrors(2),
      environ,
      false,
      true,
    );
  }
}
