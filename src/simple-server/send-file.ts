/**
 * A file sent as the body of a `node:http` response: by sendfile(2) when the
 * kernel route applies (`KernelSendfile`), else in blocks of 64 KiB, one at a
 * time.
 */

import { Buffer } from "node:buffer";
import { read, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import type { SentFile } from "../gateway/output-stage.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import type { KernelSendfile } from "./kernel-sendfile.js";

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

/**
 * The position of the file open on `fd` (where a read with no position starts),
 * or undefined where it cannot be known: Node has no lseek(2), so it is read
 * from Linux's `/proc/self/fdinfo` (elsewhere, or for a descriptor not open,
 * the read fails).
 */
export function filePosition(fd: number): number | undefined {
  let info: string;
  try {
    info = readFileSync(`/proc/self/fdinfo/${fd}`, "latin1");
  } catch {
    return undefined;
  }
  const match = /^pos:\s*(\d+)$/m.exec(info);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Wait for `res` to drain; reject with a disconnect error (naming `what` went
 * away) if it closes first.
 */
export function drained(res: Writable, what = "the client connection"): Promise<void> {
  if (res.destroyed) return Promise.reject(streamDestroyedError(what));
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off("drain", onDrain);
      reject(streamDestroyedError(what));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/**
 * Send the file open on `fd` from its current position to its end as the body of
 * `res` (whose headers are set): by `kernel` when given and its route applies
 * (`out` is the socket's descriptor, -1 for none), else in blocks of 64 KiB,
 * one at a time: the next is read once the socket has taken the last.
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
  kernel?: KernelSendfile,
  out = -1,
): Promise<SentFile> {
  const byKernel = await kernel?.send(fd, res, out, limit);
  if (byKernel !== undefined) {
    if (byKernel.ended || byKernel.sent < limit) return { sent: byKernel.sent, excess: false };
    // The limit is reached: one byte more tells whether the file goes on past it.
    const more = await readBlock(fd, Buffer.allocUnsafe(1), 1);
    return { sent: byKernel.sent, excess: more > 0 };
  }
  return streamFile(fd, res, limit);
}

/**
 * Send the file open on `fd` from its current position to `res` in blocks of
 * 64 KiB, the next read once `res` has taken the last, never more than `limit`
 * bytes (`excess` set when the file goes on past it). Rejects with a disconnect
 * error naming `what` when `res` is destroyed.
 */
export async function streamFile(
  fd: number,
  res: Writable,
  limit: number,
  what = "the client connection",
  blockSize = FILE_BLOCK,
): Promise<SentFile> {
  let sent = 0;
  // One byte more than the limit leaves: a small file gets a small block.
  let block: Buffer = Buffer.allocUnsafeSlow(Math.min(blockSize, limit + 1));
  for (;;) {
    // Each read asks for one byte more than the limit leaves: getting it tells a
    // file longer than the limit without reading further.
    const count = await readBlock(fd, block, limit - sent + 1);
    if (count === 0) return { sent, excess: false };
    if (res.destroyed) throw streamDestroyedError(what);
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
      await drained(res, what);
    } else {
      // Taken without a wait, it may still be on its way out: use a new one.
      block = Buffer.allocUnsafeSlow(block.length);
    }
  }
}
