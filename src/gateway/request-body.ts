/**
 * The body stage every entry point shares: a request's body received whole into
 * `wsgi.input` (a `SpooledInput`: memory up to `spoolThreshold`, then a
 * temporary file) within `maxBodySize` and `bodyTimeout`, from a Node readable
 * that Node has de-chunked (`node:http`'s `IncomingMessage`, `node:http2`'s
 * compatibility request); `EmptyInput` for a request without one.
 */

import { Buffer } from "node:buffer";
import type { Readable } from "node:stream";
import { streamDestroyedError } from "../internal/disconnect.js";
import { type ByteSource, closedError, InputBase, MemorySource } from "../streams/input-base.js";
import { SpooledInput } from "../streams/spooled-input.js";
import type { RequestLimits } from "./request-head.js";

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

/**
 * A request body as Node delivers it: a readable of the de-chunked bytes that
 * says when all of them have arrived (an `IncomingMessage`, an
 * `Http2ServerRequest`).
 */
export type BodySource = Readable & { readonly complete: boolean };

/** A body being received: the input it ends in, and a way to fail it from outside. */
export interface ReceivingBody {
  /**
   * The whole body. Rejects with a `BodyError` (413) as soon as the body grows
   * past `maxBodySize`, with a `BodyError` (408) when no byte of it came for
   * `bodyTimeout`, with the error given to `failIncomplete`, or with a
   * disconnect error when the client goes away; the input is closed then.
   */
  readonly input: Promise<SpooledInput>;
  /**
   * Fail the body with `err` (a framing error or a timeout that the transport
   * reports elsewhere than on the request), unless all of it has arrived: an
   * error reported after that is about what follows the request. Returns
   * whether it failed the body.
   */
  failIncomplete(err: Error): boolean;
}

/**
 * How many bytes of a spooled body may wait for the disk before no more is
 * read (the client is paused): every body stage holds to it.
 */
export const UNWRITTEN_MAX = 2 * 1024 * 1024;

/**
 * Receive the whole body of `req` into a `SpooledInput` within `limits`. While
 * the body goes to the temporary file, the request is paused whenever more than
 * `UNWRITTEN_MAX` bytes wait to be written, so a fast client cannot fill memory.
 */
export function receiveBody(req: BodySource, limits: RequestLimits): ReceivingBody {
  const input = new SpooledInput(limits.spoolThreshold);
  const max = limits.maxBodySize;
  const idleMax = limits.bodyTimeout ?? 0;
  let settled = false;
  let fail: (err: unknown) => void = () => undefined;
  const received = new Promise<SpooledInput>((resolve, reject) => {
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
    };
    fail = (err: unknown): void => {
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
      // HTTP/2's compatibility request still ends, after 'aborted', when the
      // client resets its stream mid-body: what came so far is not the body.
      if ((req as { aborted?: boolean }).aborted === true) {
        fail(streamDestroyedError("the request"));
        return;
      }
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
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", fail);
    req.once("close", onClose);
  });
  return {
    input: received,
    failIncomplete(err: Error): boolean {
      if (settled || req.complete) return false;
      fail(err);
      return true;
    },
  };
}
