/**
 * The body stage for entry points that are handed a body rather than a socket:
 * a web `ReadableStream` (the Fetch API), any async iterable of chunks, or bytes
 * already in memory (a Lambda event), received into a `SpooledInput` within the
 * limits the server applies (`receiveBody` in `request-body.ts` is the
 * same stage over an `IncomingMessage`): 413 past `maxBodySize`, 408 when no
 * byte comes for `bodyTimeout`, a temporary file past `spoolThreshold`.
 */

import { markHandled } from "../internal/thenable.js";
import { SpooledInput } from "../streams/spooled-input.js";
import { BodyError, UNWRITTEN_MAX } from "./request-body.js";

/** The limits a body is received within (the fields of `ServerOptions` of the same names). */
export interface BodyLimits {
  /** Largest body accepted, in bytes; past it, a `BodyError` (413). */
  readonly maxBodySize: number;
  /** Bodies larger than this many bytes go to a temporary file. */
  readonly spoolThreshold: number;
  /** How long the body may go without a chunk, in milliseconds; past it, 408 (absent or 0: no limit). */
  readonly bodyTimeout?: number;
}

function tooLarge(max: number): BodyError {
  return new BodyError(413, `the request body is larger than maxBodySize (${max} bytes)`);
}

/**
 * Receive `bytes` into a `SpooledInput` (in memory up to `spoolThreshold`, else
 * a temporary file). Rejects with a `BodyError` (413) past `maxBodySize`.
 */
export async function receiveBytes(bytes: Uint8Array, limits: BodyLimits): Promise<SpooledInput> {
  if (bytes.length > limits.maxBodySize) throw tooLarge(limits.maxBodySize);
  const input = new SpooledInput(limits.spoolThreshold);
  try {
    if (bytes.length > 0) await input.write(bytes);
    await input.end();
  } catch (err) {
    input.close();
    throw err;
  }
  return input;
}

/** One chunk from a source, or the end; the pull can be given up. */
interface Puller {
  next(): Promise<IteratorResult<unknown>>;
  /** Give the source up: cancel a stream, return an iterator. Never throws. */
  abandon(reason: unknown): void;
}

function pullerOf(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Puller {
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<unknown>>,
      // cancel() settles a pending read too (done), which an iterator's return() would not.
      abandon: (reason) => markHandled(reader.cancel(reason)),
    };
  }
  const iterator = source[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    abandon: () => {
      const returned = iterator.return?.();
      if (returned !== undefined) markHandled(Promise.resolve(returned));
    },
  };
}

/**
 * Receive a whole request body from `source` into a `SpooledInput`.
 *
 * Rejects with a `BodyError` (413) as soon as the body grows past
 * `maxBodySize`, or (408) when no chunk came for `bodyTimeout`; with a
 * `TypeError` for a chunk that is not a `Uint8Array`; with the source's own
 * error when it fails (a client that went away). The source is cancelled and
 * the input closed then. While the body goes to the temporary file, no more is
 * read whenever more than 2 MiB wait to be written, so a fast sender cannot fill
 * the memory.
 */
export async function receiveStream(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  limits: BodyLimits,
): Promise<SpooledInput> {
  const input = new SpooledInput(limits.spoolThreshold);
  const max = limits.maxBodySize;
  const idleMax = limits.bodyTimeout ?? 0;
  const puller = pullerOf(source);
  let unwritten = 0;
  // The last write to the file: the spool writes in order, so once it is done all are.
  let lastWrite: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      if (idleMax > 0) {
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new BodyError(408, `the request body stalled past bodyTimeout (${idleMax} ms)`),
              ),
            idleMax,
          );
        });
        try {
          step = await Promise.race([puller.next(), stalled]);
        } finally {
          clearTimeout(timer);
        }
      } else {
        step = await puller.next();
      }
      if (step.done === true) break;
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(`a request body chunk must be a Uint8Array: ${typeof chunk}`);
      }
      if (input.length + chunk.length > max) throw tooLarge(max);
      if (chunk.length === 0) continue;
      const writing = input.write(chunk);
      if (input.length <= input.threshold) continue;
      // Bound for the file: let chunks come while the disk writes (the spool
      // writes them together), up to UNWRITTEN_MAX, then wait for the disk.
      unwritten += chunk.length;
      const size = chunk.length;
      lastWrite = writing.then(() => {
        unwritten -= size;
      });
      markHandled(lastWrite);
      if (unwritten > UNWRITTEN_MAX) await lastWrite;
    }
    if (lastWrite !== undefined) await lastWrite;
    await input.end();
    return input;
  } catch (err) {
    puller.abandon(err);
    input.close();
    throw err;
  }
}
