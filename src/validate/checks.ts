/**
 * The validator's register of checks: one entry per check, with the PEP 3333
 * section it enforces, what it catches and the message it raises. The checks in
 * `validate.ts` and its wrappers raise only through `fail()` and `warn()`, which
 * take an id of this table, and docs/validate.md is generated from it
 * (`node scripts/validate-docs.js`), so the code, the messages and the
 * documentation cannot drift apart.
 *
 * Messages are Python's `wsgiref.validate` texts where Python has one, with
 * `{placeholders}` where Python interpolates a value.
 */

import { AssertionError } from "node:assert";
import { inspect } from "node:util";

/** The PEP 3333 sections the checks enforce, in the PEP's order. */
export const SECTIONS = [
  "Specification Details",
  "environ Variables",
  "Input and Error Streams",
  "The start_response() Callable",
  "The write() Callable",
  "Unicode Issues",
  "Error Handling",
  "Other HTTP Features",
] as const;

/** A section of PEP 3333. */
export type Section = (typeof SECTIONS)[number];

/** One check of the validator. */
export interface Check {
  /** Where PEP 3333 states the rule. */
  readonly section: Section;
  /** Who breaks the rule: the server (gateway) or the application. */
  readonly side: "server" | "application";
  /** What it catches, in a few words. */
  readonly catches: string;
  /** The message, with `{name}` placeholders filled in by the caller. */
  readonly message: string;
  /**
   * How it is reported: an `AssertionError`, a `WSGIWarning` on Node's warning
   * channel, or a line on stderr (when nothing can be thrown to).
   */
  readonly raises: "AssertionError" | "WSGIWarning" | "stderr";
  /**
   * How it relates to Python's `wsgiref.validate`: `same` (same check, same
   * text), `worded` (same check, but Python's bare `assert` has no message),
   * `adapted` (see `note`), or `added` (Python has no such check).
   */
  readonly origin: "same" | "worded" | "adapted" | "added";
  /** What differs from Python, and why. */
  readonly note?: string;
}

/**
 * Every check, in the order the validator applies them, which follows the PEP.
 *
 * Python's message texts are kept word for word, type names included: `str` is
 * a `string`, `list` and `tuple` an `Array`, `bytes` a `Uint8Array`, `dict` a
 * plain object.
 */
export const CHECKS = {
  // Specification Details
  "app-arguments": {
    section: "Specification Details",
    side: "server",
    catches: "the application called with other than two arguments",
    message: "Two arguments required",
    raises: "AssertionError",
    origin: "same",
    note: 'Python\'s "No keyword arguments allowed" has no counterpart: JavaScript has no keyword arguments.',
  },
  "app-return-iterable": {
    section: "Specification Details",
    side: "application",
    catches:
      "a body that is `undefined`, `null`, `false` or not iterable (sync or async), also as the value of a promised body",
    message: "The application must return an iterator, if only an empty list",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python checks for `None` and `False` only, and lets `iter()` raise a `TypeError` for other non-iterables.",
  },
  "app-return-string": {
    section: "Specification Details",
    side: "application",
    catches: "a body that is a string or a bare `Uint8Array` (iterable, but by character or byte)",
    message:
      "You should not return a string as your application iterator, instead return a single-item list containing a bytestring.",
    raises: "AssertionError",
    origin: "same",
  },
  "body-chunk-type": {
    section: "Specification Details",
    side: "application",
    catches: "a body that yields anything but a `Uint8Array` (a `Buffer` is one)",
    message: "Iterator yielded non-bytestring ({chunk})",
    raises: "AssertionError",
    origin: "same",
  },
  "body-before-start-response": {
    section: "Specification Details",
    side: "application",
    catches: "a first chunk yielded before `startResponse()` was called",
    message:
      "The application returns and we started iterating over its body, but start_response has not yet been called",
    raises: "AssertionError",
    origin: "same",
  },
  "body-ended-before-start-response": {
    section: "Specification Details",
    side: "application",
    catches: "a body that ends, having yielded nothing, without `startResponse()` ever called",
    message:
      "The application returns and we finished iterating over its body, but start_response has not yet been called",
    raises: "AssertionError",
    origin: "added",
    note: "Python's handler fails later on, with an `AttributeError`.",
  },
  "body-read-after-close": {
    section: "Specification Details",
    side: "server",
    catches: "a body iterated after its `close()` was called",
    message: "Iterator read after closed",
    raises: "AssertionError",
    origin: "same",
  },
  "body-closed-twice": {
    section: "Specification Details",
    side: "server",
    catches: "a body whose `close()` is called more than once",
    message:
      "close() was called twice on the application's iterable; a server calls it exactly once",
    raises: "AssertionError",
    origin: "added",
    note: "This package promises every body's `close()` is called exactly once.",
  },
  "body-not-closed": {
    section: "Specification Details",
    side: "server",
    catches:
      "a body garbage-collected without its `close()` called (seen by a `FinalizationRegistry`)",
    message: "Iterator garbage collected without being closed",
    raises: "stderr",
    origin: "adapted",
    note: "Python's `__del__` also raises the `AssertionError`, which Python can only print; a finalizer that threw would crash Node, so the line goes to stderr only.",
  },

  // environ Variables
  "environ-type": {
    section: "environ Variables",
    side: "server",
    catches: "an environ that is not a plain object (`Map`, array, class instance)",
    message: "Environment is not of the right type: {type} (environment: {environ})",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python requires exactly a `dict`; here an object whose prototype is `Object.prototype` or `null`.",
  },
  "environ-required-key": {
    section: "environ Variables",
    side: "server",
    catches:
      "a missing `REQUEST_METHOD`, `SERVER_NAME`, `SERVER_PORT`, `wsgi.version`, `wsgi.input`, `wsgi.errors`, `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.run_once` or `wsgi.url_scheme`",
    message: "Environment missing required key: {key}",
    raises: "AssertionError",
    origin: "adapted",
    note: "`wsgi.url_scheme` is added to Python's list: Python raises a `KeyError` when it is missing.",
  },
  "environ-http-content": {
    section: "environ Variables",
    side: "server",
    catches: "`HTTP_CONTENT_TYPE` or `HTTP_CONTENT_LENGTH` in the environ",
    message: "Environment should not have the key: {key} (use {use} instead)",
    raises: "AssertionError",
    origin: "same",
  },
  "environ-query-string": {
    section: "environ Variables",
    side: "server",
    catches: "no `QUERY_STRING` (legal, but applications often assume it)",
    message:
      "QUERY_STRING is not in the WSGI environment; applications ported from Python's cgi module, which used sys.argv when this variable is missing, are more likely to fail",
    raises: "WSGIWarning",
    origin: "adapted",
    note: "Same warning; the reason is reworded, since Node has no `cgi` module.",
  },
  "environ-cgi-string": {
    section: "environ Variables",
    side: "server",
    catches: "a CGI variable (a key without a `.`) whose value is not a string",
    message: "Environmental variable {key} is not a string: {type} (value: {value})",
    raises: "AssertionError",
    origin: "same",
  },
  "environ-latin1": {
    section: "Unicode Issues",
    side: "server",
    catches: "a CGI variable with a code point above U+00FF",
    message:
      "Environmental variable {key} must contain only code points up to U+00FF (latin-1): {value}",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: servers "must not supply strings to an application containing any other Unicode characters"; Python does not check it.',
  },
  "environ-version": {
    section: "environ Variables",
    side: "server",
    catches: "a `wsgi.version` that is not a `[major, minor]` array of two integers",
    message: "wsgi.version should be a tuple ({value})",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python checks for a `tuple` only; here an array of exactly two integers, such as `[1, 0]`.",
  },
  "environ-url-scheme": {
    section: "environ Variables",
    side: "server",
    catches: "a `wsgi.url_scheme` other than `http` or `https`",
    message: "wsgi.url_scheme unknown: {value}",
    raises: "AssertionError",
    origin: "same",
  },
  "input-attributes": {
    section: "Input and Error Streams",
    side: "server",
    catches:
      "a `wsgi.input` without `read`, `readline`, `readlines` or `[Symbol.iterator]` methods",
    message: "wsgi.input ({input}) doesn't have the attribute {attribute}",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python's `__iter__` is `[Symbol.iterator]`; each must be a function, where Python only asks `hasattr`.",
  },
  "errors-attributes": {
    section: "Input and Error Streams",
    side: "server",
    catches: "a `wsgi.errors` without `flush`, `write` or `writelines` methods",
    message: "wsgi.errors ({errors}) doesn't have the attribute {attribute}",
    raises: "AssertionError",
    origin: "adapted",
    note: "Each must be a function, where Python only asks `hasattr`.",
  },
  "environ-method": {
    section: "environ Variables",
    side: "server",
    catches:
      "a `REQUEST_METHOD` other than GET, HEAD, POST, OPTIONS, PATCH, PUT, DELETE and TRACE (Python's list)",
    message: "Unknown REQUEST_METHOD: {value}",
    raises: "WSGIWarning",
    origin: "same",
  },
  "environ-script-name-slash": {
    section: "environ Variables",
    side: "server",
    catches: "a non-empty `SCRIPT_NAME` not starting with `/`",
    message: "SCRIPT_NAME doesn't start with /: {value}",
    raises: "AssertionError",
    origin: "same",
  },
  "environ-path-info-slash": {
    section: "environ Variables",
    side: "server",
    catches: "a non-empty `PATH_INFO` not starting with `/`",
    message: "PATH_INFO doesn't start with /: {value}",
    raises: "AssertionError",
    origin: "same",
  },
  "environ-content-length": {
    section: "environ Variables",
    side: "server",
    catches: "a non-empty `CONTENT_LENGTH` that is not a decimal integer",
    message: "Invalid CONTENT_LENGTH: {value}",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python accepts what `int()` parses (`' 12'`, `'+12'`, `'1_000'`) and raises a `ValueError` for the rest; here only digits (RFC 3875 §4.1.2), anything else is this `AssertionError`.",
  },
  "environ-path-required": {
    section: "environ Variables",
    side: "server",
    catches: "no `PATH_INFO` when `SCRIPT_NAME` is empty or missing",
    message:
      "One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' if SCRIPT_NAME is empty)",
    raises: "AssertionError",
    origin: "same",
  },
  "environ-script-name-root": {
    section: "environ Variables",
    side: "server",
    catches: "`SCRIPT_NAME` set to `/`",
    message: "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'",
    raises: "AssertionError",
    origin: "same",
  },

  // Input and Error Streams
  "input-read-arguments": {
    section: "Input and Error Streams",
    side: "application",
    catches:
      "`wsgi.input.read()` called without a size (or with more than one argument), unless `readRequiresSize` is `false`",
    message:
      "wsgi.input.read() must be called with exactly one argument (got {count}); pass a size, or use validator(app, { readRequiresSize: false })",
    raises: "AssertionError",
    origin: "worded",
    note: "PEP 3333 says a server should allow `read()` without an argument, and Falcon's users found this check too strict; it is kept by default, as in Python, and `readRequiresSize: false` allows `read()`.",
  },
  "input-arguments": {
    section: "Input and Error Streams",
    side: "application",
    catches:
      "`readline()` or `readlines()` (or `read()` when `readRequiresSize` is `false`) called with more than one argument",
    message: "wsgi.input.{method}() takes at most one argument (got {count})",
    raises: "AssertionError",
    origin: "worded",
  },
  "input-result": {
    section: "Input and Error Streams",
    side: "server",
    catches: "`read()` or `readline()` returning anything but a `Uint8Array`",
    message: "wsgi.input.{method}() must return a Uint8Array: {value}",
    raises: "AssertionError",
    origin: "worded",
  },
  "input-readlines-result": {
    section: "Input and Error Streams",
    side: "server",
    catches: "`readlines()` returning anything but an array of `Uint8Array`",
    message: "wsgi.input.readlines() must return an array of Uint8Array: {value}",
    raises: "AssertionError",
    origin: "worded",
  },
  "input-close": {
    section: "Input and Error Streams",
    side: "application",
    catches: "the application closing `wsgi.input`",
    message: "input.close() must not be called",
    raises: "AssertionError",
    origin: "same",
  },
  "errors-write-type": {
    section: "Input and Error Streams",
    side: "application",
    catches: "`wsgi.errors.write()` or `writelines()` given anything but strings",
    message: "wsgi.errors.write() argument must be a string: {value}",
    raises: "AssertionError",
    origin: "worded",
  },
  "errors-close": {
    section: "Input and Error Streams",
    side: "application",
    catches: "the application closing `wsgi.errors`",
    message: "errors.close() must not be called",
    raises: "AssertionError",
    origin: "same",
  },

  // The start_response() Callable
  "start-response-arguments": {
    section: "The start_response() Callable",
    side: "application",
    catches: "`startResponse()` called with other than two or three arguments",
    message: "Invalid number of arguments: {args}",
    raises: "AssertionError",
    origin: "same",
    note: 'Python\'s "No keyword arguments allowed" has no counterpart: JavaScript has no keyword arguments.',
  },
  "status-type": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status that is not a string",
    message: "Status must be of type str (got {value})",
    raises: "AssertionError",
    origin: "same",
  },
  "status-code-length": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status whose first word is not three characters long (`'20 OK'`, `'200OK'`)",
    message: "Status codes must be three characters: {code}",
    raises: "AssertionError",
    origin: "same",
  },
  "status-code-digits": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status code that is not three ASCII digits (`'20X OK'`)",
    message: "Status message must begin w/3-digit code: {code}",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python's `int()` raises a `ValueError` here; the text is that of Python's handler (3.13), with the code.",
  },
  "status-code-range": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status code below 100",
    message: "Status code is invalid: {code}",
    raises: "AssertionError",
    origin: "same",
  },
  "status-control": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status with a control character (such as CR or LF: response splitting)",
    message: "Status must not contain control characters (got {value})",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: the status "must not contain control characters"; Python\'s validator does not check it (its handler does, since 3.13).',
  },
  "status-latin1": {
    section: "Unicode Issues",
    side: "application",
    catches: "a status with a code point above U+00FF",
    message: "Status must contain only code points up to U+00FF (latin-1): {value}",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: "It is a fatal error for an application to supply strings containing any other Unicode character".',
  },
  "status-reason": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a status without a space and a reason phrase after the code (`'200'`)",
    message:
      "The status string ({value}) should be a three-digit integer followed by a single space and a status explanation",
    raises: "WSGIWarning",
    origin: "same",
  },
  "headers-type": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header list that is not an array (an object, a `Headers`, a `Map`)",
    message: "Headers ({headers}) must be of type list: {type}",
    raises: "AssertionError",
    origin: "same",
  },
  "header-type": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header that is not a `[name, value]` array",
    message: "Individual headers ({header}) must be of type tuple: {type}",
    raises: "AssertionError",
    origin: "same",
  },
  "header-length": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header array that does not have exactly two items",
    message: "Individual headers ({header}) must have two items, a name and a value (got {count})",
    raises: "AssertionError",
    origin: "worded",
  },
  "header-name-type": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header name that is not a string",
    message: "Header name must be of type str (got {value})",
    raises: "AssertionError",
    origin: "same",
  },
  "header-value-type": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header value that is not a string (a number is the classic case)",
    message: "Header value must be of type str (got {value})",
    raises: "AssertionError",
    origin: "same",
  },
  "header-status": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a `Status` header (CGI's way to give the status)",
    message:
      "The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: {value}).",
    raises: "AssertionError",
    origin: "same",
  },
  "header-name-colon-newline": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header name containing `:` or a newline",
    message: "Header names may not contain ':' or '\\n': {name}",
    raises: "AssertionError",
    origin: "same",
  },
  "header-name-syntax": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header name that is not a letter followed by letters, digits, `-` and `_`",
    message: "Bad header name: {name}",
    raises: "AssertionError",
    origin: "same",
  },
  "header-name-end": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header name ending in `-` or `_`",
    message: "Names may not end in '-' or '_': {name}",
    raises: "AssertionError",
    origin: "same",
  },
  "header-value-chars": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a header value with a control character (U+0000 to U+001F, tab included, or U+007F)",
    message: "Bad header value: {value} (bad char: {char})",
    raises: "AssertionError",
    origin: "adapted",
    note: "U+007F (DEL) is added to Python's range: PEP 3333 forbids _any_ control character.",
  },
  "header-value-latin1": {
    section: "Unicode Issues",
    side: "application",
    catches: "a header value with a code point above U+00FF",
    message: "Header value must contain only code points up to U+00FF (latin-1): {value}",
    raises: "AssertionError",
    origin: "added",
    note: "PEP 3333, Unicode Issues, as for the status. (Names are ASCII by `header-name-syntax`.)",
  },
  "header-hop-by-hop": {
    section: "Other HTTP Features",
    side: "application",
    catches: "a hop-by-hop header (`Connection`, `Keep-Alive`, `Transfer-Encoding`, …)",
    message: "Hop-by-hop header, '{name}: {value}', not allowed",
    raises: "AssertionError",
    origin: "added",
    note: "Python's handler raises this (same text); its validator does not check it.",
  },
  "content-type-forbidden": {
    section: "The start_response() Callable",
    side: "application",
    catches: "a `Content-Type` header in a 204 or 304 response",
    message: "Content-Type header found in a {code} response, which must not return content.",
    raises: "AssertionError",
    origin: "same",
  },
  "content-type-missing": {
    section: "The start_response() Callable",
    side: "application",
    catches: "no `Content-Type` header in a response other than 204 and 304",
    message: "No Content-Type header found in headers ({headers})",
    raises: "AssertionError",
    origin: "same",
  },
  "exc-info-type": {
    section: "Error Handling",
    side: "application",
    catches:
      "an `excInfo` that is a Python-style `[type, value, traceback]` array or a boolean, not the caught error",
    message: "excInfo must be the caught error itself, not {kind}: {value}",
    raises: "AssertionError",
    origin: "adapted",
    note: "Python requires `None` or a `sys.exc_info()` tuple; in TypeScript `excInfo` is the thrown value itself, which may be anything thrown, so only the ported shapes are refused. `null` counts as absent.",
  },
  "start-response-twice": {
    section: "The start_response() Callable",
    side: "application",
    catches:
      "`startResponse()` called a second time without `excInfo` (even if the first call failed)",
    message: "startResponse() was called twice without excInfo",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: "it is a fatal error to call start_response without the exc_info argument if start_response has already been called"; Python\'s handler checks it ("Headers already set!"), its validator does not.',
  },
  "start-response-write": {
    section: "The start_response() Callable",
    side: "server",
    catches: "a server's `startResponse()` that does not return the `write` callable",
    message: "startResponse() must return a write(data) callable: {value}",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: start_response "must return a write(body_data) callable"; Python\'s validator wraps whatever comes back.',
  },

  // The write() Callable
  "write-type": {
    section: "The write() Callable",
    side: "application",
    catches: "`write()` given anything but a `Uint8Array` (a string, most often)",
    message: "write() argument must be a Uint8Array: {value}",
    raises: "AssertionError",
    origin: "worded",
  },
  "write-inside-body": {
    section: "The write() Callable",
    side: "application",
    catches: "`write()` called while the server is taking the next chunk from the body",
    message: "write() must not be called from within the application's iterable",
    raises: "AssertionError",
    origin: "added",
    note: 'PEP 3333: "Applications must not invoke write() from within their return iterable".',
  },
} as const satisfies Record<string, Check>;

/** The id of a check: a key of `CHECKS`. */
export type CheckId = keyof typeof CHECKS;

/** Values for a message's `{placeholders}`, already rendered. */
export type MessageValues = Readonly<Record<string, string | number>>;

const PLACEHOLDER = /\{(\w+)\}/g;

/** Fill in the `{placeholders}` of check `id`'s message. */
export function message(id: CheckId, values: MessageValues = {}): string {
  const template: string = CHECKS[id].message;
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    return value === undefined ? whole : String(value);
  });
}

/** Throw check `id`'s `AssertionError`. */
export function fail(id: CheckId, values?: MessageValues): never {
  throw new AssertionError({ message: message(id, values) });
}

// Distinct warnings remembered per validator; past this many, forget them all,
// so that messages carrying request data cannot grow the set without bound.
const MAX_REMEMBERED = 1000;

/**
 * Emit check `id`'s `WSGIWarning` on Node's warning channel, unless `seen` shows
 * that the same text was emitted before: Python's default warning filter shows
 * each distinct warning once, where Node would repeat it on every request.
 */
export function warn(seen: Set<string>, id: CheckId, values?: MessageValues): void {
  const text = message(id, values);
  if (seen.has(text)) {
    return;
  }
  if (seen.size >= MAX_REMEMBERED) {
    seen.clear();
  }
  seen.add(text);
  process.emitWarning(text, "WSGIWarning");
}

/** Render a value as Python's `%r` would, in JavaScript's notation (`'text'`, `[ 1, 0 ]`). */
export function repr(value: unknown): string {
  return inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY });
}

/** Name a value's type, for the messages where Python shows `type(x)`. */
export function typeName(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (typeof value !== "object") {
    return typeof value;
  }
  if (Array.isArray(value)) {
    return "Array";
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) {
    return "Object";
  }
  const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "Object";
}
