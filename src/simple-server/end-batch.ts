/**
 * Responses ended together: `WSGIServer.serveForever()` ends the responses of
 * one turn of the event loop after Node has delivered every request of that turn
 * (`setImmediate`: the check phase, right after the poll phase), not one by one
 * between them.
 *
 * Why: each response that reaches a client on the same host (a proxy in front,
 * a load generator) may have to wake that client's thread, a cross-CPU interrupt
 * that costs the sending side microseconds of kernel time. Sent in one burst, the
 * responses of a turn find the client awake after the first. On the 2-core
 * benchmark VM this took hello world at 50 connections from 0.73x to 0.82x raw
 * `node:http` and the 1 MiB body from 0.91x to 1.15x (raw with the same batching
 * gains as much: see README "Performance"). Nothing waits past the end of its own
 * turn; a response alone in its turn goes out in that same turn.
 */

import type { ServerResponse } from "node:http";

// Pairs: response, last chunk (or undefined).
let queued: Array<ServerResponse | Uint8Array | undefined> = [];

/**
 * End `res` (with `last` as its final chunk, if given) once the current turn's
 * requests have been handled: in the check phase, or earlier through `endQueued()`.
 * A response destroyed meanwhile is skipped.
 */
export function endAfterTurn(res: ServerResponse, last: Uint8Array | undefined): void {
  queued.push(res, last);
  if (queued.length === 2) setImmediate(endQueued);
}

/**
 * End every queued response now, in the order queued. Called by the check phase,
 * and by the server before it closes connections, so that nothing queued is lost.
 */
export function endQueued(): void {
  if (queued.length === 0) return;
  const batch = queued;
  queued = [];
  for (let i = 0; i < batch.length; i += 2) {
    const res = batch[i] as ServerResponse;
    if (res.destroyed || res.writableEnded) continue;
    const last = batch[i + 1] as Uint8Array | undefined;
    if (last === undefined) res.end();
    else res.end(last);
  }
}

/** How many responses wait to be ended (for tests). */
export function queuedEnds(): number {
  return queued.length / 2;
}
