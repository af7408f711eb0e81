/**
 * What node:http2 refuses to send in a response head, told before anything is
 * sent: its `respond()` throws only when the response's first frame goes out,
 * and by then a transport that keeps the head for that frame (the server's
 * stream sink) or that adds the fields to the response one by one (the
 * compatibility API's `writeHead`) can no longer answer with an error page.
 */

import { show } from "./check.js";

/** The fields node:http2's `respond()` refuses twice (RFC 9110 gives each one value), lower case. */
const SINGLE_VALUED: ReadonlySet<string> = new Set([
  "access-control-allow-credentials",
  "access-control-max-age",
  "access-control-request-method",
  "age",
  "authorization",
  "content-encoding",
  "content-language",
  "content-length",
  "content-location",
  "content-md5",
  "content-range",
  "content-type",
  "date",
  "dnt",
  "etag",
  "expires",
  "from",
  "host",
  "if-match",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "if-unmodified-since",
  "last-modified",
  "location",
  "max-forwards",
  "proxy-authorization",
  "range",
  "referer",
  "retry-after",
  "tk",
  "upgrade-insecure-requests",
  "user-agent",
  "x-content-type-options",
]);

/**
 * Throw a `TypeError` if node:http2 would refuse field `name` (lower case;
 * `written`: as the application wrote it) with `value`: `HTTP2-Settings`
 * (RFC 9113 §8.2.2), or a single-valued field `repeated` (one of its name came
 * before it in the head).
 */
export function checkHttp2Field(
  name: string,
  written: string,
  value: string,
  repeated: boolean,
): void {
  if (name === "http2-settings") {
    throw new TypeError(`a response cannot carry HTTP2-Settings over HTTP/2: ${show(value)}`);
  }
  if (repeated && SINGLE_VALUED.has(name)) {
    throw new TypeError(`header ${written} is sent once at most over HTTP/2: ${show(value)}`);
  }
}

/** `checkHttp2Field` for each field of `fields` (name, value, name, value…). */
export function checkHttp2Fields(fields: readonly string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < fields.length; i += 2) {
    const written = fields[i] as string;
    const name = written.toLowerCase();
    checkHttp2Field(name, written, fields[i + 1] as string, seen.has(name));
    seen.add(name);
  }
}
