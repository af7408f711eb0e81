/**
 * The characters a header field's parts may hold, tested by a loop over the
 * string rather than a regular expression: these run on every field of every
 * response, and for strings this short a regular expression's call costs more
 * than the match.
 */

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
// "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. One bit per character from
// U+0020 to U+007F, 32 to a word.
const [TCHAR_LOW, TCHAR_MIDDLE, TCHAR_HIGH] = asciiSet(
  "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
);

/** A set of the characters `chars` (U+0020 to U+007F): one bit per character, 32 to a word. */
export function asciiSet(chars: string): readonly [number, number, number] {
  const bits: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < chars.length; i++) {
    const c = chars.charCodeAt(i) - 32;
    bits[c >> 5] = ((bits[c >> 5] as number) | (1 << (c & 31))) >>> 0;
  }
  return bits;
}

/** Whether the character of code `c` is in `set` (made by `asciiSet`). */
export function inAsciiSet(set: readonly [number, number, number], c: number): boolean {
  const i = c - 32;
  return i >= 0 && i < 96 && ((set[i >> 5] as number) & (1 << (i & 31))) !== 0;
}

// The field names most responses carry, as applications write them (and in
// lower case), each with its lower-case form: tokens, told by one lookup rather
// than a scan of their characters, which costs several times more for names
// this long.
const COMMON_NAMES: ReadonlyMap<string, string> = new Map(
  [
    "Accept-Ranges",
    "Access-Control-Allow-Origin",
    "Age",
    "Allow",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Range",
    "Content-Security-Policy",
    "Content-Type",
    "Date",
    "ETag",
    "Expires",
    "Last-Modified",
    "Link",
    "Location",
    "Pragma",
    "Referrer-Policy",
    "Retry-After",
    "Server",
    "Set-Cookie",
    "Strict-Transport-Security",
    "Vary",
    "WWW-Authenticate",
    "X-Content-Type-Options",
    "X-Frame-Options",
  ].flatMap((name) => {
    const lower = name.toLowerCase();
    return [
      [name, lower],
      [lower, lower],
    ] as const;
  }),
);

/**
 * `name` in lower case; for a common name, the one string kept for it, not a
 * new one: a head keyed by lower-case names (HTTP/2's) then reuses its keys.
 */
export function lowerFieldName(name: string): string {
  return COMMON_NAMES.get(name) ?? name.toLowerCase();
}

/** Whether `s` is one of the field names most responses carry (hence a token). */
export function isCommonName(s: string): boolean {
  return COMMON_NAMES.has(s);
}

/** Whether `s` is an HTTP token (RFC 9110 §5.6.2: 1*tchar). */
export function isToken(s: string): boolean {
  if (COMMON_NAMES.has(s)) return true;
  const length = s.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i) - 32;
    if (c < 0 || c >= 96) return false;
    const word = c < 32 ? TCHAR_LOW : c < 64 ? TCHAR_MIDDLE : TCHAR_HIGH;
    if ((word & (1 << (c & 31))) === 0) return false;
  }
  return true;
}

/**
 * Whether `s` holds a control character a field value (or a status line) must
 * not carry: any C0 control but HTAB, or DEL (CPython's `_value_disallowed_re`).
 */
export function hasValueControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** Whether `s` is one or more ASCII digits (RFC 9110 §8.6: Content-Length = 1*DIGIT). */
export function isDigits(s: string): boolean {
  const length = s.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
