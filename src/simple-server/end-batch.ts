/**
 * `EndBatch`: responses ended together once the requests of a turn of the event
 * loop have been handled (in the check phase, `setImmediate`, right after the
 * poll phase that delivered them), not one by one between them; only the first
 * of a turn after a quiet one goes out at once, so a lone connection never
 * waits. Owned by a `WSGIServer`, which hands it to its responses while
 * `serveForever()` runs.
 *
 * Why: each response that reaches a client on the same host (a proxy in front,
 * a load generator) may have to wake that client's thread, a cross-CPU
 * interrupt that costs the sending side kernel time; sent in one burst, the
 * responses of a turn find the client awake after the first. The measurements
 * are in docs/performance.md.
 */

/** What the batch ends: a `ServerResponse` is one. */
export interface Endable {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  end(chunk?: Uint8Array): unknown;
}

/** Responses ended with their turn of the event loop. */
export class EndBatch {
  // Pairs: response, last chunk (or undefined).
  #queued: Array<Endable | Uint8Array | undefined> = [];
  // Responses given to endAfterTurn() in this turn, and in the last turn that had any.
  #endsThisTurn = 0;
  #endsLastTurn = 0;
  #turnWatched = false;
  #releases: Array<() => void> = [];
  readonly #endTurn = (): void => {
    this.#turnWatched = false;
    // A turn that only released held chunks ended no response: it is no quiet turn.
    if (this.#endsThisTurn > 0) {
      this.#endsLastTurn = this.#endsThisTurn;
      this.#endsThisTurn = 0;
    }
    this.flush();
  };

  /**
   * End `res` (with `last` as its final chunk, if given) now, or once the
   * current turn's requests have been handled (in the check phase, or earlier
   * through `flush()`): at once when it is the first of its turn and the last
   * turn had at most one; queued when the turn already ended one, or when the
   * last turn ended several (the next burst is likely on its way).
   */
  endAfterTurn(res: Endable, last: Uint8Array | undefined): void {
    this.#endsThisTurn += 1;
    this.#watchTurn();
    if (this.#endsThisTurn === 1 && this.#endsLastTurn < 2) {
      end(res, last);
      return;
    }
    this.#queued.push(res, last);
  }

  /**
   * Run `release` at the end of the current turn (or at `flush()`): for a
   * response that holds its last chunk back for `endAfterTurn()`, to send the
   * chunk after all if the response has not ended by then (a body still
   * finishing), so that no byte waits past its turn.
   */
  releaseAfterTurn(release: () => void): void {
    this.#releases.push(release);
    this.#watchTurn();
  }

  /**
   * End every queued response now, in the order queued, after running the
   * releases. Called by the check phase, and by the server before it writes to
   * or closes connections, so that nothing queued is lost or overtaken.
   */
  flush(): void {
    if (this.#releases.length > 0) {
      const due = this.#releases;
      this.#releases = [];
      for (const release of due) release();
    }
    if (this.#queued.length === 0) return;
    const batch = this.#queued;
    this.#queued = [];
    for (let i = 0; i < batch.length; i += 2) {
      const res = batch[i] as Endable;
      if (!res.destroyed && !res.writableEnded) end(res, batch[i + 1] as Uint8Array | undefined);
    }
  }

  /** How many responses wait to be ended. */
  get queued(): number {
    return this.#queued.length / 2;
  }

  #watchTurn(): void {
    if (this.#turnWatched) return;
    this.#turnWatched = true;
    setImmediate(this.#endTurn);
  }
}

function end(res: Endable, last: Uint8Array | undefined): void {
  if (last === undefined) res.end();
  else res.end(last);
}
