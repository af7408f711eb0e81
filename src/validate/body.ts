/**
 * The validator's response body: a wrapper around what the application returned
 * that checks each chunk as the server takes it, that `startResponse()` came
 * first, that the server stops reading once it has called `close()`, calls it
 * once, and calls it at all (reported on stderr when the wrapper is
 * garbage-collected unclosed).
 *
 * Port of `IteratorWrapper` in Python's `wsgiref.validate`, for sync and async
 * iterables.
 */

import { isThenable } from "../internal/thenable.js";
import type { WSGIBody } from "../types.js";
import { CHECKS, fail, repr } from "./checks.js";

/** What one call of the validated application shares between its wrappers. */
export interface ResponseState {
  /** `startResponse()` was called, successfully or not. */
  called: boolean;
  /** `startResponse()` passed its checks (Python's `start_response_started`). */
  started: boolean;
  /** The server is inside the body's `next()`. */
  iterating: boolean;
  /** The validator's bodies waiting to be watched for collection unclosed. */
  readonly watch: UnclosedWatch;
}

// Python's IteratorWrapper.__del__. A finalizer cannot throw (that would crash
// the process), so unlike Python only the line on stderr remains. A body is
// unregistered when it is closed, so the finalizer only sees unclosed ones.
const unclosed = new FinalizationRegistry<undefined>(() => {
  process.stderr.write(`${CHECKS["body-not-closed"].message}\n`);
});

const PENDING_MAX = 256;

/**
 * The bodies of one validator waiting to be watched for collection unclosed.
 *
 * Registering costs about as much as all the other checks of a small response
 * together, and most bodies are closed within the turn of the event loop that
 * made them: bodies wait here (strongly held, so none can be collected unseen)
 * until the loop turns, and only those still open then are registered. A loop
 * that never turns (requests served back to back in microtasks) empties the
 * queue every PENDING_MAX bodies instead.
 */
export class UnclosedWatch {
  #pending: Array<IteratorWrapper | AsyncIteratorWrapper> = [];
  #scheduled = false;
  readonly #registerPending = (): void => {
    this.#scheduled = false;
    const bodies = this.#pending;
    this.#pending = [];
    for (const body of bodies) {
      body.register();
    }
  };

  /** Watch `body` once the loop has turned, unless it is closed by then. */
  enqueue(body: IteratorWrapper | AsyncIteratorWrapper): void {
    if (this.#pending.length >= PENDING_MAX) {
      this.#registerPending();
    }
    this.#pending.push(body);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#registerPending).unref();
    }
  }
}

/** A body's state, shared by the checks below; reachable only through its wrapper. */
interface BodyState {
  readonly original: WSGIBody;
  readonly response: ResponseState;
  closed: boolean;
  registered: boolean;
  // Python's check_start_response: pending until the first chunk.
  checkStart: boolean;
}

function newState(original: WSGIBody, response: ResponseState): BodyState {
  return { original, response, closed: false, registered: false, checkStart: true };
}

/** Watch for `wrapper` being collected unclosed (once the loop has turned). */
function register(wrapper: IteratorWrapper | AsyncIteratorWrapper, state: BodyState): void {
  if (!state.closed) {
    state.registered = true;
    unclosed.register(wrapper, undefined, wrapper);
  }
}

function beforeNext(state: BodyState): void {
  // Specification Details: after close(), the server uses the iterable no more
  if (state.closed) {
    fail("body-read-after-close");
  }
  state.response.iterating = true;
}

function afterNext(state: BodyState, step: IteratorResult<unknown>): IteratorResult<Uint8Array> {
  const response = state.response;
  response.iterating = false;
  if (step.done) {
    // Specification Details: start_response() is called by the time the body ends
    if (state.checkStart && !response.started) {
      fail("body-ended-before-start-response");
    }
    return step;
  }
  // Specification Details: the iterable yields bytestrings
  if (!(step.value instanceof Uint8Array)) {
    fail("body-chunk-type", { chunk: repr(step.value) });
  }
  if (state.checkStart) {
    // Specification Details: start_response() is called before the first bytestring
    if (!response.started) {
      fail("body-before-start-response");
    }
    state.checkStart = false;
  }
  return step as IteratorResult<Uint8Array>;
}

/** Mark the body closed, then call the application's `close()` when it has one. */
function close(wrapper: object, state: BodyState): void | Promise<void> {
  // Specification Details: the server calls close() once (SPEC.md §2: exactly once)
  if (state.closed) {
    fail("body-closed-twice");
  }
  state.closed = true;
  if (state.registered) {
    unclosed.unregister(wrapper);
  }
  const original = state.original;
  const closeOriginal: unknown = original.close;
  if (typeof closeOriginal === "function") {
    const closing: unknown = closeOriginal.call(original);
    if (isThenable(closing)) {
      return closing as Promise<void>;
    }
  }
  return undefined;
}

/**
 * A checked sync body: its own iterator, as Python's wrapper is.
 *
 * @see Python's `wsgiref.validate.IteratorWrapper`
 */
class IteratorWrapper implements IterableIterator<Uint8Array> {
  readonly #state: BodyState;
  readonly #iterator: Iterator<unknown>;

  constructor(original: Iterable<unknown> & WSGIBody, response: ResponseState) {
    this.#state = newState(original, response);
    // Python calls iter() at once: a body that cannot be iterated fails here.
    this.#iterator = original[Symbol.iterator]();
    response.watch.enqueue(this);
  }

  /** Watch for this body being collected unclosed. */
  register(): void {
    register(this, this.#state);
  }

  [Symbol.iterator](): IterableIterator<Uint8Array> {
    return this;
  }

  next(): IteratorResult<Uint8Array> {
    const state = this.#state;
    beforeNext(state);
    let step: IteratorResult<unknown>;
    try {
      step = this.#iterator.next();
    } catch (err) {
      state.response.iterating = false;
      throw err;
    }
    return afterNext(state, step);
  }

  /** Pass an early stop on (a `for...of` left by an error), so a generator's `finally` runs. */
  return(): IteratorResult<Uint8Array> {
    this.#iterator.return?.();
    return { done: true, value: undefined };
  }

  close(): void | Promise<void> {
    return close(this, this.#state);
  }
}

/**
 * A checked async body.
 *
 * @see Python's `wsgiref.validate.IteratorWrapper`
 */
class AsyncIteratorWrapper implements AsyncIterableIterator<Uint8Array> {
  readonly #state: BodyState;
  readonly #iterator: AsyncIterator<unknown>;

  constructor(original: AsyncIterable<unknown> & WSGIBody, response: ResponseState) {
    this.#state = newState(original, response);
    this.#iterator = original[Symbol.asyncIterator]();
    response.watch.enqueue(this);
  }

  /** Watch for this body being collected unclosed. */
  register(): void {
    register(this, this.#state);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    const state = this.#state;
    beforeNext(state);
    let step: IteratorResult<unknown>;
    try {
      step = await this.#iterator.next();
    } catch (err) {
      state.response.iterating = false;
      throw err;
    }
    return afterNext(state, step);
  }

  /** Pass an early stop on (a `for await...of` left by an error), so a generator's `finally` runs. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.#iterator.return?.();
    return { done: true, value: undefined };
  }

  close(): void | Promise<void> {
    return close(this, this.#state);
  }
}

/**
 * Wrap a body that passed the return checks: sync when it is sync-iterable (the
 * form a server prefers), async otherwise.
 */
export function wrapBody(body: WSGIBody, response: ResponseState): WSGIBody {
  if (typeof (body as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") {
    return new IteratorWrapper(body as Iterable<unknown> & WSGIBody, response);
  }
  return new AsyncIteratorWrapper(body as AsyncIterable<unknown> & WSGIBody, response);
}
