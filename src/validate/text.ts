/**
 * Small tests on strings and objects for the validator's checks, written for
 * speed: the validator runs on every request, and these run many times in each.
 */

import { isLatin1 } from "../internal/latin1.js";

const WHITESPACE = /\s+/;

/**
 * Whether every key of REQUIRED_KEYS (validate.ts) is in `environ`, checked key by key with
 * literal names: V8 then answers each from an inline cache, some fifty times
 * faster than `in` with a variable key. (A key missing here and not from the
 * list would go unreported: the tests remove each required key in turn.)
 */
export function hasRequiredKeys(environ: Record<string, unknown>): boolean {
  return (
    "REQUEST_METHOD" in environ &&
    "SERVER_NAME" in environ &&
    "SERVER_PORT" in environ &&
    "wsgi.version" in environ &&
    "wsgi.input" in environ &&
    "wsgi.errors" in environ &&
    "wsgi.multithread" in environ &&
    "wsgi.multiprocess" in environ &&
    "wsgi.run_once" in environ &&
    "wsgi.url_scheme" in environ
  );
}

/** The first word of a status, as Python's `status.split(None, 1)[0]` (`""` when there is none). */
export function statusCode(status: string): string {
  // The usual case, "200 OK", without a regular expression.
  if (
    status.charCodeAt(3) === 32 &&
    isDigit(status, 0) &&
    isDigit(status, 1) &&
    isDigit(status, 2)
  ) {
    return status.slice(0, 3);
  }
  return status.trimStart().split(WHITESPACE, 1)[0] ?? "";
}

/** Whether `code` is three ASCII digits (Python's `int()` would also take "٢٠٠" or "+20"). */
export function isThreeDigits(code: string): boolean {
  return code.length === 3 && isDigit(code, 0) && isDigit(code, 1) && isDigit(code, 2);
}

/**
 * Whether every code point of `s` is ≤ U+00FF: `isLatin1`, with a plain loop for
 * the short strings most of an environ holds (faster there than a regular
 * expression, which wins on long ones).
 */
export function isNativeString(s: string): boolean {
  if (s.length > 64) {
    return isLatin1(s);
  }
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      return false;
    }
  }
  return true;
}

/** The number of a status code of three ASCII digits, without parsing. */
export function codeValue(code: string): number {
  return (code.charCodeAt(0) - 48) * 100 + (code.charCodeAt(1) - 48) * 10 + code.charCodeAt(2) - 48;
}

/** Whether the character at `index` of `s` is an ASCII digit. */
function isDigit(s: string, index: number): boolean {
  const c = s.charCodeAt(index);
  return c >= 48 && c <= 57;
}

/** Whether `value` is a plain object: its prototype is `Object.prototype` or `null`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
