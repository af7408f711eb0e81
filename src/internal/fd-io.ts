/**
 * Synchronous streams over raw file descriptors, for CGI: the request body on
 * fd 0, the response on fd 1, diagnostics on fd 2.
 *
 * A CGI process serves exactly one request, so blocking its thread on its own
 * stdio is the point (Python's `CGIHandler` does the same with `sys.stdin.buffer`).
 * They bypass `process.stdin`/`process.stdout`, whose pipe handles libuv would
 * switch to non-blocking mode and read ahead.
 */

import { Buffer } from "node:buffer";
import { readSync, writeSync } from "node:fs";
import type { ErrorStream, InputStream } from "../types.js";
import { expectInteger } from "./check.js";

const CHUNK = 64 * 1024;

/** For `Atomics.wait`, the only synchronous wait Node offers. */
const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Block this thread until a non-blocking descriptor is likely ready again.
 *
 * Node has no synchronous `poll(2)`: when the descriptor we were handed shares its
 * open file description with a process that set `O_NONBLOCK` (a parent's
 * `2>&1`, a server's socketpair), `read`/`write` fail with `EAGAIN` and all we can
 * do is retry, backing off from 1 ms to 50 ms so an idle wait costs no CPU.
 */
function backoff(attempt: number): void {
  Atomics.wait(waitCell, 0, 0, Math.min(2 ** attempt, 50));
}

function isRetryable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR";
}

/** `readSync` that waits out `EAGAIN`/`EINTR`; 0 means end of file. */
function readFully(fd: number, buffer: Buffer, length: number): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return readSync(fd, buffer, 0, length, null);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      backoff(attempt);
    }
  }
}

/** Write every byte of `data` to `fd`, looping over partial writes and `EAGAIN`. */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  let attempt = 0;
  while (offset < data.byteLength) {
    try {
      offset += writeSync(fd, data, offset, data.byteLength - offset);
      attempt = 0;
    } catch (err) {
      if (!isRetryable(err)) throw err;
      backoff(attempt++);
    }
  }
}

/**
 * `wsgi.input` over a file descriptor, read lazily and never past `limit` bytes.
 *
 * The limit is `CONTENT_LENGTH`: a CGI server need not close the script's stdin
 * after the body (RFC 3875 §4.2), so reading to end of file could wait forever.
 * With no limit, reads go on until end of file.
 */
export class FdInput implements InputStream {
  readonly fd: number;
  #remaining: number;
  /** Bytes read from the descriptor but not yet returned, in order, each chunk kept as read. */
  #chunks: Buffer[] = [];
  #length = 0;
  #eof = false;

  /** Read from `fd`, at most `limit` bytes in all (no limit when omitted). */
  constructor(fd: number, limit?: number) {
    this.fd = fd;
    this.#remaining = limit ?? Number.POSITIVE_INFINITY;
  }

  /** Pull one more chunk from the descriptor; false at end of input. */
  #fill(): boolean {
    if (this.#eof || this.#remaining <= 0) return false;
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, this.#remaining));
    const n = readFully(this.fd, chunk, chunk.length);
    if (n === 0) {
      this.#eof = true;
      return false;
    }
    this.#remaining -= n;
    this.#chunks.push(chunk.subarray(0, n));
    this.#length += n;
    return true;
  }

  /**
   * Hand out the first `n` buffered bytes as a chunk of their own (not a view of
   * Node's pool), copying each byte once: the chunks stay apart until then, so a
   * long line is not joined again on every read.
   */
  #take(n: number): Buffer<ArrayBuffer> {
    const out = Buffer.allocUnsafeSlow(n);
    const chunks = this.#chunks;
    let copied = 0;
    let used = 0;
    while (copied < n) {
      const chunk = chunks[used] as Buffer;
      const count = Math.min(chunk.length, n - copied);
      chunk.copy(out, copied, 0, count);
      copied += count;
      if (count === chunk.length) used++;
      else chunks[used] = chunk.subarray(count);
    }
    if (used > 0) chunks.splice(0, used);
    this.#length -= n;
    return out;
  }

  /** Read `size` bytes (fewer only at end of input); all that remain when `size` is omitted or negative. */
  read(size?: number): Uint8Array<ArrayBuffer> {
    if (size !== undefined) expectInteger(size, "size");
    const want = size === undefined || size < 0 ? Number.POSITIVE_INFINITY : size;
    while (this.#length < want && this.#fill()) {
      // Keep reading: Python's buffered read(n) returns n bytes unless at end of input.
    }
    return this.#take(Math.min(want, this.#length));
  }

  /**
   * Read one line, `\n` included, or at most `size` bytes of it.
   *
   * Each chunk is searched once, and never past `size`: a line of n bytes costs
   * O(n) however it is read, where searching the whole buffer on every read
   * cost O(n²).
   */
  readline(size?: number): Uint8Array<ArrayBuffer> {
    if (size !== undefined) expectInteger(size, "size");
    const max = size === undefined || size < 0 ? Number.POSITIVE_INFINITY : size;
    const chunks = this.#chunks;
    // Bytes before chunks[next], all searched.
    let searched = 0;
    let next = 0;
    for (;;) {
      for (; next < chunks.length && searched < max; next++) {
        const chunk = chunks[next] as Buffer;
        // Not past `size`: many small reads of a long line must not each search a chunk.
        const room = max - searched;
        const nl = (room < chunk.length ? chunk.subarray(0, room) : chunk).indexOf(0x0a);
        if (nl !== -1) return this.#take(searched + nl + 1);
        searched += chunk.length;
      }
      if (searched >= max) return this.#take(max);
      if (!this.#fill()) return this.#take(this.#length);
    }
  }

  /** Read lines until their total length reaches `hint` (all lines when omitted or ≤ 0). */
  readlines(hint?: number): Uint8Array<ArrayBuffer>[] {
    if (hint !== undefined) expectInteger(hint, "hint");
    const lines: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint !== undefined && hint > 0 && total >= hint) return lines;
    }
  }

  /** Iterate over the remaining lines. */
  *[Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>> {
    for (;;) {
      const line = this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

/**
 * A response sink over a file descriptor for `SimpleHandler`: every `write` sends
 * all its bytes before returning (so no partial-write warning), synchronously.
 */
export class FdOutput {
  readonly fd: number;

  constructor(fd: number) {
    this.fd = fd;
  }

  /** Write all of `data`; returns its length. */
  write(data: Uint8Array): number {
    writeAllSync(this.fd, data);
    return data.byteLength;
  }

  /** Nothing to do: writes are not buffered. */
  flush(): void {}
}

/** `wsgi.errors` over a file descriptor: UTF-8 text written synchronously. */
export class FdErrors implements ErrorStream {
  readonly fd: number;

  constructor(fd: number) {
    this.fd = fd;
  }

  write(s: string): void {
    writeAllSync(this.fd, Buffer.from(s, "utf8"));
  }

  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  /** Nothing to do: writes are not buffered. */
  flush(): void {}
}
