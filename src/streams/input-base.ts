/**
 * The reading half shared by `BytesInput` and `SpooledInput`: the size and line
 * rules of Python's `io.BytesIO`, written once over a random-access `ByteSource`.
 */

import { Buffer } from "node:buffer";
import { expectInteger, show } from "../internal/check.js";
import type { InputStream } from "../types.js";

const NEWLINE = 0x0a;

/**
 * Bytes that can be read at any position, synchronously: memory or a file.
 *
 * Callers only ask for ranges inside `[0, length)`.
 */
export interface ByteSource {
  /** How many bytes there are. */
  readonly length: number;
  /** Fill all of `target` with the bytes that start at `position`. */
  readAt(position: number, target: Uint8Array): void;
  /** Find the first `\n` in `[start, end)`; `-1` when there is none. */
  indexOfNewline(start: number, end: number): number;
}

/** Serve bytes held in one `Buffer`. */
export class MemorySource implements ByteSource {
  readonly #bytes: Buffer;

  /** Serve `bytes` as they are (no copy: the caller hands them over). */
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** How many bytes there are. */
  get length(): number {
    return this.#bytes.length;
  }

  /** Fill all of `target` with the bytes that start at `position`. */
  readAt(position: number, target: Uint8Array): void {
    target.set(this.#bytes.subarray(position, position + target.length));
  }

  /** Find the first `\n` in `[start, end)`; `-1` when there is none. */
  indexOfNewline(start: number, end: number): number {
    return this.#bytes.subarray(0, end).indexOf(NEWLINE, start);
  }
}

/** Build the error every read of a closed stream throws (Python: `ValueError`). */
export function closedError(): Error {
  return new Error("I/O operation on closed file");
}

/** Check a size or hint argument; `undefined` and negative numbers both mean "no limit" (`-1`). */
function sizeArgument(value: unknown, name: string): number {
  if (value === undefined) return -1;
  expectInteger(value, name);
  return value;
}

/**
 * Read a byte source as Python's `io.BytesIO` reads its buffer.
 *
 * Every chunk returned is a new `Buffer` that owns its whole `ArrayBuffer`
 * (offset 0, not from Node's shared pool): the caller may keep or change it
 * without touching the stream or other chunks.
 *
 * @see Python's `io.BytesIO`
 */
export abstract class InputBase implements InputStream {
  #position = 0;

  /** Return the bytes to read, or throw when the stream cannot be read now (closed, not ready). */
  protected abstract source(): ByteSource;

  /**
   * Read at most `size` bytes; all that remain when `size` is omitted or negative.
   *
   * An empty result means the end of the input (or `size` 0).
   */
  read(size?: number): Uint8Array<ArrayBuffer> {
    const limit = sizeArgument(size, "size");
    const source = this.source();
    // seek() may have gone past the end: nothing remains there.
    const remaining = Math.max(0, source.length - this.#position);
    return this.#take(source, limit < 0 ? remaining : Math.min(limit, remaining));
  }

  /**
   * Read one line, up to and including its `\n`.
   *
   * With `size` ≥ 0, stop after `size` bytes even in the middle of a line; the
   * next call goes on from there. The last line may lack its `\n`. An empty
   * result means the end of the input.
   */
  readline(size?: number): Uint8Array<ArrayBuffer> {
    const limit = sizeArgument(size, "size");
    const source = this.source();
    const start = this.#position;
    if (start >= source.length) return this.#take(source, 0);
    const end = limit < 0 ? source.length : Math.min(source.length, start + limit);
    const newline = source.indexOfNewline(start, end);
    return this.#take(source, (newline < 0 ? end : newline + 1) - start);
  }

  /**
   * Read the remaining lines, stopping once their total length reaches `hint`.
   *
   * The line that reaches `hint` is included (Python: `readlines(2)` over
   * `"a\nbb\n"` gives `["a\n"]`, `readlines(3)` gives both). A missing, zero or
   * negative `hint` reads every line.
   */
  readlines(hint?: number): Uint8Array<ArrayBuffer>[] {
    const limit = sizeArgument(hint, "hint");
    const lines: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    for (let line = this.readline(); line.length > 0; line = this.readline()) {
      lines.push(line);
      total += line.length;
      if (limit > 0 && total >= limit) break;
    }
    return lines;
  }

  /** Return the position: how many bytes from the start the next read begins. */
  tell(): number {
    this.source();
    return this.#position;
  }

  /**
   * Move to `offset` bytes from the start (`whence` 0), from the position
   * (1) or from the end (2), and return the new position. A position past
   * the end is allowed (reads there give nothing), as in `io.BytesIO`.
   *
   * Throws a `TypeError` for a `whence` other than 0, 1 or 2 or a non-integer
   * offset, and a `RangeError` for a position before the start.
   */
  seek(offset: number, whence: 0 | 1 | 2 = 0): number {
    expectInteger(offset, "offset");
    if (whence !== 0 && whence !== 1 && whence !== 2) {
      throw new TypeError(`whence must be 0, 1 or 2: ${show(whence)}`);
    }
    const source = this.source();
    const base = whence === 0 ? 0 : whence === 1 ? this.#position : source.length;
    const position = base + offset;
    if (position < 0) throw new RangeError(`seek position must not be negative: ${position}`);
    this.#position = position;
    return position;
  }

  /**
   * Iterate over the remaining lines, as repeated `readline()` calls.
   *
   * The iterator shares the stream's position with the other methods.
   */
  *[Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>> {
    for (let line = this.readline(); line.length > 0; line = this.readline()) {
      yield line;
    }
  }

  /** Copy the next `count` bytes into a chunk of their own and move past them. */
  #take(source: ByteSource, count: number): Buffer<ArrayBuffer> {
    // allocUnsafeSlow: not a slice of Node's shared pool, so `chunk.buffer` is the chunk.
    const chunk = Buffer.allocUnsafeSlow(count);
    if (count > 0) source.readAt(this.#position, chunk);
    this.#position += count;
    return chunk;
  }
}
