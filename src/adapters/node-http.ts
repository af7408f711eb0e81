/**
 * The seam between `node:http` and WSGI: a request's body received into a
 * `SpooledInput` within limits, and a file sent to a `ServerResponse` in large
 * blocks. (The request's head is checked and turned into an environ by
 * `gateway/request-head.ts`.)
 */

import { Buffer } from "node:buffer";
import { read } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { RequestLimits } from "../gateway/request-head.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { type ByteSource, closedError, InputBase, MemorySource } from "../streams/input-base.js";
import { SpooledInput } from "../streams/spooled-input.js";
import { sendFileByKernel } from "./kernel-sendfile.js";

// Read-only, so one serves every empty input (each keeps its own position).
const NO_BYTES: ByteSource = new MemorySource(Buffer.alloc(0));

/**
 * `wsgi.input` for a request without a body: reads as an empty `BytesInput`
 * does, for the price of one small object (most requests have no body).
 */
export class EmptyInput extends InputBase {
  #closed = false;

  /** Always 0. */
  get length(): number {
    return 0;
  }

  /** Make later reads throw, as for a closed file. */
  close(): void {
    this.#closed = true;
  }

  protected override source(): ByteSource {
    if (this.#closed) throw closedError();
    return NO_BYTES;
  }
}

/** Why a request body was not received: the status to answer it with. */
export class BodyError extends Error {
  /** The HTTP status the request gets (413, or 400/408 for framing and timeouts). */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

// A function that stops the body being received on a socket, set while one is.
const kReceiving = Symbol("wsgiref.receiving");
type ReceivingSocket = Socket & { [kReceiving]?: (err: Error) => boolean };

/**
 * Stop receiving the body of the request on `socket`, if one is being received
 * and Node has not read all of it, so that its handler answers it with `status`
 * (a framing error or timeout that Node reports on the socket). Returns whether
 * there was one.
 */
export function failReceiving(socket: Socket, status: number, message: string): boolean {
  const fail = (socket as ReceivingSocket)[kReceiving];
  return fail?.(new BodyError(status, message)) ?? false;
}

/** How many bytes of a spooled body may wait for the disk before the client is paused. */
const UNWRITTEN_MAX = 2 * 1024 * 1024;

/**
 * Receive the whole request body into a `SpooledInput`, de-chunked by Node.
 *
 * Rejects with a `BodyError` (413) as soon as the body grows past `maxBodySize`,
 * with a `BodyError` (408) when no byte of it came for `bodyTimeout`, with the
 * `BodyError` given to `failReceiving`, or with a disconnect error when the
 * client goes away; the input is closed then. While the body goes to the
 * temporary file, the request is paused whenever more than `UNWRITTEN_MAX`
 * bytes wait to be written, so a fast client cannot fill memory.
 */
export function receiveBody(req: IncomingMessage, limits: RequestLimits): Promise<SpooledInput> {
  const input = new SpooledInput(limits.spoolThreshold);
  const socket = req.socket as ReceivingSocket;
  const max = limits.maxBodySize;
  const idleMax = limits.bodyTimeout ?? 0;
  return new Promise<SpooledInput>((resolve, reject) => {
    let settled = false;
    // Restarted by every chunk, and while the request is paused for the disk
    // (the server's wait, not the client's).
    let idle: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      settled = true;
      clearTimeout(idle);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", fail);
      req.off("close", onClose);
      if (socket[kReceiving] === failIncomplete) socket[kReceiving] = undefined;
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      cleanup();
      req.pause();
      input.close();
      reject(err);
    };
    const resume = (): void => {
      if (settled) return;
      idle?.refresh();
      req.resume();
    };
    // Bytes handed to the spool's file and not yet written: past UNWRITTEN_MAX
    // the request is paused until they are, so a fast client cannot fill the
    // memory; below it, chunks keep coming while the disk writes, and the
    // spool writes them together.
    let unwritten = 0;
    let paused = false;
    const onData = (chunk: Buffer): void => {
      idle?.refresh();
      if (input.length + chunk.length > max) {
        fail(new BodyError(413, `the request body is larger than maxBodySize (${max} bytes)`));
        return;
      }
      const writing = input.write(chunk);
      if (input.length <= input.threshold) return;
      unwritten += chunk.length;
      writing.then(() => {
        unwritten -= chunk.length;
        if (paused && unwritten <= UNWRITTEN_MAX / 2) {
          paused = false;
          resume();
        }
      }, fail);
      if (unwritten > UNWRITTEN_MAX && !paused) {
        paused = true;
        req.pause();
      }
    };
    const onEnd = (): void => {
      cleanup();
      input.end().then(
        () => resolve(input),
        (err: unknown) => {
          input.close();
          reject(err);
        },
      );
    };
    const onClose = (): void => {
      if (!req.complete) fail(streamDestroyedError("the request"));
    };
    if (idleMax > 0) {
      idle = setTimeout(() => {
        if (paused) idle?.refresh();
        else fail(new BodyError(408, `the request body stalled past bodyTimeout (${idleMax} ms)`));
      }, idleMax);
    }
    // An error Node reports once the body is complete is in what follows it (a
    // request it cannot parse): this request is served, and that error answered
    // after it.
    const failIncomplete = (err: Error): boolean => {
      if (req.complete) return false;
      fail(err);
      return true;
    };
    socket[kReceiving] = failIncomplete;
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", fail);
    req.once("close", onClose);
  });
}

/**
 * Wait until `res` is given its socket (when the responses before it on the
 * connection are sent); resolves to false if the connection closes first.
 */
export function whenAssigned(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (res.socket !== null) return Promise.resolve(true);
  const socket = req.socket;
  // Closed already: its "close" is not coming again.
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onSocket = (): void => {
      socket.off("close", onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off("socket", onSocket);
      resolve(false);
    };
    res.once("socket", onSocket);
    socket.once("close", onClose);
  });
}

/**
 * How much of a file one read brings in. One block at a time per response, read
 * only once the socket has taken the one before: a client that stops reading
 * holds this much, however many such clients there are.
 */
const FILE_BLOCK = 64 * 1024;

function readBlock(fd: number, buffer: Buffer, max: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Position null: from the file's current position, which the read advances.
    read(fd, buffer, 0, Math.min(buffer.length, max), null, (err, bytesRead) => {
      if (err) reject(err);
      else resolve(bytesRead);
    });
  });
}

/** Wait for `res` to drain; reject with a disconnect error if it closes first. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off("drain", onDrain);
      reject(streamDestroyedError("the client connection"));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** What `sendFile` did: the bytes sent, and whether the file went on past the limit. */
export interface SentFile {
  sent: number;
  excess: boolean;
}

/**
 * Send the file open on `fd` from its current position to its end as the body of
 * `res` (whose headers are set): by sendfile(2) when the kernel route applies
 * (`kernel-sendfile.ts`), else in blocks of 64 KiB, one at a time: the next is
 * read once the socket has taken the last.
 *
 * Never sends more than `limit` bytes (the response's Content-Length): a file
 * longer than that is sent up to it and `excess` set. No read is in flight when
 * the promise settles, so the caller may close `fd` then. Rejects with a
 * disconnect error when the client goes away (or is dropped for not reading).
 */
export async function sendFile(
  fd: number,
  res: ServerResponse,
  limit = Number.POSITIVE_INFINITY,
): Promise<SentFile> {
  const byKernel = await sendFileByKernel(fd, res, limit);
  if (byKernel !== undefined) {
    if (byKernel.ended || byKernel.sent < limit) return { sent: byKernel.sent, excess: false };
    // The limit is reached: one byte more tells whether the file goes on past it.
    const more = await readBlock(fd, Buffer.allocUnsafe(1), 1);
    return { sent: byKernel.sent, excess: more > 0 };
  }
  let sent = 0;
  // One byte more than the limit leaves: a small file gets a small block.
  let block: Buffer = Buffer.allocUnsafeSlow(Math.min(FILE_BLOCK, limit + 1));
  for (;;) {
    // Each read asks for one byte more than the limit leaves: getting it tells a
    // file longer than the limit without reading further.
    const count = await readBlock(fd, block, limit - sent + 1);
    if (count === 0) return { sent, excess: false };
    if (res.destroyed) throw streamDestroyedError("the client connection");
    if (count > limit - sent) {
      // Past the limit: send what it leaves room for and stop (the caller ends
      // the response, so there is no drain to wait for).
      if (limit > sent) res.write(block.subarray(0, limit - sent));
      return { sent: limit, excess: true };
    }
    const mustWait = !res.write(count === block.length ? block : block.subarray(0, count));
    sent += count;
    if (mustWait) {
      // Once drained, the socket holds none of the block: it may be read into again.
      await drained(res);
    } else {
      // Taken without a wait, it may still be on its way out: use a new one.
      block = Buffer.allocUnsafeSlow(block.length);
    }
  }
}
