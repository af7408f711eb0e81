/**
 * `BytesInput`: a request body held in memory, read as Python's `io.BytesIO`.
 */

import { Buffer } from "node:buffer";
import { expectBytes } from "../internal/check.js";
import { type ByteSource, closedError, InputBase, MemorySource } from "./input-base.js";

/**
 * Read bytes from memory as Python's `io.BytesIO` does: a `wsgi.input` for tests
 * and for servers that already hold the whole body.
 *
 * `data` is copied, so changing it afterwards does not change what is read.
 * Every chunk returned is a new `Buffer` the caller owns. After `close()`, every
 * read throws `Error("I/O operation on closed file")`.
 *
 * @see Python's `io.BytesIO`; PEP 3333, "Input and Error Streams"
 */
export class BytesInput extends InputBase {
  #source: MemorySource | undefined;
  readonly #length: number;

  /** Hold a copy of `data` (empty when omitted). */
  constructor(data: Uint8Array = new Uint8Array(0)) {
    super();
    expectBytes(data, "data");
    this.#source = new MemorySource(Buffer.from(data));
    this.#length = data.length;
  }

  /** Count all the bytes, read or not; still known after `close()`. */
  get length(): number {
    return this.#length;
  }

  /** Release the bytes; later reads throw. Closing twice is harmless. */
  close(): void {
    this.#source = undefined;
  }

  /** Return the bytes, or throw once closed. */
  protected override source(): ByteSource {
    if (this.#source === undefined) throw closedError();
    return this.#source;
  }
}
