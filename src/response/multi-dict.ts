/**
 * `MultiDict`: a map from keys to one or more values, in the order they came,
 * for a request's query, form fields and cookies; and `RequestHeaders`, the same
 * with case-insensitive keys.
 *
 * Port of wptserve's `MultiDict` and `RequestHeaders` (`wptserve.request`).
 */

import { expectPairs, expectString, show } from "../internal/check.js";

/**
 * A read-mostly map whose keys may repeat: `get` gives the first value,
 * `getList` all of them, and iteration every `[key, value]` pair in the order
 * they were added.
 *
 * @see wptserve's `wptserve.request.MultiDict`
 */
export class MultiDict<V> implements Iterable<[string, V]> {
  readonly #pairs: Array<[string, V]> = [];
  // Folded key -> its values, and its spelling when first seen.
  readonly #values = new Map<string, V[]>();
  readonly #names = new Map<string, string>();

  /**
   * Build a map holding `entries`, in order (a key may repeat). Throws a
   * `TypeError` when `entries` is not an iterable of `[key, value]` pairs.
   */
  constructor(entries: Iterable<readonly [string, V]> = []) {
    for (const [key, value] of expectPairs(entries, "entries")) {
      this.add(key, value);
    }
  }

  /** How keys compare; overridden by `RequestHeaders` to ignore case. */
  protected foldKey(key: string): string {
    return key;
  }

  /** Add `value` under `key`, after any value it already has. */
  add(key: string, value: V): void {
    expectString(key, "key");
    const folded = this.foldKey(key);
    const values = this.#values.get(folded);
    if (values === undefined) {
      this.#values.set(folded, [value]);
      this.#names.set(folded, key);
    } else {
      values.push(value);
    }
    this.#pairs.push([key, value]);
  }

  /** Return the first value of `key`, or `undefined` when it has none. */
  get(key: string): V | undefined {
    return this.#list(key)?.[0];
  }

  /**
   * Return the first value of `key`; `defaultValue` when it has none.
   *
   * Throws a `RangeError` naming the key when it has no value and no default was
   * given (Python's `KeyError`).
   */
  first(key: string): V;
  first<D>(key: string, defaultValue: D): V | D;
  first(key: string, ...rest: [unknown?]): unknown {
    const values = this.#list(key);
    if (values !== undefined) return values[0];
    if (rest.length > 0) return rest[0];
    throw new RangeError(`key has no value: ${show(key)}`);
  }

  /**
   * Return the last value of `key`; `defaultValue` when it has none.
   *
   * Throws a `RangeError` naming the key when it has no value and no default was
   * given (Python's `KeyError`).
   */
  last(key: string): V;
  last<D>(key: string, defaultValue: D): V | D;
  last(key: string, ...rest: [unknown?]): unknown {
    const values = this.#list(key);
    if (values !== undefined) return values[values.length - 1];
    if (rest.length > 0) return rest[0];
    throw new RangeError(`key has no value: ${show(key)}`);
  }

  /** Return every value of `key`, in order (a new array; empty when it has none). */
  getList(key: string): V[] {
    const values = this.#list(key);
    return values === undefined ? [] : [...values];
  }

  /** Whether `key` has a value. */
  has(key: string): boolean {
    return this.#list(key) !== undefined;
  }

  /** Return each key once, in the order first seen, spelt as first seen. */
  keys(): string[] {
    return [...this.#names.values()];
  }

  /** How many distinct keys there are. */
  get length(): number {
    return this.#values.size;
  }

  /** Iterate over every `[key, value]` pair, in the order they were added. */
  *[Symbol.iterator](): Iterator<[string, V]> {
    for (const [key, value] of this.#pairs) {
      yield [key, value];
    }
  }

  #list(key: string): V[] | undefined {
    expectString(key, "key");
    return this.#values.get(this.foldKey(key));
  }
}

/**
 * A request's header fields: a `MultiDict` whose keys ignore case, named in lower
 * case (`content-type`).
 *
 * Built from the environ, where the server has already joined repeated fields
 * with `,` (RFC 3875 §4.1.18): such a field is one value here, as the environ holds it.
 *
 * @see wptserve's `wptserve.request.RequestHeaders`
 */
export class RequestHeaders extends MultiDict<string> {
  /** Compare names without case (RFC 9110 §5.1). */
  protected override foldKey(key: string): string {
    return key.toLowerCase();
  }
}
