/**
 * The shape of a fuzz input: fields separated by NUL bytes, so that the fuzzer's
 * byte mutations (insert, erase, cross over) keep most of an input's structure,
 * and seeds stay readable. Each target says what its fields mean.
 */

import { Buffer, isUtf8 } from "node:buffer";

/** The byte between fields. A NUL inside a field cannot be expressed; each target says how it copes. */
export const SEPARATOR = 0x00;

/** Read the fields of one fuzz input, in order; a missing field reads as empty. */
export class FuzzInput {
  readonly #fields: Buffer[] = [];
  #next = 0;

  constructor(data: Uint8Array) {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === SEPARATOR) {
        this.#fields.push(bytes.subarray(start, i));
        start = i + 1;
      }
    }
  }

  /** How many fields are left. */
  get remaining(): number {
    return this.#fields.length - this.#next;
  }

  /** The next field's bytes. */
  bytes(): Buffer {
    const field = this.#fields[this.#next];
    this.#next += 1;
    return field ?? Buffer.alloc(0);
  }

  /**
   * The next field as a string: UTF-8 when it is valid UTF-8 (so code points past
   * U+00FF occur), else one code point per byte (so every latin-1 byte does).
   */
  string(): string {
    const field = this.bytes();
    return field.toString(isUtf8(field) ? "utf8" : "latin1");
  }

  /** The next field as a small number: its first byte, or 0 when it is empty. */
  byte(): number {
    return this.bytes()[0] ?? 0;
  }
}

/** Whether every code point of `s` is at most U+00FF ("bytes in unicode"). */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return false;
  }
  return true;
}

/** Encode fields as one fuzz input (the inverse of `FuzzInput`), for seeds. */
export function encodeFields(fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  fields.forEach((field, i) => {
    if (i > 0) parts.push(Buffer.of(SEPARATOR));
    // Latin-1 text whose bytes are not valid UTF-8 is read back as latin-1.
    const latin1 = Buffer.from(field, "latin1");
    const asLatin1 = isLatin1(field) && !isUtf8(latin1);
    parts.push(asLatin1 ? latin1 : Buffer.from(field, "utf8"));
  });
  return Buffer.concat(parts);
}

/** Percent-decode `%XX` sequences to bytes read as latin-1, leaving anything else as it is. */
export function percentDecodeLatin1(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/**
 * Let through an error the code under test documents (its class, and a message
 * matching one of `messages`); throw anything else on, so the fuzzer reports it.
 */
export function expectDocumented(
  err: unknown,
  allowed: ReadonlyArray<readonly [new (...args: never[]) => Error, RegExp]>,
): void {
  for (const [type, message] of allowed) {
    // The exact class: a subclass (a FormError that is also an Error) must be named itself.
    if (
      err instanceof type &&
      Object.getPrototypeOf(err) === type.prototype &&
      message.test(err.message)
    ) {
      return;
    }
  }
  throw err;
}

/** An invariant that does not hold: what the fuzzer reports as a finding. */
export class OracleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OracleError";
  }
}

/** Throw an `OracleError` with `message` unless `condition` holds. */
export function check(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new OracleError(typeof message === "string" ? message : message());
}
