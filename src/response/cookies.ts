/**
 * Cookies both ways: a `Set-Cookie` value built from a name, a value and options,
 * every part checked before it can reach a header; and the `Cookie` request
 * header split into name/value pairs.
 *
 * The checks are RFC 6265 §4.1.1's grammar. CPython fixed exactly this hole in
 * `http.cookies` in 2026 (CVE-2026-0672): a control character or a `;` in a
 * cookie's value or attribute let the caller's data add attributes or split the
 * header.
 */

import { show } from "../internal/check.js";
import { formatDateTime } from "../internal/http-date.js";

/** A length of time, as Python's `datetime.timedelta`: the fields are added up. */
export interface Duration {
  /** Whole or fractional days. */
  days?: number;
  /** Hours, added to the rest. */
  hours?: number;
  /** Minutes, added to the rest. */
  minutes?: number;
  /** Seconds, added to the rest. */
  seconds?: number;
  /** Milliseconds, added to the rest. */
  milliseconds?: number;
}

/** The options of `Response.setCookie()`. */
export interface CookieOptions {
  /** The `Path` attribute; `"/"` when omitted, none when `null`. */
  path?: string | null;
  /** The `Domain` attribute. */
  domain?: string;
  /** The `Max-Age` attribute: seconds (truncated to an integer), or a `Duration`. */
  maxAge?: number | Duration;
  /** The `Expires` attribute: a `Date`, or a time from now (seconds, or a `Duration`). */
  expires?: Date | number | Duration;
  /** Add `Secure`. */
  secure?: boolean;
  /** Add `HttpOnly`. */
  httpOnly?: boolean;
  /** The `SameSite` attribute: `"Strict"`, `"Lax"` or `"None"` (any case). */
  sameSite?: string;
  /** The `Comment` attribute (RFC 2109; ignored by today's browsers). */
  comment?: string;
}

// RFC 9110 §5.6.2 token: what RFC 6265 §4.1.1 allows as a cookie-name.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 §4.1.1 cookie-value: cookie-octets, optionally in double quotes. No
// control character, space, `"`, `,`, `;` or `\`, nothing past U+007E.
const COOKIE_VALUE = /^("?)[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*\1$/;
// RFC 6265 §4.1.1 path-value (and the comment): any CHAR but controls and `;`.
const ATTRIBUTE_VALUE = /^[\x20-\x3A\x3C-\x7E]*$/;
// RFC 6265 §4.1.2.3 via RFC 1034 §3.5: labels of letters, digits and hyphens, an
// optional leading dot (which clients ignore).
const DOMAIN =
  /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const SAME_SITE = new Map([
  ["strict", "Strict"],
  ["lax", "Lax"],
  ["none", "None"],
]);

function isDuration(value: unknown): value is Duration {
  return typeof value === "object" && value !== null && !(value instanceof Date);
}

/** A `Duration` in milliseconds; a `TypeError` for a field that is not a finite number. */
function durationMs(duration: Duration, what: string): number {
  const fields: Array<[keyof Duration, number]> = [
    ["days", 86_400_000],
    ["hours", 3_600_000],
    ["minutes", 60_000],
    ["seconds", 1000],
    ["milliseconds", 1],
  ];
  let total = 0;
  for (const [field, unit] of fields) {
    const n: unknown = duration[field];
    if (n === undefined) continue;
    if (typeof n !== "number" || !Number.isFinite(n)) {
      throw new TypeError(`${what}.${field} must be a finite number: ${show(n)}`);
    }
    total += n * unit;
  }
  // Finite fields can still add up past the largest double (days: 1e305).
  if (!Number.isFinite(total)) {
    throw new RangeError(`${what} is too long to represent: ${show(duration)}`);
  }
  return total;
}

function seconds(value: unknown, what: string): number {
  if (isDuration(value)) return durationMs(value, what) / 1000;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number of seconds or a Duration: ${show(value)}`);
  }
  return value;
}

// The years a cookie-date can carry: four digits, and none before 1601.
const FIRST_COOKIE_YEAR = 1601;
const LAST_COOKIE_YEAR = 9999;

function expiresDate(expires: unknown, now: number): string {
  let ms: number;
  if (expires instanceof Date) {
    ms = expires.getTime();
    if (Number.isNaN(ms))
      throw new RangeError(`cookie expires is an invalid Date: ${show(expires)}`);
  } else {
    ms = now + seconds(expires, "cookie expires") * 1000;
  }
  // Python writes any year gmtime gives ("%4d"), but a browser drops an expires
  // whose year is not four digits or is before 1601 (RFC 6265 §5.1.1), and the
  // cookie then quietly lives only for the session: refuse it here instead.
  const year = new Date(Math.floor(ms / 1000) * 1000).getUTCFullYear();
  if (year < FIRST_COOKIE_YEAR || year > LAST_COOKIE_YEAR) {
    throw new RangeError(
      `cookie expires must fall in the years ${FIRST_COOKIE_YEAR} to ${LAST_COOKIE_YEAR} (RFC 6265 §5.1.1): ${show(expires)} gives the year ${year}`,
    );
  }
  return formatDateTime(ms);
}

function checkAttribute(value: unknown, what: string, pattern: RegExp): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string: ${show(value)}`);
  if (!pattern.test(value)) {
    throw new TypeError(
      `${what} must not contain control characters, ';' or characters past U+007E: ${show(value)}`,
    );
  }
  return value;
}

/**
 * Return a `Set-Cookie` value: `name=value`, then the attributes in the order of
 * Python's `Morsel.OutputString` (sorted by key: `Comment`, `Domain`, `expires`,
 * `HttpOnly`, `Max-Age`, `Path`, `SameSite`, `Secure`).
 *
 * Throws a `TypeError` when the name is not a token, when the value is not
 * cookie-octets (RFC 6265 §4.1.1: no control character, space, `"`, `,`, `;`,
 * `\` or non-ASCII; percent-encode such values), when an attribute holds a
 * control character or `;`, or when an option has the wrong type; a `RangeError`
 * when `expires` falls outside the years 1601 to 9999, which a cookie-date cannot
 * carry (Python writes them anyway and the browser drops the attribute).
 *
 * @see wptserve's `Response.set_cookie`; RFC 6265 §4.1
 */
export function formatSetCookie(
  name: string,
  value: string,
  options: CookieOptions = {},
  now = Date.now(),
): string {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`cookie name must be an HTTP token (RFC 6265 §4.1.1): ${show(name)}`);
  }
  if (typeof value !== "string" || !COOKIE_VALUE.test(value)) {
    throw new TypeError(
      `cookie value must be cookie-octets (RFC 6265 §4.1.1: no control character, space, '"', ',', ';', '\\' or non-ASCII; percent-encode it): ${show(value)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`cookie options must be an object: ${show(options)}`);
  }
  const parts = [`${name}=${value}`];
  const { comment, domain, expires, httpOnly, maxAge, sameSite, secure } = options;
  const path = options.path === undefined ? "/" : options.path;
  if (comment !== undefined) {
    parts.push(`Comment=${checkAttribute(comment, "cookie comment", ATTRIBUTE_VALUE)}`);
  }
  if (domain !== undefined) {
    if (typeof domain !== "string" || !DOMAIN.test(domain)) {
      throw new TypeError(`cookie domain must be a host name (RFC 1034 §3.5): ${show(domain)}`);
    }
    parts.push(`Domain=${domain}`);
  }
  if (expires !== undefined) parts.push(`expires=${expiresDate(expires, now)}`);
  if (httpOnly) parts.push("HttpOnly");
  if (maxAge !== undefined) {
    // Digits, as Python's "%d" writes them: String() would give 1e+21 from 1e21 on,
    // which is no delta-seconds (RFC 6265 §4.1.1: 1*DIGIT).
    parts.push(`Max-Age=${BigInt(Math.trunc(seconds(maxAge, "cookie maxAge")))}`);
  }
  if (path !== null) parts.push(`Path=${checkAttribute(path, "cookie path", ATTRIBUTE_VALUE)}`);
  if (sameSite !== undefined) {
    const canonical =
      typeof sameSite === "string" ? SAME_SITE.get(sameSite.toLowerCase()) : undefined;
    if (canonical === undefined) {
      throw new TypeError(`cookie sameSite must be "Strict", "Lax" or "None": ${show(sameSite)}`);
    }
    parts.push(`SameSite=${canonical}`);
  }
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

/** Return the cookie name a `Set-Cookie` value sets (what comes before its first `=`), trimmed. */
export function setCookieName(setCookie: string): string {
  const end = setCookie.indexOf("=");
  return (end === -1 ? setCookie : setCookie.slice(0, end)).trim();
}

/**
 * Split a `Cookie` request header into `[name, value]` pairs, in order.
 *
 * Pairs are separated by `;` (RFC 6265 §4.2.1); names and values are trimmed, a
 * value in double quotes loses them, and a pair without `=` or without a name is
 * skipped. Values are not percent-decoded (wptserve does not either).
 */
export function parseCookieHeader(header: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const item of header.split(";")) {
    const eq = item.indexOf("=");
    if (eq === -1) continue;
    const name = item.slice(0, eq).trim();
    if (name === "") continue;
    let value = item.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    pairs.push([name, value]);
  }
  return pairs;
}
