/**
 * The files of a `multipart/form-data` form: `FilePart`, one held in memory (its
 * bytes), and `DiskFilePart`, one kept in a temporary file and read from it when
 * asked, so that a large upload does not sit in the server's memory.
 */

import { Buffer } from "node:buffer";
import { closeSync, readSync, writev } from "node:fs";
import { expectInteger, show } from "../internal/check.js";
import { openAnonymousFile } from "../streams/spooled-input.js";
import type { FileLike } from "../types.js";

/** A reader over `length` bytes that `readAt` fills in, from the start. */
function reader(
  length: number,
  readAt: (position: number, target: Uint8Array) => void,
): FileLike & { close(): void } {
  let position = 0;
  let closed = false;
  return {
    read(size: number): Uint8Array {
      if (closed) throw new Error("I/O operation on closed file");
      expectInteger(size, "size");
      const count = Math.min(size < 0 ? length : size, length - position);
      const chunk = Buffer.allocUnsafeSlow(count);
      if (count > 0) readAt(position, chunk);
      position += count;
      return chunk;
    },
    close(): void {
      closed = true;
    },
  };
}

/**
 * A file of a `multipart/form-data` form held in memory: its bytes, with the name
 * and media type the client gave.
 *
 * A form's small files are `FilePart`s; larger ones are `DiskFilePart`s. Both
 * have `filename`, `contentType`, `byteLength`, `bytes()` and `open()`.
 */
export class FilePart extends Uint8Array {
  /** The file name the client sent (`""` when none). */
  readonly filename: string;
  /** The part's media type (in a parsed form, `text/plain` when the part has none: RFC 7578 §4.4). */
  readonly contentType: string;

  /** `Uint8Array`: views and copies made from a FilePart (subarray, slice, map) are plain bytes. */
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  /** Hold `data` (copied; chunks are joined) as the file `filename` of type `contentType`. */
  constructor(
    data: Uint8Array | readonly Uint8Array[],
    filename = "",
    contentType = "application/octet-stream",
  ) {
    const chunks = data instanceof Uint8Array ? [data] : data;
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    super(length);
    let offset = 0;
    for (const chunk of chunks) {
      this.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.filename = filename;
    this.contentType = contentType;
  }

  /** Return the bytes: this part itself (as `DiskFilePart.bytes()` reads its file). */
  bytes(): Uint8Array {
    return this;
  }

  /** Return a file-like reader of the bytes from the start (`read(size)`, `close()`). */
  open(): FileLike {
    return reader(this.byteLength, (position, target) => {
      target.set(this.subarray(position, position + target.length));
    });
  }
}

/** Write all of `chunks` at `position`, in as few `writev` calls as the OS allows. */
function writeAll(fd: number, chunks: Uint8Array[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (rest: Uint8Array[], at: number): void => {
      if (rest.length === 0) {
        resolve();
        return;
      }
      writev(fd, rest, at, (error, written) => {
        if (error) {
          reject(error);
          return;
        }
        let skip = written;
        let i = 0;
        while (i < rest.length && skip >= (rest[i] as Uint8Array).length) {
          skip -= (rest[i] as Uint8Array).length;
          i++;
        }
        const next = rest.slice(i);
        if (skip > 0 && next.length > 0) next[0] = (next[0] as Uint8Array).subarray(skip);
        step(next, at + written);
      });
    };
    step(chunks, position);
  });
}

/**
 * The temporary file of a form's large files, one after the other (one file and
 * one descriptor per form, however many parts): appended to while the form is
 * parsed, read at any position afterwards, freed by `close()`. Not exported from
 * the package: `DiskFilePart` is its face.
 */
export class TempFile {
  #fd: number | undefined;
  #length = 0;
  /** The last write queued; each waits for the one before, so appends stay in order. */
  #writes: Promise<void> = Promise.resolve();
  #pending = 0;
  #failure: { error: unknown } | undefined;

  constructor() {
    this.#fd = openAnonymousFile("wsgiref-form");
  }

  /** How many bytes were appended. */
  get length(): number {
    return this.#length;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#fd === undefined;
  }

  /** Append `chunks` (not to be changed until `flushed()` resolves). */
  append(chunks: Uint8Array[]): void {
    const fd = this.#fd;
    if (fd === undefined) throw new Error("the temporary file of a form file is closed");
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    const position = this.#length;
    this.#length += bytes;
    this.#pending += 1;
    this.#writes = this.#writes
      .then(() => (this.#failure === undefined ? writeAll(fd, chunks, position) : undefined))
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#pending -= 1;
      });
  }

  /** Resolve once every append is on disk; reject with the first write's error. */
  async flushed(): Promise<void> {
    await this.#writes;
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Fill all of `target` from `position`, synchronously. */
  readAt(position: number, target: Uint8Array): void {
    const fd = this.#fd;
    if (fd === undefined) {
      throw new Error(
        "this form file was removed when its request ended; read it while the handler runs",
      );
    }
    for (let done = 0; done < target.length; ) {
      const count = readSync(fd, target, done, target.length - done, position + done);
      if (count === 0) {
        throw new Error(`the temporary file of a form ended at byte ${position + done}`);
      }
      done += count;
    }
  }

  /** Free the file; again is harmless. A write still running finishes first. */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    // Closing the descriptor under a running write could make it land in whatever
    // file reuses the number next.
    if (this.#pending === 0) closeSync(fd);
    else void this.#writes.finally(() => closeSync(fd));
  }
}

/** Internal hooks for `form.ts`, set in `DiskFilePart`'s static block. */
export const diskFileInternals: {
  /** The temporary file holding `part`'s bytes. */
  file(part: DiskFilePart): TempFile;
} = {
  file: () => {
    throw new Error("DiskFilePart is not initialised");
  },
};

/**
 * A file of a `multipart/form-data` form kept in a temporary file, because it is
 * larger than `fileSpoolThreshold` or the form's memory (`maxFormMemory`) was
 * spent: the bytes are read from disk when asked for, each time.
 *
 * The file is removed when the request ends (`handlerApp` closes the request
 * once the gateway closes the body; a `Request` built by hand frees it with
 * `request.close()`): read it while the handler runs. `Buffer.from(part)` reads
 * it whole, as it does a `FilePart`, through `valueOf()`.
 *
 * Not constructed by users: `Request.POST` holds them.
 */
export class DiskFilePart {
  /** The file name the client sent (`""` when none). */
  readonly filename: string;
  /** The part's media type (in a parsed form, `text/plain` when the part has none: RFC 7578 §4.4). */
  readonly contentType: string;
  readonly #file: TempFile;
  readonly #offset: number;
  readonly #length: number;

  static {
    diskFileInternals.file = (part) => part.#file;
  }

  /**
   * The file part `filename` of type `contentType` whose `length` bytes are in
   * `file` from `offset`.
   */
  constructor(
    file: TempFile,
    offset: number,
    length: number,
    filename = "",
    contentType = "application/octet-stream",
  ) {
    if (!(file instanceof TempFile)) {
      throw new TypeError(`file must be the TempFile of a form: ${show(file)}`);
    }
    this.#file = file;
    this.#offset = offset;
    this.#length = length;
    this.filename = filename;
    this.contentType = contentType;
  }

  /** How many bytes the file has. */
  get byteLength(): number {
    return this.#length;
  }

  /** How many bytes the file has (as a `FilePart`'s `length`). */
  get length(): number {
    return this.#length;
  }

  /**
   * Read the whole file into memory (a new `Uint8Array` each call). Throws an
   * `Error` once the request has ended and the file is gone.
   */
  bytes(): Uint8Array {
    const bytes = Buffer.allocUnsafeSlow(this.#length);
    this.#file.readAt(this.#offset, bytes);
    return bytes;
  }

  /** The bytes, as `bytes()`: so `Buffer.from(part)` reads the file. */
  valueOf(): Uint8Array {
    return this.bytes();
  }

  /**
   * Return a file-like reader of the file from the start (`read(size)`,
   * `close()`), which can be a response's content: the file is then sent in
   * chunks, never whole in memory.
   */
  open(): FileLike {
    const file = this.#file;
    const offset = this.#offset;
    return reader(this.#length, (position, target) => file.readAt(offset + position, target));
  }
}
