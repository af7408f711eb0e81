/**
 * Argument checks shared by the public functions: misuse of our API is a
 * `TypeError` that names the argument and shows the value (STYLE.md §5), never a
 * silent coercion or an `undefined is not a function` further down.
 */

import { inspect } from "node:util";

/** Render a value for an error message. */
export function show(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Number.POSITIVE_INFINITY });
}

/** Throw a `TypeError` unless `value` is a string. */
export function expectString(value: unknown, name: string): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(`${name} must be a string: ${show(value)}`);
  }
}

/** Throw a `TypeError` unless `value` is a plain object (an environ, an options bag). */
export function expectObject(
  value: unknown,
  name: string,
): asserts value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object: ${show(value)}`);
  }
}

/** Throw a `TypeError` unless `value` is a `Uint8Array` (a `Buffer` is one). */
export function expectBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array: ${show(value)}`);
  }
}

/** Throw a `TypeError` unless `value` is an integer (a size, a block length). */
export function expectInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer: ${show(value)}`);
  }
}

/** Throw a `TypeError` unless `value` is a boolean (a flag such as `multithread`). */
export function expectBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean: ${show(value)}`);
  }
}

/** Throw a `TypeError` unless `value` has a method `method` (a stream given to a handler). */
export function expectMethod(value: unknown, method: string, name: string): void {
  if (typeof (value as Record<string, unknown> | null | undefined)?.[method] !== "function") {
    throw new TypeError(`${name} must have a ${method}() method: ${show(value)}`);
  }
}

/**
 * The `[key, value]` pairs of `entries`, checked: a `TypeError` names `name` when
 * it is not iterable or holds anything but two-element arrays.
 */
export function* expectPairs<V>(
  entries: Iterable<readonly [string, V]>,
  name: string,
): Generator<readonly [string, V]> {
  if (
    typeof (entries as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(`${name} must be an iterable of [key, value] pairs: ${show(entries)}`);
  }
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new TypeError(`each of ${name} must be a [key, value] pair: ${show(entry)}`);
    }
    yield entry;
  }
}
