/**
 * `SpooledInput`: a request body received in full before the application runs,
 * kept in memory up to a threshold and in an anonymous temporary file past it.
 *
 * Counterpart of Python's `tempfile.SpooledTemporaryFile` as servers such as
 * waitress use it for `wsgi.input`.
 */

import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, unlinkSync, writev } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectBytes, expectInteger, show } from "../internal/check.js";
import { type ByteSource, closedError, InputBase, MemorySource } from "./input-base.js";

/** How much of the temporary file one read from disk brings into memory. */
const BLOCK = 64 * 1024;

/**
 * Chunks bound for the file that arrive while a write is running are written
 * together (one `writev`), up to about this many bytes: one trip to libuv's
 * thread pool per 64 KiB chunk made a spooled upload three times slower than
 * reading it.
 */
const BATCH = 1024 * 1024;
/** At most this many chunks to one `writev` (Linux's IOV_MAX). */
const BATCH_CHUNKS = 1024;

const DONE = Promise.resolve();

/** Chunks written to the file in one call, and the `Promise` of that write. */
interface Batch {
  readonly chunks: Uint8Array[];
  bytes: number;
  readonly position: number;
  done: Promise<void>;
}

/**
 * Create a temporary file under `os.tmpdir()` and unlink it at once.
 *
 * Only the descriptor remains, so the file disappears with the process however
 * it ends, even by SIGKILL. The name is 128 random bits and the file is created
 * with `O_EXCL` and mode 0o600, so no one can guess it, plant a symlink there or
 * read it in the instant it has a name.
 */
export function openAnonymousFile(prefix = "wsgiref-spool"): number {
  const path = join(tmpdir(), `${prefix}-${randomBytes(16).toString("hex")}`);
  const fd = openSync(path, "wx+", 0o600);
  try {
    unlinkSync(path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/** Write all of `chunks`, one after the other, at `position`, in as few calls as the OS allows. */
async function writeAllAtOnce(fd: number, chunks: Uint8Array[], position: number): Promise<void> {
  let rest = chunks;
  let at = position;
  while (rest.length > 0) {
    const written = await new Promise<number>((resolve, reject) => {
      writev(fd, rest, at, (error, count) => {
        if (error) reject(error);
        else resolve(count);
      });
    });
    at += written;
    rest = after(rest, written);
  }
}

/** What is left of `chunks` once their first `count` bytes are written. */
function after(chunks: Uint8Array[], count: number): Uint8Array[] {
  let skip = count;
  let i = 0;
  while (i < chunks.length && skip >= (chunks[i] as Uint8Array).length) {
    skip -= (chunks[i] as Uint8Array).length;
    i++;
  }
  const rest = chunks.slice(i);
  if (skip > 0 && rest.length > 0) rest[0] = (rest[0] as Uint8Array).subarray(skip);
  return rest;
}

/** Fill all of `target` from the file at `position`, synchronously. */
function readAllAt(fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.length) {
    const count = readSync(fd, target, done, target.length - done, position + done);
    if (count === 0) {
      throw new Error(`temporary file of SpooledInput ended early at byte ${position + done}`);
    }
    done += count;
  }
}

/**
 * Serve the bytes of the temporary file, keeping one block of it in memory so
 * that many short `readline()` calls do not each go to the disk.
 */
class FileSource implements ByteSource {
  readonly #fd: number;
  readonly length: number;
  readonly #block = Buffer.allocUnsafeSlow(BLOCK);
  #blockStart = 0;
  #blockLength = 0;

  constructor(fd: number, length: number) {
    this.#fd = fd;
    this.length = length;
  }

  readAt(position: number, target: Uint8Array): void {
    // A large read goes straight into its target rather than through the block.
    if (target.length >= BLOCK) {
      readAllAt(this.#fd, target, position);
      return;
    }
    for (let done = 0; done < target.length; ) {
      const bytes = this.#bytesAt(position + done);
      const count = Math.min(bytes.length, target.length - done);
      target.set(bytes.subarray(0, count), done);
      done += count;
    }
  }

  indexOfNewline(start: number, end: number): number {
    for (let at = start; at < end; ) {
      const bytes = this.#bytesAt(at);
      const count = Math.min(bytes.length, end - at);
      const found = bytes.subarray(0, count).indexOf(0x0a);
      if (found >= 0) return at + found;
      at += count;
    }
    return -1;
  }

  /** Return the bytes from `position` to the end of the block holding it, loading it if needed. */
  #bytesAt(position: number): Buffer {
    if (position < this.#blockStart || position >= this.#blockStart + this.#blockLength) {
      this.#blockLength = Math.min(BLOCK, this.length - position);
      this.#blockStart = position;
      readAllAt(this.#fd, this.#block.subarray(0, this.#blockLength), position);
    }
    return this.#block.subarray(position - this.#blockStart, this.#blockLength);
  }
}

/**
 * Receive a request body, then read it as a synchronous `wsgi.input`.
 *
 * Fill it with `await input.write(chunk)` for each chunk, then `await input.end()`;
 * from then on it reads from the start exactly as `BytesInput` does. Up to
 * `threshold` bytes stay in memory (copied, so the caller may reuse its chunks).
 * The write that brings the total past `threshold` moves everything to a
 * temporary file under `os.tmpdir()`, and later chunks are appended to it; memory
 * use stays about `threshold` whatever the body's size. The file is unlinked as
 * soon as it is created: only this object's descriptor keeps it, `close()` frees
 * it, and nothing is left on disk even if the process is killed.
 *
 * `write()` and `end()` always return a `Promise` (already resolved while the
 * body is in memory). Writes are applied in call order even when not awaited, but
 * a chunk that goes to the file must not be changed until its `Promise` settles,
 * and a server should await each write so that a fast client cannot queue up
 * memory. A failed write (disk full) rejects it and every later `write()` and
 * `end()`; then `close()` the input.
 *
 * Misuse throws at once rather than rejecting: a `TypeError` for a chunk that is
 * not a `Uint8Array`, an `Error` for `write()` after `end()` or any read before
 * the `Promise` of `end()` has resolved, and `Error("I/O operation on closed
 * file")` for anything but `close()` and `length` after `close()`.
 *
 * @see Python's `tempfile.SpooledTemporaryFile`; PEP 3333, "Input and Error Streams"
 */
export class SpooledInput extends InputBase {
  /** How many bytes may stay in memory; one more and the body goes to a temporary file. */
  readonly threshold: number;
  #length = 0;
  /** The body while it is in memory; `undefined` once it has gone to the file. */
  #chunks: Buffer[] | undefined = [];
  #fd: number | undefined;
  /** The last file operation queued; each waits for the one before. */
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #ending: Promise<void> | undefined;
  /** The batch still taking chunks: its write has not started. */
  #batch: Batch | undefined;
  #source: ByteSource | undefined;
  #closed = false;

  /** Keep up to `threshold` bytes in memory (1 MiB when omitted). */
  constructor(threshold = 1024 * 1024) {
    super();
    expectInteger(threshold, "threshold");
    if (threshold < 0) {
      throw new TypeError(`threshold must be a non-negative integer: ${show(threshold)}`);
    }
    this.threshold = threshold;
  }

  /** Count the bytes written so far: the body's length once `end()` has been called. */
  get length(): number {
    return this.#length;
  }

  /**
   * Append `chunk` to the body.
   *
   * Resolves once the chunk is stored (at once while in memory; after it is
   * written when it goes to the temporary file).
   */
  write(chunk: Uint8Array): Promise<void> {
    expectBytes(chunk, "chunk");
    if (this.#closed) throw closedError();
    if (this.#ending !== undefined) throw new Error("SpooledInput.write() was called after end()");
    this.#length += chunk.length;
    if (this.#chunks !== undefined && this.#length <= this.threshold) {
      this.#chunks.push(Buffer.from(chunk));
      return Promise.resolve();
    }
    const position = this.#length - chunk.length;
    if (this.#chunks === undefined) {
      const open = this.#batch;
      if (open !== undefined && open.bytes < BATCH && open.chunks.length < BATCH_CHUNKS) {
        open.chunks.push(chunk);
        open.bytes += chunk.length;
        return open.done;
      }
      const batch: Batch = { chunks: [chunk], bytes: chunk.length, position, done: DONE };
      this.#batch = batch;
      // The task that opened the file ran before this one; had it failed, this
      // one would not run (the queue stays rejected), so the descriptor is set.
      batch.done = this.#enqueue(() => {
        if (this.#batch === batch) this.#batch = undefined;
        return writeAllAtOnce(this.#fd!, batch.chunks, batch.position);
      });
      return batch.done;
    }
    // This chunk crosses the threshold: everything so far goes to a new file.
    const pieces: Uint8Array[] = [...this.#chunks, chunk];
    this.#chunks = undefined;
    return this.#enqueue(async () => {
      const fd = openAnonymousFile();
      this.#fd = fd;
      await writeAllAtOnce(fd, pieces, 0);
    });
  }

  /**
   * Mark the end of the body; once the `Promise` resolves, reads start from byte 0.
   *
   * Calling it again returns the same `Promise`.
   */
  end(): Promise<void> {
    if (this.#closed) throw closedError();
    this.#ending ??= this.#enqueue(async () => {
      this.#source =
        this.#chunks === undefined
          ? new FileSource(this.#fd!, this.#length)
          : new MemorySource(Buffer.concat(this.#chunks, this.#length));
      this.#chunks = undefined;
    });
    return this.#ending;
  }

  /**
   * Free the memory and the temporary file; later calls but `close()` throw.
   *
   * Closing twice is harmless. When a write to the file is still running, the
   * descriptor is closed as soon as it has finished, and the writes queued behind
   * it are dropped (their `Promise`s resolve).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = undefined;
    this.#source = undefined;
    // Closing the descriptor under a running write could make that write land in
    // whatever file reuses the descriptor number next.
    if (this.#queued === 0) {
      this.#release();
    } else {
      const release = (): void => this.#release();
      void this.#queue.then(release, release);
    }
  }

  /** Return the body once `end()` has resolved; throw before, and once closed. */
  protected override source(): ByteSource {
    if (this.#closed) throw closedError();
    if (this.#source === undefined) {
      throw new Error("SpooledInput was read before end() resolved; await end() first");
    }
    return this.#source;
  }

  /** Close the temporary file, if there is one. */
  #release(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Run `task` after every task queued before it, unless the input is closed by then. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    this.#queued += 1;
    const run = this.#queue
      .then(() => (this.#closed ? undefined : task()))
      .finally(() => {
        this.#queued -= 1;
      });
    this.#queue = run;
    return run;
  }
}
