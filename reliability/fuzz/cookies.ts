/**
 * Fuzz target: cookies both ways (`src/response/cookies.ts`): `Set-Cookie`
 * values from `formatSetCookie`, and `Cookie` headers split by `parseCookieHeader`.
 *
 * Fields: an operation byte; for `formatSetCookie` a byte choosing which options
 * are given, the name, the value, then `path`, `domain`, `comment`, `sameSite`,
 * `maxAge` and `expires` (numbers as text); for `parseCookieHeader` the header.
 *
 * The oracle, after CVE-2026-0672 (control characters and `;` in a cookie let
 * the caller's data add attributes or split the header): a `Set-Cookie` value
 * either is refused with the documented `TypeError`/`RangeError`, or holds no
 * control character and nothing past U+007E, starts with exactly `name=value`,
 * and has exactly the attributes asked for, in Python's order, each as given;
 * `Headers` accepts it. A valid name and value with no options are never
 * refused. Parsing never throws and returns trimmed names without `;` or `=`
 * troubles, and reads back any header built from valid pairs.
 */

import { Headers } from "../../src/headers.js";
import {
  type CookieOptions,
  formatSetCookie,
  parseCookieHeader,
} from "../../src/response/cookies.js";
import { check, expectDocumented, FuzzInput } from "./input.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_VALUE = /^("?)[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*\1$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refused characters are the point
const UNSAFE = /[\x00-\x1F\x7F-\u{10FFFF}]/u;
const NOW = Date.UTC(2026, 11, 2, 3, 30, 0);
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

const REFUSED: ReadonlyArray<readonly [new (...args: never[]) => Error, RegExp]> = [
  [TypeError, /^cookie (?:name|value|domain|sameSite|path|comment|options|maxAge|expires)\b/],
  [
    RangeError,
    /^(?:cookie expires is an invalid Date|cookie (?:maxAge|expires) is too long to represent|cookie expires must fall in the years 1601 to 9999 \(RFC 6265 §5\.1\.1\)|ms must be a time within the range of Date): /,
  ],
];

function number(text: string): number {
  return text === "d" ? Number.NaN : Number(text);
}

function setCookie(input: FuzzInput, subject: Subject): void {
  const which = input.byte();
  const name = input.string();
  const value = input.string();
  const fields = [
    input.string(),
    input.string(),
    input.string(),
    input.string(),
    input.string(),
    input.string(),
  ];
  const options: CookieOptions = {};
  if (which & 1) options.path = fields[0] === "null" ? null : fields[0]!;
  if (which & 2) options.domain = fields[1]!;
  if (which & 4) options.comment = fields[2]!;
  if (which & 8) options.sameSite = fields[3]!;
  if (which & 16)
    options.maxAge = which & 64 ? { seconds: number(fields[4]!) } : number(fields[4]!);
  if (which & 32) options.expires = which & 128 ? new Date(number(fields[5]!)) : number(fields[5]!);
  if (which & 4 && which & 8 && which & 1) options.httpOnly = true;
  if (which & 2 && which & 16) options.secure = true;

  let header: string;
  try {
    header = subject.formatSetCookie(name, value, options, NOW);
  } catch (err) {
    expectDocumented(err, REFUSED);
    const plain = !(which & 0x3f);
    check(
      !(plain && TOKEN.test(name) && COOKIE_VALUE.test(value)),
      () => `a valid cookie was refused: ${String(err)}`,
    );
    return;
  }
  check(TOKEN.test(name), () => `accepted the name ${JSON.stringify(name)}`);
  check(COOKIE_VALUE.test(value), () => `accepted the value ${JSON.stringify(value)}`);
  check(!UNSAFE.test(header), () => `unsafe character in ${JSON.stringify(header)}`);
  const parts = header.split(";").map((part, i) => (i === 0 ? part : part.replace(/^ /, "")));
  check(parts[0] === `${name}=${value}`, () => `Set-Cookie starts ${JSON.stringify(parts[0])}`);

  const expected: string[] = [];
  if (options.comment !== undefined) expected.push(`Comment=${options.comment}`);
  if (options.domain !== undefined) expected.push(`Domain=${options.domain}`);
  if (options.expires !== undefined) expected.push("expires=");
  if (options.httpOnly) expected.push("HttpOnly");
  if (options.maxAge !== undefined) expected.push("Max-Age=");
  if (options.path !== null) expected.push(`Path=${options.path ?? "/"}`);
  if (options.sameSite !== undefined) expected.push(`SameSite=${options.sameSite}`);
  if (options.secure) expected.push("Secure");
  const attributes = parts.slice(1);
  check(
    attributes.length === expected.length,
    () => `${JSON.stringify(header)} does not have the attributes ${JSON.stringify(expected)}`,
  );
  attributes.forEach((attribute, i) => {
    const want = expected[i]!;
    if (want === "expires=") {
      check(
        IMF_FIXDATE.test(attribute.slice(8)),
        () => `expires is not an HTTP date: ${JSON.stringify(attribute)}`,
      );
    } else if (want === "Max-Age=") {
      check(
        /^Max-Age=-?\d+$/.test(attribute),
        () => `Max-Age is not an integer: ${JSON.stringify(attribute)}`,
      );
    } else if (want.startsWith("SameSite=")) {
      check(
        attribute.toLowerCase() === want.toLowerCase() &&
          /^SameSite=(?:Strict|Lax|None)$/.test(attribute),
        () => `bad ${attribute}`,
      );
    } else {
      check(
        attribute === want,
        () => `attribute ${i} is ${JSON.stringify(attribute)}, not ${JSON.stringify(want)}`,
      );
    }
  });
  // What the Response API does with it: a header, which must take it.
  new Headers().set("Set-Cookie", header);
  const [pair] = subject.parseCookieHeader(parts[0]!);
  const unquoted = value.length >= 2 && value.startsWith('"') ? value.slice(1, -1) : value;
  check(
    pair !== undefined && pair[0] === name && pair[1] === unquoted,
    "the cookie does not parse back",
  );
}

function parse(header: string, subject: Subject): void {
  const pairs = subject.parseCookieHeader(header);
  for (const [name, value] of pairs) {
    check(
      name !== "" && name === name.trim() && !name.includes(";") && !name.includes("="),
      () => `bad name ${JSON.stringify(name)}`,
    );
    check(!value.includes(";"), () => `bad value ${JSON.stringify(value)}`);
  }
  check(pairs.length <= header.split(";").length, "more pairs than items");
  // Valid pairs joined as a client joins them read back exactly.
  const valid = pairs.filter(
    ([name, value]) => TOKEN.test(name) && COOKIE_VALUE.test(value) && !value.startsWith('"'),
  );
  const joined = valid.map(([name, value]) => `${name}=${value}`).join("; ");
  check(
    JSON.stringify(subject.parseCookieHeader(joined)) === JSON.stringify(valid),
    () => `${JSON.stringify(joined)} does not read back`,
  );
}

/** What the target checks (broken versions, in the oracle's own tests). */
export interface Subject {
  formatSetCookie: typeof formatSetCookie;
  parseCookieHeader: typeof parseCookieHeader;
}

export function fuzz(
  data: Uint8Array,
  subject: Subject = { formatSetCookie, parseCookieHeader },
): void {
  const input = new FuzzInput(data);
  if (input.byte() % 2 === 0) setCookie(input, subject);
  else parse(input.string(), subject);
}

/** Seeds, as fields: from tests/response (wptserve's set_cookie cases, curl's jar). */
export const seeds: readonly (readonly string[])[] = [
  ["0", "@", "name", "value"],
  ["0", "\x3f", "sid", '"abc"', "/app", "example.com", "a comment", "Lax", "3600", "60"],
  ["0", "\x7f", "sid", "x", "null", ".example.com", "c", "none", "1.5", "1e300"],
  ["0", "\xff", "sid", "x", "/", "a-b.c", "c", "Strict", "-5", "d"],
  ["0", "\x01", "a", "b", "/x; Secure"],
  ["0", "\x04", "a", "b", "", "", "x\r\nSet-Cookie: y=1"],
  ["0", "@", "a b", "c"],
  ["0", "@", "a", "b;c"],
  // A finding, kept as a seed: Max-Age=1e+300.
  ["0", "\x10", "a", "b", "", "", "", "", "1e300"],
  ["0", "\x50", "a", "b", "", "", "", "", "1e306"],
  // A finding, kept as a seed: expires 5.31e12 s from now is the year 170237.
  ["0", "\x7f", "sid", "x", "null", "e.com", "c", "none", "1", "5.31e12"],
  ["0", "\xa0", "a", "b", "", "", "", "", "", "-1e14"],
  ["1", "a=b; c=d"],
  ["1", ' a = "b" ;;=x; c'],
  ["1", "sid=\u2603; ok=1"],
];
