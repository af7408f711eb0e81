/**
 * Response headers as a case-insensitive collection: a port of Python's
 * `wsgiref.headers`.
 *
 * `Headers` wraps a WSGI header list (`Array<[name, value]>`) in place and refuses,
 * on every way in, anything that could split a response: control characters (as
 * CPython does since gh-143916, CVE-2026-0865) and, beyond Python, names that are
 * not HTTP tokens.
 *
 * @module wsgiref/headers
 */

import { AssertionError } from "node:assert";
import { type InspectOptions, inspect } from "node:util";
import { equalsFoldedBoth } from "./internal/ascii-fold.js";
import { expectObject, show } from "./internal/check.js";
import { hasValueControl, isCommonName, isToken } from "./internal/field-chars.js";
import { isLatin1, latin1Bytes } from "./internal/latin1.js";

// CPython's _name_disallowed_re (and _value_disallowed_re, `hasValueControl`):
// HTAB may appear inside a field value (RFC 9110 §5.5) but never in a name; every
// other C0 control and DEL is refused, CR and LF above all, since they would end
// the header line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NAME_CONTROL = /[\x00-\x1F\x7F]/;

/** Python's `_convert_string_type`: anything but a string is an `AssertionError`. */
function checkType(value: unknown): asserts value is string {
  if (typeof value !== "string") {
    throw new AssertionError({
      message: `Header names/values must be of type str (got ${show(value)})`,
    });
  }
}

/** Check a name that will be stored: a header name, or a parameter name (`what`). */
function checkName(name: unknown, what = "header name"): asserts name is string {
  checkType(name);
  // RFC 9110 §5.1 and §5.6.2: field-name = token; parameter names are tokens too
  // (§5.6.6). A token has no control character: the second test only picks the message.
  if (!isToken(name)) {
    if (NAME_CONTROL.test(name)) {
      throw new TypeError(`${what} contains a control character: ${show(name)}`);
    }
    throw new TypeError(`${what} must be an HTTP token (RFC 9110 tchar): ${show(name)}`);
  }
}

/**
 * Check a value that will be stored under the header `name` (as its MIME
 * parameter `param`, when given).
 *
 * The message is built only on failure: this runs for every header of every
 * response, and rendering the name eagerly cost more than the check itself.
 */
function checkValue(value: unknown, name: unknown, param?: string): asserts value is string {
  checkType(value);
  if (hasValueControl(value)) {
    const what =
      param === undefined
        ? `header value for ${show(name)}`
        : `parameter ${show(param)} for ${show(name)}`;
    throw new TypeError(`${what} contains a control character: ${show(value)}`);
  }
}

/** Check one `[name, value]` pair on its way in, or on its way out after direct edits. */
function checkPairs(headers: readonly unknown[]): void {
  // A plain loop rather than forEach, which would skip the holes of a sparse array.
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`headers[${i}] must be a [name, value] pair: ${show(pair)}`);
    }
    const name: unknown = pair[0];
    checkName(name);
    checkValue(pair[1], name);
  }
}

/**
 * Check a looked-up name: the key `matches` compares stored names with.
 *
 * As in CPython, a lookup name is checked for its type and for control characters
 * (neither can ever match), but not for the token rule, so that `delete()` can
 * still remove an entry the caller pushed into the array directly. Field names are
 * case-insensitive in ASCII only (RFC 9110 §5.1), so `matches` folds only A-Z: Python's
 * `str.lower()` would also let the Kelvin sign U+212A stand for `k`.
 */
function lookupKey(name: unknown): string {
  checkType(name);
  // A common field name has no control character: no need to look.
  if (isCommonName(name)) return name;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      throw new TypeError(`header name contains a control character: ${show(name)}`);
    }
  }
  // Not lower-cased: `matches` folds both sides, where a folded copy would be a
  // new string for every lookup of a name such as `Content-Length`.
  return name;
}

/** Whether a stored pair has the name `key` (from `lookupKey`). */
function matches(pair: readonly [string, string], key: string): boolean {
  // The array is the caller's too, so an entry may not be what its type says.
  return Array.isArray(pair) && typeof pair[0] === "string" && equalsFoldedBoth(pair[0], key);
}

/**
 * Python's `_formatparam(param, value)` as `add_header` calls it, that is with
 * `quote=1`: every non-empty value is quoted (so its `tspecials` test never
 * decides anything), `\` and `"` escaped; an empty value leaves a bare name.
 */
function formatParam(param: string, value: string): string {
  if (value.length === 0) {
    return param;
  }
  return `${param}="${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * Manage a list of HTTP response headers, looked up case-insensitively.
 *
 * The array given is wrapped, not copied: every change made through the
 * `Headers` shows in it, and changes made to it show through the `Headers`.
 * Everything that enters through the constructor, `set()`, `setDefault()` or
 * `addHeader()` is checked: a name or value that is not a string is an
 * `AssertionError` (Python's message); a name with a control character or that is
 * not an HTTP token, or a value with a control character other than tab, is a
 * `TypeError` naming the header. Entries the caller puts into the array directly
 * bypass those checks, so `toString()` and `toBytes()` check every pair again and
 * throw rather than serialise an unsafe header.
 *
 * @see Python's `wsgiref.headers.Headers`
 */
export class Headers implements Iterable<[string, string]> {
  readonly #headers: Array<[string, string]>;

  /**
   * Wrap `headers` (a new empty array by default).
   *
   * Throws a `TypeError` if `headers` is not an array or holds something other
   * than `[name, value]` pairs, and checks every pair as described on the class.
   *
   * @see Python's `Headers.__init__`
   */
  constructor(headers: Array<[string, string]> = []) {
    if (!Array.isArray(headers)) {
      throw new TypeError(`headers must be an array of [name, value] pairs: ${show(headers)}`);
    }
    checkPairs(headers);
    this.#headers = headers;
  }

  /**
   * The number of headers, duplicates included.
   *
   * @see Python's `Headers.__len__`
   */
  get length(): number {
    return this.#headers.length;
  }

  /**
   * Set a header: remove every header named `name`, then append `[name, value]`.
   *
   * Both are checked before anything is removed, so a refused value leaves the
   * headers as they were (Python's `__setitem__` deletes first).
   *
   * @see Python's `Headers.__setitem__`
   */
  set(name: string, value: string): void {
    checkName(name);
    checkValue(value, name);
    this.delete(name);
    this.#headers.push([name, value]);
  }

  /**
   * Remove every header named `name`; a missing header is not an error.
   *
   * The wrapped array is edited in place.
   *
   * @see Python's `Headers.__delitem__`
   */
  delete(name: string): void {
    const key = lookupKey(name);
    const list = this.#headers;
    let kept = 0;
    for (const pair of list) {
      if (!matches(pair, key)) {
        list[kept] = pair;
        kept += 1;
      }
    }
    list.length = kept;
  }

  /**
   * Return the first value of the header `name`, or `defaultValue` (`undefined`
   * unless given) when there is none.
   *
   * @see Python's `Headers.get` and `Headers.__getitem__`
   */
  get(name: string): string | undefined;
  get<T>(name: string, defaultValue: T): string | T;
  get(name: string, defaultValue?: unknown): unknown {
    const key = lookupKey(name);
    for (const pair of this.#headers) {
      if (matches(pair, key)) {
        return pair[1];
      }
    }
    return defaultValue;
  }

  /**
   * Tell whether a header named `name` is present.
   *
   * @see Python's `Headers.__contains__`
   */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Return the first value of the header `name`; if there is none, append
   * `[name, value]` and return `value`.
   *
   * `name` and `value` are checked even when the header exists, so a bad
   * argument never goes unnoticed until the day the header is missing.
   *
   * @see Python's `Headers.setdefault`
   */
  setDefault(name: string, value: string): string {
    checkName(name);
    checkValue(value, name);
    const existing = this.get(name);
    if (existing !== undefined) {
      return existing;
    }
    this.#headers.push([name, value]);
    return value;
  }

  /**
   * Return every value of the header `name`, in order; `[]` when there is none.
   *
   * @see Python's `Headers.get_all`
   */
  getAll(name: string): string[] {
    const key = lookupKey(name);
    return this.#headers.filter((pair) => matches(pair, key)).map((pair) => pair[1]);
  }

  /**
   * Append a header with parameters, as in
   * `addHeader("Content-Disposition", "attachment", { filename: "bud.gif" })`.
   *
   * In a parameter name `_` becomes `-`. A `null` parameter is a bare flag; any
   * other is written `name="value"`, with `\` and `"` escaped (an empty string, as
   * in Python, also leaves the bare name). `value` may be `null` or `undefined` to
   * write only the parameters. Parameter names must be HTTP tokens and values are
   * checked like header values; nothing is appended unless all pass.
   *
   * @see Python's `Headers.add_header`
   */
  addHeader(
    name: string,
    value: string | null | undefined,
    params?: Record<string, string | null>,
  ): void {
    checkName(name);
    const parts: string[] = [];
    if (value !== null && value !== undefined) {
      checkValue(value, name);
      parts.push(value);
    }
    if (params !== undefined) {
      expectObject(params, "params");
      for (const [key, param] of Object.entries(params)) {
        checkName(key, `parameter name for ${show(name)}`);
        const paramName = key.replaceAll("_", "-");
        if (param === null) {
          parts.push(paramName);
        } else {
          checkValue(param, name, key);
          parts.push(formatParam(paramName, param));
        }
      }
    }
    this.#headers.push([name, parts.join("; ")]);
  }

  /**
   * Return the header names, in order, duplicates included (a new array).
   *
   * @see Python's `Headers.keys`
   */
  keys(): string[] {
    return this.#headers.map((pair) => pair[0]);
  }

  /**
   * Return the header values, in order, duplicates included (a new array).
   *
   * @see Python's `Headers.values`
   */
  values(): string[] {
    return this.#headers.map((pair) => pair[1]);
  }

  /**
   * Return the `[name, value]` pairs, in order, duplicates included.
   *
   * Both the array and each pair are copies: editing them changes nothing here.
   *
   * @see Python's `Headers.items`
   */
  items(): Array<[string, string]> {
    return this.#headers.map(([name, value]): [string, string] => [name, value]);
  }

  /**
   * Iterate over copies of the `[name, value]` pairs, as they were when
   * iteration began (so deleting while iterating is safe).
   */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.items()[Symbol.iterator]();
  }

  /**
   * Format the headers for the wire: `"Name: value\r\n"` for each, then `"\r\n"`.
   *
   * Every pair is checked again first (see the class), so a header the caller
   * put into the array directly cannot split the response.
   *
   * @see Python's `Headers.__str__`
   */
  toString(): string {
    checkPairs(this.#headers);
    let text = "";
    for (const [name, value] of this.#headers) {
      text += `${name}: ${value}\r\n`;
    }
    return `${text}\r\n`;
  }

  /**
   * Format the headers as `toString()` does, as latin-1 bytes.
   *
   * Throws a `TypeError` naming the header whose value has a code point above
   * U+00FF (where Python raises `UnicodeEncodeError`).
   *
   * @see Python's `Headers.__bytes__`
   */
  toBytes(): Uint8Array {
    const text = this.toString();
    // Names are tokens, hence ASCII, so only a value can be beyond latin-1: blame
    // it by its header's name, where Python's UnicodeEncodeError names no header.
    for (const [name, value] of this.#headers) {
      if (!isLatin1(value)) {
        latin1Bytes(value, `header value for ${show(name)}`);
      }
    }
    return latin1Bytes(text, "headers");
  }

  /**
   * Show as `Headers([ [ 'Name', 'value' ] ])` in `console.log` and `util.inspect`.
   *
   * @see Python's `Headers.__repr__`
   */
  [inspect.custom](_depth: number, options: InspectOptions, render: typeof inspect): string {
    return `${this.constructor.name}(${render(this.#headers, options)})`;
  }
}
