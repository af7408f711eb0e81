/**
 * `ResponseHeaders`: the header fields a `Response` will send, by name (case
 * ignored), each with one or more values.
 *
 * Port of wptserve's `wptserve.response.ResponseHeaders`.
 */

import { expectPairs, show } from "../internal/check.js";

/** A header value as a handler gives it: a string, or a number written in decimal. */
export type HeaderValue = string | number;

function headerName(name: unknown): string {
  if (typeof name !== "string") throw new TypeError(`header name must be a string: ${show(name)}`);
  return name;
}

function headerText(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new TypeError(`${what} must be a string or a finite number: ${show(value)}`);
}

/**
 * The header fields of a response: names compare without case, keep the spelling
 * they were set with, and stay in the order first set; a name may hold several
 * values (`Set-Cookie`).
 *
 * Names and values are not checked here but where they are written: with
 * `addRequiredHeaders = false` a malformed header is sent exactly as given, which
 * is how clients are tested against bad servers; otherwise a name that is not a
 * token or a value with a control character is a `TypeError` when the head is
 * written, whether it goes through WSGI or raw (a hop-by-hop header, a body for
 * HEAD, `closeConnection`). See `ResponseWriter`.
 *
 * @see wptserve's `ResponseHeaders`
 */
export class ResponseHeaders implements Iterable<[string, string]> {
  // Folded name -> [name as last set, values], in the order names were first set.
  readonly #data = new Map<string, [string, string[]]>();

  /** Build headers from `[name, value]` pairs, appended in order. */
  constructor(items: Iterable<readonly [string, HeaderValue]> = []) {
    this.update(items);
  }

  /** Set `name` to `value` alone, replacing its values (it keeps its place). */
  set(name: string, value: HeaderValue): void {
    const key = headerName(name);
    this.#data.set(key.toLowerCase(), [key, [headerText(value, `value of header ${key}`)]]);
  }

  /** Add `value` to `name`, after any values it already has. */
  append(name: string, value: HeaderValue): void {
    const key = headerName(name);
    const text = headerText(value, `value of header ${key}`);
    const entry = this.#data.get(key.toLowerCase());
    if (entry === undefined) {
      this.#data.set(key.toLowerCase(), [key, [text]]);
    } else {
      entry[1].push(text);
    }
  }

  /**
   * Return every value of `name` (a new array): `[]` when it has none, or
   * `defaultValue` when one is given.
   */
  get(name: string): string[];
  get<D>(name: string, defaultValue: D): string[] | D;
  get(name: string, ...rest: [unknown?]): unknown {
    const entry = this.#data.get(headerName(name).toLowerCase());
    if (entry !== undefined) return [...entry[1]];
    return rest.length > 0 ? rest[0] : [];
  }

  /** Remove `name` and all its values; nothing happens when it is absent. */
  delete(name: string): void {
    this.#data.delete(headerName(name).toLowerCase());
  }

  /** Whether `name` has a value. */
  has(name: string): boolean {
    return this.#data.has(headerName(name).toLowerCase());
  }

  /** Append every `[name, value]` pair of `items`. */
  update(items: Iterable<readonly [string, HeaderValue]>): void {
    for (const [name, value] of expectPairs(items, "items")) {
      this.append(name, value);
    }
  }

  /** Return every `[name, value]` pair (a copy), grouped by name. */
  items(): Array<[string, string]> {
    return [...this];
  }

  /** Iterate over every `[name, value]` pair, grouped by name in the order names were first set. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [name, values] of this.#data.values()) {
      for (const value of values) {
        yield [name, value];
      }
    }
  }
}
