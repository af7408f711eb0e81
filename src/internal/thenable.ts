/**
 * Telling a promise from a plain value, so hot paths await only what is really
 * asynchronous: a handler whose hooks all return synchronously never yields to
 * the event loop between writes.
 */

/** Whether `value` is a thenable (a `Promise` or a promise-like object). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Mark a promise's rejection as handled without handling it: for a promise kept
 * to be awaited later, so Node does not report it as unhandled in the meantime.
 */
export function markHandled(promise: Promise<unknown>): void {
  promise.then(undefined, keepRejection);
}

function keepRejection(): void {
  // The rejection stays in the original promise; whoever awaits it sees it.
}
