/**
 * Fuzz target: `Headers` (wsgiref.headers) through every way in.
 *
 * Fields: an operation byte, a name, a value, then parameter name/value pairs for
 * `addHeader` (an odd last name is a bare flag, `null`). The oracle computes on
 * its own whether each call must be refused (SPEC §5: a name that is not a token
 * or holds a control character; a value with a control character other than tab)
 * and checks that refusals are the documented `TypeError`, and that whatever is
 * accepted reads back unchanged through `get()` and serialises to header lines
 * with no CR, LF or other control character inside them.
 */

import { AssertionError } from "node:assert";
import { Headers } from "../../src/headers.js";
import { check, expectDocumented, FuzzInput, isLatin1 } from "./input.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refused characters are the point
const NAME_CONTROL = /[\x00-\x1F\x7F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refused characters are the point
const VALUE_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refused characters are the point
const LINE_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;

const REFUSED: ReadonlyArray<readonly [typeof TypeError, RegExp]> = [
  [
    TypeError,
    /^(?:header name|parameter name for .*) (?:contains a control character|must be an HTTP token \(RFC 9110 tchar\)): /s,
  ],
  [TypeError, /^(?:header value|parameter .*) for .* contains a control character: /s],
];

const validName = (name: string): boolean => TOKEN.test(name);
const validValue = (value: string): boolean => !VALUE_CONTROL.test(value);

/** Swap the case of A-Z and a-z only, as header names compare. */
function swapAsciiCase(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => (c < "a" ? c.toLowerCase() : c.toUpperCase()));
}

/** Parse `name="value"` / `name` parameters, the inverse of Python's `_formatparam`. */
function parseParams(text: string): Array<[string, string | null]> {
  const params: Array<[string, string | null]> = [];
  let i = 0;
  while (i < text.length) {
    const name = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.exec(text.slice(i));
    check(name !== null, () => `no parameter name at ${i} in ${JSON.stringify(text)}`);
    i += name[0].length;
    let value: string | null = null;
    if (text[i] === "=") {
      check(text[i + 1] === '"', () => `unquoted parameter value in ${JSON.stringify(text)}`);
      i += 2;
      value = "";
      while (text[i] !== '"') {
        check(i < text.length, () => `unterminated quoted string in ${JSON.stringify(text)}`);
        if (text[i] === "\\") i += 1;
        value += text[i];
        i += 1;
      }
      i += 1;
    }
    params.push([name[0], value]);
    if (i < text.length) {
      check(
        text.slice(i, i + 2) === "; ",
        () => `parameters not separated by '; ' in ${JSON.stringify(text)}`,
      );
      i += 2;
    }
  }
  return params;
}

/** What any list of accepted headers must serialise to. */
function checkSerialised(headers: Headers, list: Array<[string, string]>): void {
  const text = headers.toString();
  check(
    text.endsWith("\r\n\r\n") || (list.length === 0 && text === "\r\n"),
    "toString() must end with a blank line",
  );
  const lines = text.slice(0, -2).split("\r\n").slice(0, -1);
  check(
    lines.length === list.length,
    () => `toString() has ${lines.length} lines for ${list.length} headers`,
  );
  lines.forEach((line, i) => {
    const [name, value] = list[i]!;
    check(line === `${name}: ${value}`, () => `line ${i} reads ${JSON.stringify(line)}`);
    check(
      !LINE_CONTROL.test(line),
      () => `control character in header line ${JSON.stringify(line)}`,
    );
  });
  const latin1 = isLatin1(text);
  try {
    const bytes = headers.toBytes();
    check(latin1, "toBytes() accepted a code point past U+00FF");
    check(Buffer.from(bytes).toString("latin1") === text, "toBytes() is not toString() in latin-1");
  } catch (err) {
    if (latin1) throw err;
    expectDocumented(err, [[TypeError, /must contain only code points up to U\+00FF \(latin-1\)/]]);
  }
}

function construct(H: typeof Headers, name: string, value: string): void {
  const list: Array<[string, string]> = [[name, value]];
  let headers: Headers;
  try {
    headers = new H(list);
  } catch (err) {
    check(!(validName(name) && validValue(value)), () => `refused a valid header: ${String(err)}`);
    expectDocumented(err, REFUSED);
    return;
  }
  check(validName(name) && validValue(value), () => `accepted ${JSON.stringify([name, value])}`);
  check(
    headers.get(swapAsciiCase(name)) === value,
    "get() with the other case does not return the value",
  );
  checkSerialised(headers, list);
}

function set(H: typeof Headers, name: string, value: string, useDefault: boolean): void {
  const list: Array<[string, string]> = [["X-Seed", "1"]];
  const headers = new H(list);
  try {
    if (useDefault) {
      const got = headers.setDefault(name, value);
      const wanted = name.toLowerCase() === "x-seed" ? "1" : value;
      check(got === wanted, "setDefault() does not return the stored value");
    } else {
      headers.set(name, value);
    }
  } catch (err) {
    check(!(validName(name) && validValue(value)), () => `refused a valid header: ${String(err)}`);
    expectDocumented(err, REFUSED);
    check(list.length === 1 && list[0]![0] === "X-Seed", "a refused set() changed the headers");
    return;
  }
  check(validName(name) && validValue(value), () => `accepted ${JSON.stringify([name, value])}`);
  const seed = name.toLowerCase() === "x-seed";
  const expected = useDefault && seed ? "1" : value;
  check(headers.get(name) === expected, "get() does not return what was set");
  check(headers.get(swapAsciiCase(name)) === expected, "get() is case-sensitive");
  check(headers.getAll(name).length === 1, "getAll() after set() has more than one value");
  check(headers.has(name), "has() is false after set()");
  checkSerialised(headers, list);
  headers.delete(swapAsciiCase(name));
  check(!headers.has(name) && list.length === (seed ? 0 : 1), "delete() left the header");
}

function addHeader(
  H: typeof Headers,
  name: string,
  value: string | null,
  params: Array<[string, string | null]>,
): void {
  const list: Array<[string, string]> = [];
  const headers = new H(list);
  const record: Record<string, string | null> = {};
  for (const [key, param] of params) record[key] = param;
  const entries = Object.entries(record);
  const valid =
    validName(name) &&
    (value === null || validValue(value)) &&
    entries.every(([key, param]) => validName(key) && (param === null || validValue(param)));
  try {
    headers.addHeader(name, value, record);
  } catch (err) {
    check(!valid, () => `refused a valid addHeader(): ${String(err)}`);
    expectDocumented(err, REFUSED);
    check(list.length === 0, "a refused addHeader() appended");
    return;
  }
  check(valid, () => `accepted addHeader(${JSON.stringify([name, value, record])})`);
  const stored = headers.get(name);
  check(stored !== undefined, "get() misses the added header");
  let rest = stored;
  if (value !== null) {
    check(stored.startsWith(value), "the value does not come first");
    rest = stored.slice(value.length);
    if (entries.length > 0) {
      check(rest.startsWith("; "), "the parameters do not follow '; '");
      rest = rest.slice(2);
    }
  }
  // Parameters with an empty value are written bare, as in Python.
  const expected = entries.map(([key, param]): [string, string | null] => [
    key.replaceAll("_", "-"),
    param === "" ? null : param,
  ]);
  // A value with '"' or ';' makes the split ambiguous: check those by their ending only.
  if (value === null || !/["\\;]/.test(value)) {
    const got = parseParams(rest);
    check(
      JSON.stringify(got) === JSON.stringify(expected),
      () => `parameters read back as ${JSON.stringify(got)}`,
    );
  }
  checkSerialised(headers, list);
}

/** Entries pushed into the wrapped array directly: toString() must refuse the unsafe ones. */
function direct(H: typeof Headers, name: string, value: string): void {
  const list: Array<[string, string]> = [];
  const headers = new H(list);
  list.push([name, value]);
  try {
    checkSerialised(headers, list);
  } catch (err) {
    check(
      !(validName(name) && validValue(value)),
      () => `toString() refused a valid header: ${String(err)}`,
    );
    expectDocumented(err, REFUSED);
    return;
  }
  check(
    validName(name) && validValue(value),
    () => `toString() wrote ${JSON.stringify([name, value])}`,
  );
}

/** Lookups check the type and control characters only, so that delete() can remove anything. */
function lookup(H: typeof Headers, name: string): void {
  const headers = new H([["X-Seed", "1"]]);
  try {
    headers.get(name);
    headers.getAll(name);
    headers.delete(name);
  } catch (err) {
    check(
      NAME_CONTROL.test(name),
      () => `a lookup refused ${JSON.stringify(name)}: ${String(err)}`,
    );
    expectDocumented(err, [[TypeError, /^header name contains a control character: /]]);
    return;
  }
  check(!NAME_CONTROL.test(name), () => `a lookup accepted ${JSON.stringify(name)}`);
}

/** A non-string value: Python's AssertionError. */
function wrongType(H: typeof Headers, name: string, value: string): void {
  try {
    new H().set(name, Number(value.length) as unknown as string);
  } catch (err) {
    // The name is checked first, so a bad name may be the reason.
    if (err instanceof TypeError) {
      expectDocumented(err, REFUSED);
      return;
    }
    expectDocumented(err, [
      [AssertionError, /^Header names\/values must be of type str \(got \d+\)$/],
    ]);
    return;
  }
  throw new Error("set() accepted a number as a value");
}

/** What the target checks: the `Headers` class (a broken one, in the oracle's own tests). */
export interface Subject {
  Headers: typeof Headers;
}

export function fuzz(data: Uint8Array, subject: Subject = { Headers }): void {
  const H = subject.Headers;
  const input = new FuzzInput(data);
  const op = input.byte();
  const name = input.string();
  const value = input.string();
  const params: Array<[string, string | null]> = [];
  while (input.remaining > 0) {
    const key = input.string();
    params.push([key, input.remaining > 0 ? input.string() : null]);
  }
  switch (op % 8) {
    case 0:
      construct(H, name, value);
      return;
    case 1:
      set(H, name, value, false);
      return;
    case 2:
      set(H, name, value, true);
      return;
    case 3:
      addHeader(H, name, value, params);
      return;
    case 4:
      addHeader(H, name, null, params);
      return;
    case 5:
      direct(H, name, value);
      return;
    case 6:
      lookup(H, name);
      return;
    default:
      wrongType(H, name, value);
  }
}

/** Seeds, as fields: from tests/headers.test.ts and CPython's test_wsgiref. */
export const seeds: readonly (readonly string[])[] = [
  ["0", "Content-Type", "text/plain"],
  ["1", "Foo", "bar"],
  ["1", "Foo", "bar\r\nSet-Cookie: x=1"],
  ["2", "X-Seed", "2"],
  ["3", "Content-Disposition", "attachment", "filename", "bud.gif"],
  ["3", "content-disposition", "attachment", "file_name", 'a "q" \\ b', "inline"],
  ["4", "Cache-Control", "", "no_cache", "", "max_age", "0"],
  ["5", "Bad Name", "x"],
  ["5", "X-Tab", "a\tb"],
  ["6", "SPAM"],
  ["6", "sp\nam"],
  ["7", "Foo", "x"],
  ["0", "X-Latin", "sp\xe4m"],
  ["0", "X-Wide", "snowman ☃"],
];
