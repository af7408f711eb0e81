/**
 * `wsgiref/validate`: middleware that checks a server and an application against
 * PEP 3333 as they talk, raising an `AssertionError` at the first violation.
 *
 * This file is the checklist: each check is one `if`, preceded by the PEP 3333
 * rule it enforces, in the PEP's order: the call, `environ`, the streams,
 * `start_response()`, `write()`, the body. The stream and body wrappers are in
 * `validate/`; every message, with the section it enforces, is in the `CHECKS`
 * register of `validate/checks.ts`, from which docs/validate.md is generated.
 *
 * Port of Python's `wsgiref.validate`.
 *
 * @module wsgiref/validate
 */

import { expectObject, show } from "./internal/check.js";
import { isLatin1 } from "./internal/latin1.js";
import { isThenable } from "./internal/thenable.js";
import type {
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "./types.js";
import { isHopByHop } from "./util.js";
import { type ResponseState, UnclosedWatch, wrapBody } from "./validate/body.js";
import { fail, repr, typeName, warn } from "./validate/checks.js";
import { ErrorWrapper, InputWrapper } from "./validate/streams.js";
import {
  codeValue,
  hasRequiredKeys,
  isNativeString,
  isPlainObject,
  isThreeDigits,
  statusCode,
} from "./validate/text.js";

/** Options of `validator()`. */
export interface ValidatorOptions {
  /**
   * Require exactly one argument, the size, in `wsgi.input.read()`, as Python's
   * validator does. Default `true`. PEP 3333 says servers should allow `read()`
   * without an argument, and frameworks call it so (Falcon's users found
   * Python's check too strict): set it to `false` to allow that.
   */
  readRequiresSize?: boolean;
}

// environ Variables: the keys every request has (Python's list, plus
// wsgi.url_scheme, which Python reads without checking it is there).
const REQUIRED_KEYS = [
  "REQUEST_METHOD",
  "SERVER_NAME",
  "SERVER_PORT",
  "wsgi.version",
  "wsgi.input",
  "wsgi.errors",
  "wsgi.multithread",
  "wsgi.multiprocess",
  "wsgi.run_once",
  "wsgi.url_scheme",
] as const;

const CONTENT_KEYS = ["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"] as const;

// Python's list; other methods are legal, but worth a warning.
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "OPTIONS",
  "PATCH",
  "PUT",
  "DELETE",
  "TRACE",
]);

const INPUT_METHODS = ["read", "readline", "readlines"] as const;
const ERRORS_METHODS = ["flush", "write", "writelines"] as const;

const DIGITS = /^[0-9]+$/;
// A status may hold a tab, as a reason-phrase may (RFC 9112 §4), and as the handler allows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const STATUS_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;
// What may fail the control-character or latin-1 check of a status: the usual one passes at once.
const SUSPECT_STATUS = /[^\t\x20-\x7E\x80-\xFF]/;
// Python's header_re and bad_header_value_re, the latter with DEL added.
const HEADER_NAME = /^[a-zA-Z][a-zA-Z0-9\-_]*$/;
// What passes every name check at once (the usual case: one test instead of four).
const GOOD_HEADER_NAME = /^[a-zA-Z](?:[a-zA-Z0-9\-_]*[a-zA-Z0-9])?$/;
// What may fail a value check: a control character or a code point above U+00FF.
const SUSPECT_HEADER_VALUE = /[^\x20-\x7E\x80-\xFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const BAD_HEADER_VALUE = /[\x00-\x1F\x7F]/;
const NO_MESSAGE_BODY = new Set([204, 304]);

// How many header names that passed every check a validator remembers (see
// `goodNames` in validator()): bounded, since names come from applications.
const MAX_GOOD_HEADER_NAMES = 1000;

/**
 * Wrap `application` in a checker of PEP 3333, for both sides: the server's
 * call, `environ` and streams, and the application's `startResponse()` calls,
 * `write()` calls, body and use of the streams.
 *
 * The first violation throws an `AssertionError` with Python's message; legal
 * but questionable things emit a `WSGIWarning` (`process.emitWarning`); a body
 * garbage-collected before the server closed it is reported on stderr. Nothing
 * is changed in the request or the response, except that the body is a wrapper:
 * it has no `length` (servers cannot compute a `Content-Length` from it) and is
 * not a `FileWrapper` (servers iterate it instead of using `sendfile`), as in
 * Python. Sync applications stay sync; a promised body is checked once it
 * arrives; async bodies are checked chunk by chunk.
 *
 * Throws a `TypeError` if `application` is not a function.
 *
 * @example
 * ```ts
 * import { SimpleHandler, BytesInput, StringErrors, setupTestingDefaults } from "wsgiref";
 * import { validator } from "wsgiref/validate";
 *
 * const environ = {};
 * setupTestingDefaults(environ);
 * const chunks: Uint8Array[] = [];
 * const handler = new SimpleHandler(new BytesInput(), { write: (b) => chunks.push(b) }, new StringErrors(), environ);
 * await handler.run(validator(app)); // a violation: 500, and the AssertionError on wsgi.errors
 * ```
 *
 * @see Python's `wsgiref.validate.validator`; docs/validate.md lists every check
 */
export function validator(
  application: WSGIApplication,
  options: ValidatorOptions = {},
): WSGIApplication {
  if (typeof application !== "function") {
    throw new TypeError(`application must be a function: ${show(application)}`);
  }
  expectObject(options, "options");
  const readRequiresSize = options.readRequiresSize ?? true;
  if (typeof readRequiresSize !== "boolean") {
    throw new TypeError(`options.readRequiresSize must be a boolean: ${show(readRequiresSize)}`);
  }

  // The warnings already emitted by this validator (each is shown once, as in Python).
  const warned = new Set<string>();
  // Header names that passed every name check: responses repeat a few names,
  // and a name that passed once passes again.
  const goodNames = new Set<string>();
  const watch = new UnclosedWatch();

  return function lintApp(...args: Parameters<WSGIApplication>): WSGIBody | Promise<WSGIBody> {
    const count: number = args.length;
    // Specification Details: the application is called with two positional arguments
    if (count !== 2) {
      fail("app-arguments");
    }
    const [environ, startResponse] = args;
    checkEnviron(environ, warned);

    const response: ResponseState = { called: false, started: false, iterating: false, watch };
    const startResponseWrapper = (...srArgs: Parameters<StartResponse>): WriteCallable => {
      const srCount: number = srArgs.length;
      // The start_response() Callable: two positional arguments, and the optional exc_info
      if (srCount !== 2 && srCount !== 3) {
        fail("start-response-arguments", { args: repr(srArgs) });
      }
      const calledBefore = response.called;
      response.called = true;
      const [status, headers, excInfo] = srArgs;
      checkStatus(status, warned);
      checkHeaders(headers, goodNames);
      checkContentType(status, headers);
      checkExcInfo(excInfo);
      // The start_response() Callable: it may be called again only with exc_info
      if (calledBefore && (excInfo === undefined || excInfo === null)) {
        fail("start-response-twice");
      }
      response.started = true;
      const write: unknown =
        srCount === 2 ? startResponse(status, headers) : startResponse(status, headers, excInfo);
      // The start_response() Callable: it returns a write(body_data) callable
      if (typeof write !== "function") {
        fail("start-response-write", { value: repr(write) });
      }
      return writeWrapper(write as WriteCallable, response);
    };

    environ["wsgi.input"] = new InputWrapper(
      environ["wsgi.input"] as NonNullable<WSGIEnvironment["wsgi.input"]>,
      readRequiresSize,
    );
    environ["wsgi.errors"] = new ErrorWrapper(
      environ["wsgi.errors"] as NonNullable<WSGIEnvironment["wsgi.errors"]>,
    );

    const result = application(environ, startResponseWrapper);
    if (isThenable(result)) {
      return Promise.resolve(result).then((body) => checkIterator(body, response));
    }
    return checkIterator(result, response);
  };
}

/** Python's `check_environ`, plus `check_input` and `check_errors`. */
function checkEnviron(environ: unknown, warned: Set<string>): asserts environ is WSGIEnvironment {
  // environ Variables: environ is a built-in dictionary (here: a plain object)
  if (!isPlainObject(environ)) {
    fail("environ-type", { type: typeName(environ), environ: repr(environ) });
  }
  // environ Variables: REQUEST_METHOD, SERVER_NAME, SERVER_PORT and the wsgi.* variables must be present
  if (!hasRequiredKeys(environ)) {
    for (const key of REQUIRED_KEYS) {
      if (!(key in environ)) {
        fail("environ-required-key", { key: repr(key) });
      }
    }
  }
  // environ Variables: the request's Content-Type and Content-Length are CONTENT_TYPE and CONTENT_LENGTH
  if ("HTTP_CONTENT_TYPE" in environ || "HTTP_CONTENT_LENGTH" in environ) {
    for (const key of CONTENT_KEYS) {
      if (key in environ) {
        fail("environ-http-content", { key, use: key.slice(5) });
      }
    }
  }
  // environ Variables: QUERY_STRING may be absent (but applications expect it)
  if (!("QUERY_STRING" in environ)) {
    warn(warned, "environ-query-string");
  }
  // for...in rather than Object.keys(): no array to allocate (environ is a plain
  // object, so it enumerates own keys only, unless Object.prototype is polluted).
  // A key with a dot is an extension (wsgi.*, server.*) of any type; the value is
  // looked at first, so that only keys of non-string values are searched for one.
  for (const key in environ) {
    const value = environ[key];
    if (typeof value === "string") {
      // Unicode Issues: servers must not supply strings with code points above U+00FF
      if (!isNativeString(value) && !key.includes(".")) {
        fail("environ-latin1", { key, value: repr(value) });
      }
    } else if (key.charCodeAt(4) !== 46 && !key.includes(".")) {
      // (The first test passes "wsgi.*" keys, the usual non-strings, without a search.)
      // environ Variables: CGI-defined variables must be native strings
      fail("environ-cgi-string", { key, type: typeName(value), value: repr(value) });
    }
  }
  const version = environ["wsgi.version"];
  // environ Variables: wsgi.version is the tuple (1, 0) (here: [1, 0])
  if (
    !Array.isArray(version) ||
    version.length !== 2 ||
    !Number.isInteger(version[0]) ||
    !Number.isInteger(version[1])
  ) {
    fail("environ-version", { value: repr(version) });
  }
  const scheme = environ["wsgi.url_scheme"];
  // environ Variables: wsgi.url_scheme is "http" or "https"
  if (scheme !== "http" && scheme !== "https") {
    fail("environ-url-scheme", { value: repr(scheme) });
  }
  checkInput(environ["wsgi.input"]);
  checkErrors(environ["wsgi.errors"]);
  const method = environ.REQUEST_METHOD as string;
  // environ Variables: REQUEST_METHOD is an HTTP method such as "GET" or "POST"
  if (!KNOWN_METHODS.has(method)) {
    warn(warned, "environ-method", { value: repr(method) });
  }
  // Strings by now, when present (the CGI-variable check above).
  const scriptName = environ.SCRIPT_NAME as string | undefined;
  const pathInfo = environ.PATH_INFO as string | undefined;
  // environ Variables: SCRIPT_NAME is empty or the initial portion of the path
  if (scriptName && !scriptName.startsWith("/")) {
    fail("environ-script-name-slash", { value: repr(scriptName) });
  }
  // environ Variables: PATH_INFO is empty or the remainder of the path
  if (pathInfo && !pathInfo.startsWith("/")) {
    fail("environ-path-info-slash", { value: repr(pathInfo) });
  }
  const contentLength = environ.CONTENT_LENGTH as string | undefined;
  // environ Variables: CONTENT_LENGTH is empty, absent or a length
  if (contentLength && !DIGITS.test(contentLength)) {
    fail("environ-content-length", { value: repr(contentLength) });
  }
  // environ Variables: with an empty SCRIPT_NAME (the root), PATH_INFO is at least "/"
  if (!scriptName && !("PATH_INFO" in environ)) {
    fail("environ-path-required");
  }
  // environ Variables: the root is SCRIPT_NAME "" and PATH_INFO "/", never SCRIPT_NAME "/"
  if (scriptName === "/") {
    fail("environ-script-name-root");
  }
}

/** Python's `check_input`. */
function checkInput(input: unknown): void {
  const methods = input as { [key: string | symbol]: unknown } | null | undefined;
  // The usual case in one expression of literal names (inline caches, as hasRequiredKeys).
  if (
    typeof methods?.read === "function" &&
    typeof methods.readline === "function" &&
    typeof methods.readlines === "function" &&
    typeof methods[Symbol.iterator] === "function"
  ) {
    return;
  }
  // Input and Error Streams: wsgi.input has read(size), readline(), readlines(hint) and __iter__()
  for (const name of INPUT_METHODS) {
    if (typeof methods?.[name] !== "function") {
      fail("input-attributes", { input: repr(input), attribute: name });
    }
  }
  if (typeof methods?.[Symbol.iterator] !== "function") {
    fail("input-attributes", { input: repr(input), attribute: "[Symbol.iterator]" });
  }
}

/** Python's `check_errors`. */
function checkErrors(errors: unknown): void {
  const methods = errors as { [key: string]: unknown } | null | undefined;
  if (
    typeof methods?.flush === "function" &&
    typeof methods.write === "function" &&
    typeof methods.writelines === "function"
  ) {
    return;
  }
  // Input and Error Streams: wsgi.errors has flush(), write(str) and writelines(seq)
  for (const name of ERRORS_METHODS) {
    if (typeof methods?.[name] !== "function") {
      fail("errors-attributes", { errors: repr(errors), attribute: name });
    }
  }
}

/** Python's `check_status`, plus control characters and latin-1. */
function checkStatus(status: unknown, warned: Set<string>): asserts status is string {
  // The start_response() Callable: the status is a string
  if (typeof status !== "string") {
    fail("status-type", { value: repr(status) });
  }
  const code = statusCode(status);
  // The start_response() Callable: "999 Message here", a three-digit Status-Code first
  if (code.length !== 3) {
    fail("status-code-length", { code: repr(code) });
  }
  if (!isThreeDigits(code)) {
    fail("status-code-digits", { code: repr(code) });
  }
  // The start_response() Callable: a Status-Code as RFC 2616 §6.1.1 defines it, 100 or more
  if (codeValue(code) < 100) {
    fail("status-code-range", { code: codeValue(code) });
  }
  if (SUSPECT_STATUS.test(status)) {
    // The start_response() Callable: the status must not contain control characters
    if (STATUS_CONTROL.test(status)) {
      fail("status-control", { value: repr(status) });
    }
    // Unicode Issues: a status is ISO-8859-1 characters
    if (!isNativeString(status)) {
      fail("status-latin1", { value: repr(status) });
    }
  }
  // The start_response() Callable: Status-Code and Reason-Phrase separated by a single space
  if (status.length < 4 || status[3] !== " ") {
    warn(warned, "status-reason", { value: repr(status) });
  }
}

/** Python's `check_headers`, plus latin-1 values and hop-by-hop headers. */
function checkHeaders(
  headers: unknown,
  goodNames: Set<string>,
): asserts headers is Array<[string, string]> {
  // The start_response() Callable: response_headers is a list
  if (!Array.isArray(headers)) {
    fail("headers-type", { headers: repr(headers), type: typeName(headers) });
  }
  for (const item of headers as unknown[]) {
    // The start_response() Callable: ... of (header_name, header_value) tuples
    if (!Array.isArray(item)) {
      fail("header-type", { header: repr(item), type: typeName(item) });
    }
    if (item.length !== 2) {
      fail("header-length", { header: repr(item), count: item.length });
    }
    const [name, value]: unknown[] = item;
    // The start_response() Callable: header names and values are strings
    if (typeof name !== "string") {
      fail("header-name-type", { value: repr(name) });
    }
    if (typeof value !== "string") {
      fail("header-value-type", { value: repr(value) });
    }
    if (!goodNames.has(name)) {
      checkHeaderName(name, value, goodNames);
    }
    if (SUSPECT_HEADER_VALUE.test(value)) {
      // The start_response() Callable: a header_value must not include any control characters
      const bad = BAD_HEADER_VALUE.exec(value);
      if (bad !== null) {
        fail("header-value-chars", { value: repr(value), char: repr(bad[0]) });
      }
      // Unicode Issues: header values are ISO-8859-1 characters
      if (!isLatin1(value)) {
        fail("header-value-latin1", { value: repr(value) });
      }
    }
  }
}

/**
 * The name checks of Python's `check_headers`, plus hop-by-hop headers;
 * remembers names that pass in `goodNames`.
 */
function checkHeaderName(name: string, value: string, goodNames: Set<string>): void {
  // The start_response() Callable: the status is given as status, not as a header (CGI's Status:)
  if (name.toLowerCase() === "status") {
    fail("header-status", { value: repr(value) });
  }
  if (!GOOD_HEADER_NAME.test(name)) {
    // The start_response() Callable: a valid field-name, without a trailing colon or other punctuation
    if (name.includes("\n") || name.includes(":")) {
      fail("header-name-colon-newline", { name: repr(name) });
    }
    if (!HEADER_NAME.test(name)) {
      fail("header-name-syntax", { name: repr(name) });
    }
    if (name.endsWith("-") || name.endsWith("_")) {
      fail("header-name-end", { name: repr(name) });
    }
  }
  // Other HTTP Features: applications must not use hop-by-hop headers
  if (isHopByHop(name)) {
    fail("header-hop-by-hop", { name, value });
  }
  if (goodNames.size >= MAX_GOOD_HEADER_NAMES) {
    goodNames.clear();
  }
  goodNames.add(name);
}

/** Python's `check_content_type`. */
function checkContentType(status: string, headers: Array<[string, string]>): void {
  const code = codeValue(statusCode(status));
  const noBody = NO_MESSAGE_BODY.has(code);
  for (const [name] of headers) {
    if (name === "Content-Type" || (name.length === 12 && name.toLowerCase() === "content-type")) {
      // The start_response() Callable: no Content-Type on a response that has no content (204, 304)
      if (noBody) {
        fail("content-type-forbidden", { code });
      }
      return;
    }
  }
  // The start_response() Callable: a Content-Type on every other response (the server adds none)
  if (!noBody) {
    fail("content-type-missing", { headers: repr(headers) });
  }
}

/** Python's `check_exc_info`, for TypeScript's `excInfo` (the thrown value). */
function checkExcInfo(excInfo: unknown): void {
  // Error Handling: exc_info is the exception caught (here: the thrown value, not a sys.exc_info() tuple)
  if (Array.isArray(excInfo)) {
    fail("exc-info-type", { kind: "an array", value: repr(excInfo) });
  }
  if (typeof excInfo === "boolean") {
    fail("exc-info-type", { kind: "a boolean", value: repr(excInfo) });
  }
}

/** Python's `WriteWrapper`. */
function writeWrapper(write: WriteCallable, response: ResponseState): WriteCallable {
  return (data) => {
    // The write() Callable: its single parameter is a bytestring
    if (!(data instanceof Uint8Array)) {
      fail("write-type", { value: repr(data) });
    }
    // The write() Callable: applications must not invoke write() from within their return iterable
    if (response.iterating) {
      fail("write-inside-body");
    }
    write(data);
  };
}

/** Python's `check_iterator`, with the return checks of `lint_app`, then the wrapper. */
function checkIterator(result: unknown, response: ResponseState): WSGIBody {
  // Specification Details: the application must return an iterable, even if it uses write()
  if (result === undefined || result === null || result === false) {
    fail("app-return-iterable");
  }
  // Specification Details: ... yielding bytestrings, not one string iterated by character
  if (typeof result === "string" || result instanceof Uint8Array) {
    fail("app-return-string");
  }
  const body = result as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  if (
    typeof body[Symbol.iterator] !== "function" &&
    typeof body[Symbol.asyncIterator] !== "function"
  ) {
    fail("app-return-iterable");
  }
  return wrapBody(result as WSGIBody, response);
}
