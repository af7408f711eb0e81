/**
 * The validator's `wsgi.input` and `wsgi.errors`: wrappers that check how the
 * application calls the streams and what the server's streams return, and that
 * offer nothing but the methods PEP 3333 lists.
 *
 * Port of `InputWrapper` and `ErrorWrapper` in Python's `wsgiref.validate`.
 */

import type { ErrorStream, InputStream } from "../types.js";
import { fail, repr } from "./checks.js";

/**
 * `wsgi.input` as the validated application sees it.
 *
 * @see Python's `wsgiref.validate.InputWrapper`; PEP 3333, "Input and Error Streams"
 */
export class InputWrapper implements InputStream {
  readonly #input: InputStream;
  readonly #readRequiresSize: boolean;

  constructor(input: InputStream, readRequiresSize: boolean) {
    this.#input = input;
    this.#readRequiresSize = readRequiresSize;
  }

  /** Check the call and the result of `read()`. */
  read(...args: Array<number | undefined>): Uint8Array<ArrayBuffer> {
    const count = args.length;
    // Input and Error Streams: read(size) takes the size (Python's validator insists on it)
    if (this.#readRequiresSize) {
      if (count !== 1) {
        fail("input-read-arguments", { count });
      }
    } else if (count > 1) {
      fail("input-arguments", { method: "read", count });
    }
    const data = count === 0 ? this.#input.read() : this.#input.read(args[0]);
    // Input and Error Streams: what is read is a bytestring
    if (!(data instanceof Uint8Array)) {
      fail("input-result", { method: "read", value: repr(data) });
    }
    return data;
  }

  /** Check the call and the result of `readline()`. */
  readline(...args: Array<number | undefined>): Uint8Array<ArrayBuffer> {
    const count = args.length;
    // Input and Error Streams: readline() takes at most the optional size
    if (count > 1) {
      fail("input-arguments", { method: "readline", count });
    }
    const line = count === 0 ? this.#input.readline() : this.#input.readline(args[0]);
    // Input and Error Streams: what is read is a bytestring
    if (!(line instanceof Uint8Array)) {
      fail("input-result", { method: "readline", value: repr(line) });
    }
    return line;
  }

  /** Check the call and the result of `readlines()`. */
  readlines(...args: Array<number | undefined>): Uint8Array<ArrayBuffer>[] {
    const count = args.length;
    // Input and Error Streams: readlines() takes at most the optional hint
    if (count > 1) {
      fail("input-arguments", { method: "readlines", count });
    }
    const lines = count === 0 ? this.#input.readlines() : this.#input.readlines(args[0]);
    // Input and Error Streams: what is read is a list of bytestrings
    if (!Array.isArray(lines) || !lines.every((line) => line instanceof Uint8Array)) {
      fail("input-readlines-result", { value: repr(lines) });
    }
    return lines;
  }

  /** Iterate over lines through the checked `readline()`, as Python's `__iter__` does. */
  *[Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>> {
    for (let line = this.readline(); line.length > 0; line = this.readline()) {
      yield line;
    }
  }

  /** Refuse: applications must not close `wsgi.input`. */
  close(): never {
    // Input and Error Streams: applications must not attempt to close these streams
    fail("input-close");
  }
}

/**
 * `wsgi.errors` as the validated application sees it.
 *
 * @see Python's `wsgiref.validate.ErrorWrapper`; PEP 3333, "Input and Error Streams"
 */
export class ErrorWrapper implements ErrorStream {
  readonly #errors: ErrorStream;

  constructor(errors: ErrorStream) {
    this.#errors = errors;
  }

  /** Check that `s` is a string, then write it. */
  write(s: string): void {
    // Input and Error Streams: errors is a text stream; write(str)
    if (typeof s !== "string") {
      fail("errors-write-type", { value: repr(s) });
    }
    this.#errors.write(s);
  }

  /** Write each string of `seq` through the checked `write()`. */
  writelines(seq: Iterable<string>): void {
    for (const line of seq) {
      this.write(line);
    }
  }

  /** Flush the server's stream. */
  flush(): void {
    this.#errors.flush();
  }

  /** Refuse: applications must not close `wsgi.errors`. */
  close(): never {
    // Input and Error Streams: applications must not attempt to close these streams
    fail("errors-close");
  }
}
