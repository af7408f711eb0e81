/**
 * Responses ended together: `WSGIServer.serveForever()` ends the responses of
 * one turn of the event loop after Node has delivered every request of that turn
 * (`setImmediate`: the check phase, right after the poll phase), not one by one
 * between them; only the first of a turn after a quiet one goes out at once.
 *
 * Why: each response that reaches a client on the same host (a proxy in front,
 * a load generator) may have to wake that client's thread, a cross-CPU interrupt
 * that costs the sending side microseconds of kernel time. Sent in one burst, the
 * responses of a turn find the client awake after the first. On the 2-core
 * benchmark VM this took hello world at 50 connections from 0.73-0.77x raw
 * `node:http` to 0.92-0.98x, and the 1 MiB body from 0.86-0.91x to 1.07x; raw
 * with the same batching gains as much (README "Performance"). Nothing waits
 * past the end of its own turn, and a lone connection's responses do not wait at
 * all: ending every response in the check phase cost hello world over one
 * connection 0.94x -> 0.82x raw in an A/B run.
 */

import type { ServerResponse } from "node:http";

// Pairs: response, last chunk (or undefined).
let queued: Array<ServerResponse | Uint8Array | undefined> = [];
// Responses given to endAfterTurn() in this turn, and in the last turn that had any.
let endsThisTurn = 0;
let endsLastTurn = 0;
let turnWatched = false;
let releases: Array<() => void> = [];

/**
 * End `res` (with `last` as its final chunk, if given) now, or once the current
 * turn's requests have been handled (in the check phase, or earlier through
 * `endQueued()`): at once when it is the first of its turn and the last turn
 * had at most one, so that a lone connection is not made to wait; queued when
 * the turn already ended one, or when the last turn ended several (the next
 * burst is likely on its way).
 */
export function endAfterTurn(res: ServerResponse, last: Uint8Array | undefined): void {
  endsThisTurn += 1;
  watchTurn();
  if (endsThisTurn === 1 && endsLastTurn < 2) {
    end(res, last);
    return;
  }
  queued.push(res, last);
}

/**
 * Run `release` at the end of the current turn (or at `endQueued()`): for a
 * response that holds its last chunk back for `endAfterTurn()`, to send the
 * chunk after all if the response has not ended by then (an asynchronous body
 * still finishing), so that no byte waits past its turn.
 */
export function releaseAfterTurn(release: () => void): void {
  releases.push(release);
  watchTurn();
}

/**
 * End every queued response now, in the order queued, after running the
 * releases. Called by the check phase, and by the server before it writes to or
 * closes connections, so that nothing queued is lost or overtaken.
 */
export function endQueued(): void {
  if (releases.length > 0) {
    const due = releases;
    releases = [];
    for (const release of due) release();
  }
  if (queued.length === 0) return;
  const batch = queued;
  queued = [];
  for (let i = 0; i < batch.length; i += 2) {
    const res = batch[i] as ServerResponse;
    if (!res.destroyed && !res.writableEnded) end(res, batch[i + 1] as Uint8Array | undefined);
  }
}

/** How many responses wait to be ended (for tests). */
export function queuedEnds(): number {
  return queued.length / 2;
}

function end(res: ServerResponse, last: Uint8Array | undefined): void {
  if (last === undefined) res.end();
  else res.end(last);
}

function watchTurn(): void {
  if (turnWatched) return;
  turnWatched = true;
  setImmediate(endTurn);
}

function endTurn(): void {
  turnWatched = false;
  endsLastTurn = endsThisTurn;
  endsThisTurn = 0;
  endQueued();
}
