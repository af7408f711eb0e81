/**
 * "Bytes in unicode" (PEP 3333): the one place that turns WSGI's native strings
 * into bytes and back. Every code point of such a string is ≤ U+00FF and stands
 * for one byte.
 */

import { Buffer } from "node:buffer";

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range must start at U+0000 to span latin-1.
const NON_LATIN1 = /[^\u0000-\u00ff]/u;

/** Whether every code point of `s` is ≤ U+00FF. */
export function isLatin1(s: string): boolean {
  return !NON_LATIN1.test(s);
}

/**
 * Encode a native string as its bytes.
 *
 * Throws a `TypeError` naming `what` when a code point is above U+00FF, where
 * Python would raise `UnicodeEncodeError`; Node's `latin1` encoding would
 * silently keep only the low byte.
 */
export function latin1Bytes(s: string, what = "string"): Buffer {
  const bad = NON_LATIN1.exec(s);
  if (bad !== null) {
    const cp = bad[0].codePointAt(0) ?? 0;
    throw new TypeError(
      `${what} must contain only code points up to U+00FF (latin-1): U+${cp.toString(16).toUpperCase().padStart(4, "0")} in ${JSON.stringify(s)}`,
    );
  }
  return Buffer.from(s, "latin1");
}

/** Decode bytes as a native string, one code point per byte. */
export function latin1String(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
