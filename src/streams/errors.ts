/**
 * `wsgi.errors` streams: `StringErrors` collects the text (Python's
 * `io.StringIO`), `StreamErrors` passes it to a Node `Writable` such as
 * `process.stderr` (Python's `sys.stderr`).
 */

import type { Writable } from "node:stream";
import { expectString, show } from "../internal/check.js";
import type { ErrorStream } from "../types.js";

/** Check that `seq` can be iterated, so that `writelines(3)` is a clear `TypeError`. */
function expectIterable(seq: unknown): asserts seq is Iterable<unknown> {
  const iterator = (seq as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator];
  if (typeof iterator !== "function") {
    throw new TypeError(`seq must be an iterable of strings: ${show(seq)}`);
  }
}

/**
 * Collect error text in memory, as Python's `io.StringIO` does: the default
 * `wsgi.errors` of tests, read back with `getValue()`.
 *
 * @see Python's `io.StringIO`; PEP 3333, "Input and Error Streams"
 */
export class StringErrors implements ErrorStream {
  #value = "";

  /** Append `s`; anything but a string is a `TypeError`, as in Python 3. */
  write(s: string): void {
    expectString(s, "s");
    this.#value += s;
  }

  /**
   * Append each string of `seq`, in order; no newlines are added.
   *
   * A non-string item throws a `TypeError`, after the items before it were written.
   */
  writelines(seq: Iterable<string>): void {
    expectIterable(seq);
    for (const s of seq) {
      expectString(s, "each item of seq");
      this.#value += s;
    }
  }

  /** Do nothing: the text is stored as soon as it is written. */
  flush(): void {
    // Nothing is buffered, so there is nothing to flush.
  }

  /** Return all the text written so far. */
  getValue(): string {
    return this.#value;
  }
}

/**
 * Error codes that mean the reader has gone away: expected in the life of a
 * server, and no reason to crash it or lose the request being logged.
 */
const GONE = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNABORTED",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
]);

/** Whether `error` says the reader has gone away. */
function isGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && GONE.has(code);
}

/** Listen to an `error` event so that it is not thrown; used for errors that mean the reader left. */
function ignore(): void {
  // The write that failed has been dropped; nothing else to do.
}

/**
 * Write error text to a Node `Writable`, such as `process.stderr`.
 *
 * Text to a stream that is destroyed or ended is dropped, and a write that fails
 * because the reader went away (`EPIPE`, `ECONNRESET`, …) does not become an
 * uncaught `error` event, so a closed log pipe cannot crash the server. Any other
 * failure is left to the stream's owner: it is emitted as usual.
 *
 * @see Python's `sys.stderr`; PEP 3333, "Input and Error Streams"
 */
export class StreamErrors implements ErrorStream {
  readonly #writable: Writable;

  /** Write to `writable`, which stays the caller's to end or destroy. */
  constructor(writable: Writable) {
    const candidate = writable as Partial<Record<"write" | "once" | "listenerCount", unknown>>;
    if (
      typeof writable !== "object" ||
      writable === null ||
      typeof candidate.write !== "function" ||
      typeof candidate.once !== "function" ||
      typeof candidate.listenerCount !== "function"
    ) {
      throw new TypeError(`writable must be a Writable stream: ${show(writable)}`);
    }
    this.#writable = writable;
  }

  /** Write `s` (UTF-8); anything but a string is a `TypeError`. */
  write(s: string): void {
    expectString(s, "s");
    const writable = this.#writable;
    if (writable.destroyed || writable.writableEnded) return;
    writable.write(s, (error) => {
      // Node calls this back before it emits the write's `error` event, so a
      // one-time listener added now catches exactly that event. Only when no one
      // else listens: an owner that handles errors still sees them all. This is
      // what Node's own console.log does, but only for the reader going away.
      if (isGone(error) && writable.listenerCount("error") === 0) {
        writable.once("error", ignore);
      }
    });
  }

  /** Write each string of `seq`, in order; no newlines are added. */
  writelines(seq: Iterable<string>): void {
    expectIterable(seq);
    for (const s of seq) {
      expectString(s, "each item of seq");
      this.write(s);
    }
  }

  /**
   * Flush the writable when it has a `flush()` of its own (a zlib stream, say).
   *
   * Otherwise do nothing: a Node `Writable` hands each write to the system as soon
   * as it can, with nothing held back to flush.
   */
  flush(): void {
    const writable = this.#writable;
    const flush = (writable as { flush?: unknown }).flush;
    if (typeof flush === "function" && !writable.destroyed && !writable.writableEnded) {
      flush.call(writable);
    }
  }
}
