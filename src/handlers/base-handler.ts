/**
 * The response state machine every gateway builds on: `BaseHandler` runs one
 * application for one request and turns what it returns into status line,
 * headers and body through a few hooks (`_write`, `_flush`, `getStdin`,
 * `getStderr`, `addCgiVars`) that subclasses fill in.
 *
 * Port of Python's `wsgiref.handlers.BaseHandler` (with CPython 3.13's status
 * checks), made asynchronous where Node must wait: `run()` returns a promise, and
 * `_write`/`_flush` may return one. When every hook answers synchronously, a
 * response is written without yielding to the event loop.
 */

import { AssertionError } from "node:assert";
import { Buffer } from "node:buffer";
import { Headers } from "../headers.js";
import { isContentLength } from "../internal/ascii-fold.js";
import { expectMethod, show } from "../internal/check.js";
import { isDisconnect } from "../internal/disconnect.js";
import { hasValueControl, isDigits } from "../internal/field-chars.js";
import { formatError } from "../internal/format-error.js";
import { formatDateTime } from "../internal/http-date.js";
import { latin1Bytes } from "../internal/latin1.js";
import { isThenable, markHandled } from "../internal/thenable.js";
import type {
  ErrorStream,
  FileWrapperClass,
  InputStream,
  PartialEnvironment,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../types.js";
import { FileWrapper, guessScheme, isHopByHop } from "../util.js";

export { formatDateTime };

/**
 * A class that builds the `headers` object from the application's header list.
 *
 * @see Python's `BaseHandler.headers_class`
 */
export type HeadersClass = new (headers: Array<[string, string]>) => Headers;

// Shared by every handler, as Python's class attribute is; never written to.
const ERROR_BODY: Uint8Array = Buffer.from(
  "A server error occurred.  Please contact the administrator.",
  "latin1",
);

// Headers' own toBytes(), to tell when a headersClass replaced it.
const TO_BYTES = Headers.prototype.toBytes;

// Where finishResponse's slow path starts: before sendfile and iteration, or
// after finishContent (only close() left). Any other value is an array index.
const START = -1;
const CLOSING = -2;

function assertChunk(data: unknown): asserts data is Uint8Array {
  // Python: `assert type(data) is bytes`. A string chunk is the classic mistake.
  if (!(data instanceof Uint8Array)) {
    throw new AssertionError({ message: "write() argument must be a bytes instance" });
  }
}

/** CPython 3.13's `_convert_string_type` and `_validate_status`, plus control characters. */
function checkStatus(status: unknown): void {
  if (typeof status !== "string") {
    throw new AssertionError({ message: `Status must be of type str (got ${show(status)})` });
  }
  if (status.length < 4) {
    throw new AssertionError({ message: "Status must be at least 4 characters" });
  }
  const c0 = status.charCodeAt(0);
  const c1 = status.charCodeAt(1);
  const c2 = status.charCodeAt(2);
  // ASCII digits only: Python's str.isdigit() would also take "²³¹", which no
  // client could parse.
  if (!(isDigit(c0) && isDigit(c1) && isDigit(c2))) {
    throw new AssertionError({ message: "Status message must begin w/3-digit code" });
  }
  if (status[3] !== " ") {
    throw new AssertionError({ message: "Status message must have a space after code" });
  }
  // RFC 9110 §15: a final response is 200 to 599. A 1xx goes out as an interim
  // response (the client then takes the next response on the connection for
  // this one's); a code outside 100-599 is no HTTP status. Python sends either.
  const code = (c0 - 48) * 100 + (c1 - 48) * 10 + (c2 - 48);
  if (code < 200 || code > 599) {
    throw new AssertionError({
      message: `Status must be a final response, 200 to 599 (got ${show(status)})`,
    });
  }
  // Control characters a status line must not carry: CR and LF would end it early
  // (response splitting). HTAB is allowed, as in a reason-phrase (RFC 9112 §4) and
  // as Headers allows it in values.
  if (hasValueControl(status)) {
    throw new AssertionError({
      message: `Status must not contain control characters (got ${show(status)})`,
    });
  }
}

/**
 * Check the application's Content-Length fields: each a decimal number, all the
 * same (RFC 9110 §8.6; RFC 9112 §6.3 has a recipient refuse anything else, and a
 * client would frame the body by one of them). Returns their value. Not
 * exported from the package.
 */
export function checkContentLengths(
  headers: ReadonlyArray<readonly [string, string]>,
): string | undefined {
  let first: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    const name = pair[0];
    if (!isContentLength(name)) continue;
    const value = pair[1];
    if (!isDigitString(value)) {
      throw new AssertionError({
        message: `Content-Length must be a decimal number of bytes (got ${show(value)})`,
      });
    }
    if (first === undefined) {
      first = value;
    } else if (value !== first) {
      throw new AssertionError({
        message: `Content-Length must not be given twice with different values (got ${show(first)} and ${show(value)})`,
      });
    }
  }
  return first;
}

/** Whether `value` is a string of digits, or a value whose string is one (a headersClass may keep anything). */
function isDigitString(value: unknown): boolean {
  return isDigits(typeof value === "string" ? value : String(value));
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

type BodyKind = "sync" | "async";

/** How a body is iterated; a clear `TypeError` for what is not a body. */
function bodyKind(result: unknown): BodyKind {
  // Strings and Uint8Arrays are iterable, but over characters and numbers: Python
  // would fail on the first chunk; say what is wrong instead.
  if (
    result !== null &&
    result !== undefined &&
    typeof result !== "string" &&
    !(result instanceof Uint8Array)
  ) {
    const body = result as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
    if (typeof body[Symbol.iterator] === "function") {
      return "sync";
    }
    if (typeof body[Symbol.asyncIterator] === "function") {
      return "async";
    }
  }
  throw new TypeError(
    `the application must return an iterable of Uint8Array chunks, such as [body]: ${show(result)}`,
  );
}

function abstract(method: string): Error {
  return new Error(`${method}() must be overridden in a subclass of BaseHandler`);
}

/**
 * Run a WSGI application for one request and send its response.
 *
 * Subclass it to put applications behind a transport: override `_write`,
 * `_flush`, `getStdin`, `getStderr` and `addCgiVars` (each throws until
 * overridden), or start from `SimpleHandler`, which implements them over
 * streams. Every method and attribute of Python's class is here under its
 * camelCase name and may be overridden per subclass or per instance.
 *
 * Every body's `close()` is called exactly once, on every path: success, error
 * in the application or while iterating, output failure, client disconnect.
 *
 * @see Python's `wsgiref.handlers.BaseHandler`; PEP 3333, "The Server/Gateway Side"
 */
export class BaseHandler {
  // Configuration, per subclass or per instance.

  /** `wsgi.version`. */
  wsgiVersion: [number, number] = [1, 0];
  /** `wsgi.multithread`. */
  wsgiMultithread = true;
  /** `wsgi.multiprocess`. */
  wsgiMultiprocess = true;
  /** `wsgi.run_once`. */
  wsgiRunOnce = false;
  /** Whether output goes straight to the client (`HTTP/1.0 200 OK`) or through a CGI server (`Status: 200 OK`). */
  originServer = true;
  /** The HTTP version of the status line when `originServer`. */
  httpVersion = "1.0";
  /** The `Server` header and the default `SERVER_SOFTWARE`, when set and `originServer`. */
  serverSoftware: string | undefined = undefined;
  /**
   * The base of every request's environ, copied by `setupEnviron()`.
   *
   * Empty by default, where Python copies the process environment: that would
   * hand every secret in it to any application that prints its environ.
   */
  osEnviron: PartialEnvironment = {};
  /** `wsgi.file_wrapper`; `undefined` to offer none. */
  wsgiFileWrapper: FileWrapperClass | undefined = FileWrapper;
  /** The class wrapping the application's header list (must be `Headers`-like). */
  headersClass: HeadersClass = Headers;

  // Error handling, per subclass or per instance.

  /** How many stack frames `logException` writes; all when `undefined`. */
  tracebackLimit: number | undefined = undefined;
  /** The status of the error page. */
  errorStatus = "500 Internal Server Error";
  /** The headers of the error page (copied before use). */
  errorHeaders: Array<[string, string]> = [["Content-Type", "text/plain"]];
  /** The body of the error page. Shared by default: replace it rather than edit its bytes. */
  errorBody: Uint8Array = ERROR_BODY;

  // State of the current request; reset by close().

  /** The status given to `startResponse`. */
  status: string | undefined = undefined;
  /** The body the application returned. */
  result: WSGIBody | undefined = undefined;
  /** The response headers, once `startResponse` was called. */
  headers: Headers | undefined = undefined;
  /** Whether status and headers have been written. */
  headersSent = false;
  /** Body bytes written so far. */
  bytesSent = 0;
  /** The environ of the current request, built by `setupEnviron()`. */
  environ: PartialEnvironment | undefined = undefined;

  // The result whose close() was called: guards against a second call when an
  // error is handled after the body was already closed.
  #closedResult: unknown = undefined;
  // The last output still in flight (a promise from write()), so writes made by
  // the application through the write callable go out in order.
  #tail: Promise<void> | undefined = undefined;

  readonly #startResponse: StartResponse = (status, headers, excInfo) =>
    this.startResponse(status, headers, excInfo);

  readonly #write: WriteCallable = (data) => {
    const tail = this.#tail;
    if (tail === undefined) {
      const pending = this.write(data);
      if (isThenable(pending)) {
        this.#track(pending);
      }
      return;
    }
    // Output is in flight: check now, so the application gets its error where
    // it made the mistake, then queue behind what is already going out.
    assertChunk(data);
    if (!this.status) {
      throw new AssertionError({ message: "write() before start_response()" });
    }
    this.#track(tail.then(() => this.write(data)));
  };

  /**
   * Invoke `application` and send its response.
   *
   * Resolves once the response is written and the body closed. Errors from the
   * application or the output are logged (`logException`) and answered with the
   * error page when no header is out yet (`handleError`); a client that went away
   * ends the run quietly. Rejects only when handling an error fails too, after
   * closing the body. Rejects with a `TypeError` if `application` is not a function.
   *
   * @see Python's `BaseHandler.run`
   */
  run(application: WSGIApplication): Promise<void> {
    if (typeof application !== "function") {
      return Promise.reject(new TypeError(`application must be a function: ${show(application)}`));
    }
    // Not an async function: a response written without waiting (the usual
    // case) then costs no suspended frame, only the settled promise.
    try {
      this.setupEnviron();
      // Complete as WSGIEnvironment promises when the CGI variables were (the
      // request's, or setupTestingDefaults()'s in a test): setupEnviron() adds the rest.
      const result = application(this.environ as WSGIEnvironment, this.#startResponse);
      if (isThenable(result)) {
        return this.#runAfter(result, true);
      }
      this.result = result;
      const done = this.finishResponse();
      if (isThenable(done)) {
        return this.#runAfter(done, false);
      }
    } catch (err) {
      return this.#recover(err);
    }
    return Promise.resolve();
  }

  /**
   * Build `environ` for one request: a copy of `osEnviron`, the CGI variables
   * (`addCgiVars`), `SCRIPT_NAME` and `PATH_INFO` as `""` where they are missing,
   * then the `wsgi.*` keys and, for an origin server, a default `SERVER_SOFTWARE`.
   *
   * @see Python's `BaseHandler.setup_environ`
   */
  setupEnviron(): void {
    this.environ = { ...this.osEnviron };
    this.addCgiVars();
    // Read back: an addCgiVars() may put an environ of its own in place.
    const env = this.environ as PartialEnvironment;
    // PEP 3333 lets a gateway leave these out when empty (a CGI server at the
    // script's own URL omits PATH_INFO); applications are promised both.
    if (!("SCRIPT_NAME" in env)) env.SCRIPT_NAME = "";
    if (!("PATH_INFO" in env)) env.PATH_INFO = "";
    env["wsgi.input"] = this.getStdin();
    env["wsgi.errors"] = this.getStderr();
    env["wsgi.version"] = [this.wsgiVersion[0], this.wsgiVersion[1]];
    env["wsgi.run_once"] = this.wsgiRunOnce;
    env["wsgi.url_scheme"] = this.getScheme();
    env["wsgi.multithread"] = this.wsgiMultithread;
    env["wsgi.multiprocess"] = this.wsgiMultiprocess;
    if (this.wsgiFileWrapper !== undefined && this.wsgiFileWrapper !== null) {
      env["wsgi.file_wrapper"] = this.wsgiFileWrapper;
    }
    if (this.originServer && this.serverSoftware && !("SERVER_SOFTWARE" in env)) {
      env.SERVER_SOFTWARE = this.serverSoftware;
    }
  }

  /**
   * Send the body (through `sendfile()` or by iterating it), finish the
   * content, then `close()`.
   *
   * On error the body is closed and the error rethrown, without `close()`, so
   * the handler's state stays for `handleError` (Python's bpo-29183).
   * Returns a promise only when some output had to be waited for.
   *
   * @see Python's `BaseHandler.finish_response`
   */
  finishResponse(): void | Promise<void> {
    const result = this.result;
    try {
      // The hot path: a body that is an array, output that completes at once.
      if (this.#tail !== undefined || !Array.isArray(result) || this.resultIsFile()) {
        return this.#finishSlowly(undefined, START);
      }
      for (let i = 0; i < result.length; i++) {
        const pending = this.write(result[i]);
        if (isThenable(pending)) {
          return this.#finishSlowly(pending, i + 1);
        }
      }
      const pending = this.finishContent();
      if (isThenable(pending)) {
        return this.#finishSlowly(pending, CLOSING);
      }
    } catch (err) {
      const closing = this.#closeResult();
      if (isThenable(closing)) {
        return Promise.resolve(closing).then(() => {
          throw err;
        });
      }
      throw err;
    }
    return this.close();
  }

  /**
   * Return the URL scheme of the request, for `wsgi.url_scheme`.
   *
   * @see Python's `BaseHandler.get_scheme`
   */
  getScheme(): string {
    return guessScheme(this.environ ?? {});
  }

  /**
   * Set `Content-Length` when the body is a one-element array: its only chunk
   * is all there is. Not for an origin server's 204 or 304 (see `cleanupHeaders`).
   *
   * @see Python's `BaseHandler.set_content_length`
   */
  setContentLength(): void {
    const result = this.result;
    if (Array.isArray(result) && result.length === 1 && !this.#lengthless()) {
      this.#headers().set("Content-Length", String(this.bytesSent));
    }
  }

  /**
   * Make last changes to the headers before they are sent: by default, add a
   * `Content-Length` when it can be known.
   *
   * An origin server's 204 loses any `Content-Length`, the application's too: RFC
   * 9110 §8.6 forbids one there, and the body is never sent. A 304 keeps the
   * application's (the length a 200 would have, as §8.6 allows) but gets none
   * added. A CGI response is left to the server in front, as Python leaves it.
   *
   * @see Python's `BaseHandler.cleanup_headers`
   */
  cleanupHeaders(): void {
    const headers = this.#headers();
    if (this.originServer && this.#statusIs("204")) {
      headers.delete("Content-Length");
    } else if (!headers.has("Content-Length")) {
      this.setContentLength();
    }
  }

  /**
   * The `startResponse` callable given to the application.
   *
   * Throws an `AssertionError` when called again without `excInfo`, when the
   * status is not a string of a 3-digit code, a space and no control character,
   * or when a header is hop-by-hop. With `excInfo` after the headers were sent,
   * throws `excInfo` itself. Returns the `write` callable, which queues its data
   * behind any output in flight.
   *
   * @see Python's `BaseHandler.start_response` (CPython 3.13); PEP 3333, "The start_response() Callable"
   */
  startResponse(
    status: string,
    headers: Array<[string, string]>,
    excInfo?: unknown,
  ): WriteCallable {
    if (excInfo !== undefined && excInfo !== null) {
      if (this.headersSent) {
        throw excInfo;
      }
    } else if (this.headers !== undefined) {
      throw new AssertionError({ message: "Headers already set!" });
    }
    // Python's order: status and headers are stored before they are checked.
    this.status = status;
    this.headers = new this.headersClass(headers);
    checkStatus(status);
    let lengths = 0;
    let length: string | undefined;
    for (let i = 0; i < headers.length; i++) {
      const name = headers[i]![0];
      if (isContentLength(name)) {
        lengths++;
        length ??= headers[i]![1];
      } else if (isHopByHop(name)) {
        const value = headers[i]![1];
        throw new AssertionError({
          message: `Hop-by-hop header, '${name}: ${value}', not allowed`,
        });
      }
    }
    // One valid Content-Length needs no second pass; checkContentLengths()
    // throws for anything else.
    if (lengths > 1 || (length !== undefined && !isDigitString(length))) {
      const checked = checkContentLengths(headers) as string;
      // The same value twice says one thing: send it once.
      if (lengths > 1) this.headers.set("Content-Length", checked);
    }
    return this.#write;
  }

  /**
   * Write what comes before the headers: the status line, `Date` and `Server`
   * for an origin server (unless the application set them), or the CGI `Status:`
   * line. Nothing for an HTTP/0.9 client.
   *
   * @see Python's `BaseHandler.send_preamble`
   */
  sendPreamble(): void | Promise<void> {
    if (this.originServer && !this.clientIsModern()) {
      return;
    }
    return this._write(latin1Bytes(this.#preambleText(), "status line"));
  }

  /**
   * The `write` callable's work: send the headers first if they are not out
   * yet, then `data`, then flush.
   *
   * Throws an `AssertionError` when `data` is not a `Uint8Array` or comes before
   * `startResponse()`.
   *
   * @see Python's `BaseHandler.write`; PEP 3333, "The write() Callable"
   */
  write(data: Uint8Array): void | Promise<void> {
    assertChunk(data);
    if (!this.status) {
      throw new AssertionError({ message: "write() before start_response()" });
    }
    if (this.headersSent) {
      this.bytesSent += data.length;
      return this.#writeAndFlush(data);
    }
    // Before the first output, send the stored headers; bytesSent first, so
    // setContentLength() knows the length of a one-chunk body.
    this.bytesSent = data.length;
    const pending = this.sendHeaders();
    if (isThenable(pending)) {
      return pending.then(() => this.#writeAndFlush(data));
    }
    return this.#writeAndFlush(data);
  }

  /**
   * Send the body by a platform-specific means; return whether it did.
   *
   * Called only when the body is a `wsgiFileWrapper`. The default returns
   * `false` (iterate instead). An override that sends must call `sendHeaders()`
   * first when `headersSent` is false; it may return a promise.
   *
   * @see Python's `BaseHandler.sendfile`
   */
  sendfile(): boolean | Promise<boolean> {
    return false;
  }

  /**
   * Make sure the headers went out: for a body with no bytes, send them with
   * `Content-Length: 0` unless the application set one (a response to HEAD), or
   * the response is an origin server's 204 or 304 (see `cleanupHeaders`).
   *
   * Unlike Python, flushes after sending them.
   *
   * @see Python's `BaseHandler.finish_content`
   */
  finishContent(): void | Promise<void> {
    if (this.headersSent) {
      return;
    }
    if (!this.#lengthless()) {
      this.#headers().setDefault("Content-Length", "0");
    }
    const pending = this.sendHeaders();
    if (isThenable(pending)) {
      return pending.then(() => this._flush());
    }
    return this._flush();
  }

  /**
   * Close the body (once) and reset the request state.
   *
   * Subclasses may extend it to drop the connection too.
   *
   * @see Python's `BaseHandler.close`
   */
  close(): void | Promise<void> {
    let closing: unknown;
    try {
      closing = this.#closeResult();
    } finally {
      if (!isThenable(closing)) {
        this.#reset();
      }
    }
    if (isThenable(closing)) {
      return Promise.resolve(closing).then(
        () => this.#reset(),
        (err: unknown) => {
          this.#reset();
          throw err;
        },
      );
    }
  }

  /**
   * Write the status and headers (after `cleanupHeaders()`), or nothing for an
   * HTTP/0.9 client of an origin server.
   *
   * @see Python's `BaseHandler.send_headers`
   */
  sendHeaders(): void | Promise<void> {
    this.cleanupHeaders();
    this.#checkOutgoing();
    this.headersSent = true;
    if (this.originServer && !this.clientIsModern()) {
      return;
    }
    const headers = this.#headers();
    if (this.sendPreamble === BaseHandler.prototype.sendPreamble && headers.toBytes === TO_BYTES) {
      // Neither is overridden: write the preamble and the headers at once, the
      // same bytes with one encoding and one _write() instead of two. Anything
      // that cannot be encoded takes the long way, which fails as Python does.
      let bytes: Uint8Array | undefined;
      try {
        bytes = latin1Bytes(this.#preambleText() + headers.toString(), "response head");
      } catch {
        bytes = undefined;
      }
      if (bytes !== undefined) {
        return this._write(bytes);
      }
    }
    const preamble = this.sendPreamble();
    let bytes: Uint8Array;
    try {
      bytes = headers.toBytes();
    } catch (err) {
      // Let the preamble finish first: nothing may still be going out once the
      // error reaches run().
      if (isThenable(preamble)) {
        return Promise.resolve(preamble).then(() => {
          throw err;
        });
      }
      throw err;
    }
    if (isThenable(preamble)) {
      return preamble.then(() => this._write(bytes));
    }
    return this._write(bytes);
  }

  /**
   * Tell whether the body is an instance of `wsgiFileWrapper`, for `sendfile()`.
   *
   * @see Python's `BaseHandler.result_is_file`
   */
  resultIsFile(): boolean {
    const wrapper = this.wsgiFileWrapper;
    return wrapper !== undefined && wrapper !== null && this.result instanceof wrapper;
  }

  /**
   * Tell whether the client understands a status line and headers: false only
   * for `SERVER_PROTOCOL` `HTTP/0.9` (in any case). A missing `SERVER_PROTOCOL`
   * counts as modern.
   *
   * @see Python's `BaseHandler.client_is_modern`
   */
  clientIsModern(): boolean {
    const protocol = this.environ?.SERVER_PROTOCOL;
    // The length test spares an upper-cased copy on every response.
    return (
      typeof protocol !== "string" || protocol.length !== 8 || protocol.toUpperCase() !== "HTTP/0.9"
    );
  }

  /**
   * Write `err`, with its stack (at most `tracebackLimit` frames), to
   * `getStderr()`, then flush it.
   *
   * Subclasses may override it to log elsewhere or differently.
   *
   * @see Python's `BaseHandler.log_exception`
   */
  logException(err: unknown): void {
    const stderr = this.getStderr();
    // Python lets a handler have no error stream until it logs: say which one.
    if (typeof stderr?.write !== "function") {
      expectMethod(stderr, "write", "the error stream (getStderr())");
    }
    stderr.write(formatError(err, this.tracebackLimit));
    stderr.flush();
  }

  /**
   * Log `err` and, if no header is out yet, send the error page
   * (`errorOutput`) in place of the response.
   *
   * @see Python's `BaseHandler.handle_error`
   */
  handleError(err: unknown): void | Promise<void> {
    this.logException(err);
    if (this.headersSent) {
      return;
    }
    const result = this.errorOutput(this.environ ?? {}, this.#startResponse, err);
    if (isThenable(result)) {
      return Promise.resolve(result).then((body) => {
        this.result = body;
        return this.finishResponse();
      });
    }
    this.result = result;
    return this.finishResponse();
  }

  /**
   * The error page, as a small WSGI application: `errorStatus`, a copy of
   * `errorHeaders`, and `errorBody`.
   *
   * Never shows `err` to the client (it could reveal secrets); an override may,
   * when asked to, or may choose a language or a format.
   *
   * @see Python's `BaseHandler.error_output`
   */
  errorOutput(
    _environ: PartialEnvironment,
    startResponse: StartResponse,
    err?: unknown,
  ): WSGIBody | Promise<WSGIBody> {
    // excInfo must be present for startResponse() to replace the application's
    // status; a thrown undefined still counts.
    startResponse(this.errorStatus, this.errorHeaders.slice(), err ?? new Error("unknown error"));
    return [this.errorBody];
  }

  // Abstract hooks: Python raises NotImplementedError until a subclass overrides them.

  /**
   * Send `data` to the client, or buffer it until `_flush()`. May return a
   * promise, which the handler awaits before writing more.
   *
   * @see Python's `BaseHandler._write`
   */
  _write(_data: Uint8Array): void | Promise<void> {
    throw abstract("_write");
  }

  /**
   * Push out what `_write()` buffered (a no-op when it buffers nothing). May
   * return a promise.
   *
   * @see Python's `BaseHandler._flush`
   */
  _flush(): void | Promise<void> {
    throw abstract("_flush");
  }

  /**
   * Return the request body stream for `wsgi.input`.
   *
   * @see Python's `BaseHandler.get_stdin`
   */
  getStdin(): InputStream {
    throw abstract("getStdin");
  }

  /**
   * Return the error stream for `wsgi.errors` and `logException`.
   *
   * @see Python's `BaseHandler.get_stderr`
   */
  getStderr(): ErrorStream {
    throw abstract("getStderr");
  }

  /**
   * Add the request's CGI variables to `environ`, or put an environ in its place:
   * `setupEnviron()` adds the `wsgi.*` keys to whatever `environ` is afterwards.
   *
   * @see Python's `BaseHandler.add_cgi_vars`
   */
  addCgiVars(): void {
    throw abstract("addCgiVars");
  }

  #headers(): Headers {
    const headers = this.headers;
    if (headers === undefined) {
      throw new AssertionError({
        message: "the application returned without calling start_response()",
      });
    }
    return headers;
  }

  /**
   * Check the headers again as they go out: startResponse() checked the list,
   * but the application may have added to it since (before its first write), and
   * a Transfer-Encoding or Connection sent then frames the body otherwise than
   * the handler does. Equal Content-Lengths collapse to one, as there.
   */
  #checkOutgoing(): void {
    const headers = this.#headers();
    let lengths = 0;
    for (const [name, value] of headers) {
      if (isContentLength(name)) {
        lengths++;
      } else if (isHopByHop(name)) {
        throw new AssertionError({
          message: `Hop-by-hop header, '${name}: ${value}', not allowed`,
        });
      }
    }
    if (lengths > 1) headers.set("Content-Length", checkContentLengths(headers.items()) as string);
    else if (lengths === 1) checkContentLengths(headers.items());
  }

  /**
   * Whether this is an origin server's 204 or 304, whose `Content-Length` the
   * handler never computes: there is no body to measure (RFC 9110 §8.6).
   */
  #lengthless(): boolean {
    return this.originServer && (this.#statusIs("204") || this.#statusIs("304"));
  }

  /** Whether the status (a string once checked) has the code `code`. */
  #statusIs(code: string): boolean {
    const status: unknown = this.status;
    return typeof status === "string" && status.startsWith(code);
  }

  /** The status line, Date and Server of an origin server, or the CGI Status line. */
  #preambleText(): string {
    if (!this.originServer) {
      return `Status: ${this.status}\r\n`;
    }
    const headers = this.#headers();
    let text = `HTTP/${this.httpVersion} ${this.status}\r\n`;
    if (!headers.has("Date")) {
      text += `Date: ${formatDateTime(Date.now())}\r\n`;
    }
    if (this.serverSoftware && !headers.has("Server")) {
      text += `Server: ${this.serverSoftware}\r\n`;
    }
    return text;
  }

  #writeAndFlush(data: Uint8Array): void | Promise<void> {
    const pending = this._write(data);
    if (isThenable(pending)) {
      return pending.then(() => this._flush());
    }
    return this._flush();
  }

  /** Call the body's close() unless it was already called. */
  #closeResult(): unknown {
    const result = this.result;
    if (result === undefined || result === null || result === this.#closedResult) {
      return undefined;
    }
    this.#closedResult = result;
    const close: unknown = (result as { close?: unknown }).close;
    if (typeof close === "function") {
      return close.call(result);
    }
    return undefined;
  }

  #reset(): void {
    this.result = undefined;
    this.headers = undefined;
    this.status = undefined;
    this.environ = undefined;
    this.bytesSent = 0;
    this.headersSent = false;
    this.#closedResult = undefined;
  }

  /** Make `pending` the tail of the output queue. */
  #track(pending: PromiseLike<unknown>): void {
    const tail: Promise<void> = Promise.resolve(pending).then(() => {
      if (this.#tail === tail) {
        this.#tail = undefined;
      }
    });
    // A failure stays in the tail (later queued writes are skipped) until
    // finishResponse or run awaits it.
    markHandled(tail);
    this.#tail = tail;
  }

  /** Wait until no output is in flight; rejects with the first output failure. */
  async #settle(): Promise<void> {
    for (let tail = this.#tail; tail !== undefined; tail = this.#tail) {
      await tail;
    }
  }

  /** Write one chunk behind any output in flight; a promise only if it had to wait. */
  #put(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#tail !== undefined) {
      return this.#settle().then(() => this.#put(chunk));
    }
    const pending = this.write(chunk);
    if (isThenable(pending)) {
      this.#track(pending);
      return this.#settle();
    }
    return undefined;
  }

  /**
   * finishResponse() once something returned a promise: wait for `pending`,
   * then go on from `resumeAt` (START, CLOSING, or the next index of an array).
   */
  async #finishSlowly(pending: PromiseLike<unknown> | undefined, resumeAt: number): Promise<void> {
    try {
      if (pending !== undefined) {
        this.#track(pending);
      }
      if (this.#tail !== undefined) {
        await this.#settle();
      }
      if (resumeAt !== CLOSING) {
        await this.#sendBody(resumeAt);
      }
    } catch (err) {
      const closing = this.#closeResult();
      if (isThenable(closing)) {
        await closing;
      }
      throw err;
    }
    const closing = this.close();
    if (isThenable(closing)) {
      await closing;
    }
  }

  async #sendBody(resumeAt: number): Promise<void> {
    const result: unknown = this.result;
    if (resumeAt === START && this.resultIsFile()) {
      let sent = this.sendfile();
      if (isThenable(sent)) {
        sent = await sent;
      }
      if (sent) {
        return;
      }
    }
    if (Array.isArray(result)) {
      for (let i = Math.max(resumeAt, 0); i < result.length; i++) {
        const waiting = this.#put(result[i]);
        if (waiting !== undefined) {
          await waiting;
        }
      }
    } else if (bodyKind(result) === "sync") {
      // for...of calls the iterator's return() if a write throws, so a
      // generator's finally blocks run (Python closes generators likewise).
      for (const chunk of result as Iterable<Uint8Array>) {
        const waiting = this.#put(chunk);
        if (waiting !== undefined) {
          await waiting;
        }
      }
    } else {
      for await (const chunk of result as AsyncIterable<Uint8Array>) {
        const waiting = this.#put(chunk);
        if (waiting !== undefined) {
          await waiting;
        }
      }
    }
    if (this.#tail !== undefined) {
      await this.#settle();
    }
    const finishing = this.finishContent();
    if (isThenable(finishing)) {
      await finishing;
    }
  }

  /**
   * The rest of run() once something returned a promise: the application's
   * body (`isBody`), then the response; or what finishResponse() still does.
   */
  async #runAfter(pending: PromiseLike<unknown>, isBody: boolean): Promise<void> {
    try {
      const settled = await pending;
      if (isBody) {
        this.result = settled as WSGIBody;
        const done = this.finishResponse();
        if (isThenable(done)) {
          await done;
        }
      }
    } catch (err) {
      await this.#recover(err);
    }
  }

  /** run()'s error path: Python's `except` clauses. */
  async #recover(err: unknown): Promise<void> {
    let error = err;
    if (this.#tail !== undefined) {
      // Output the application queued before failing goes out first, as Python's
      // synchronous write() would have sent it; if it failed, that came first.
      try {
        await this.#settle();
      } catch (outputError) {
        error = outputError;
      }
      this.#tail = undefined;
    }
    if (isDisconnect(error)) {
      // The client went away: nothing to tell it, nothing worth logging.
      const closing = this.#closeResult();
      if (isThenable(closing)) {
        await closing;
      }
      return;
    }
    try {
      const handling = this.handleError(error);
      if (isThenable(handling)) {
        await handling;
      }
    } catch (secondError) {
      // An error while handling an error: give up, and let the server know
      // unless it is only the client that left meanwhile.
      this.#tail = undefined;
      const closing = this.close();
      if (isThenable(closing)) {
        await closing;
      }
      if (!isDisconnect(secondError)) {
        throw secondError;
      }
    }
  }
}
