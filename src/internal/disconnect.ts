/**
 * Client disconnects: the one place that decides whether an output error means
 * "the client went away" (dropped quietly, as Python's `BaseHandler.run` drops
 * `BrokenPipeError`, `ConnectionResetError` and `ConnectionAbortedError`) or is a
 * real failure worth logging. The handlers and the server share it.
 */

// EPIPE, ECONNRESET, ECONNABORTED: Python's three exceptions, by their errno.
// The ERR_STREAM_* codes are how Node reports the same event on a Writable whose
// peer is gone: written after it was destroyed or ended, or closed under a write.
const DISCONNECT_CODES: ReadonlySet<string> = new Set([
  "EPIPE",
  "ECONNRESET",
  "ECONNABORTED",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Whether `err` says the client closed the connection (by its `code`). */
export function isDisconnect(err: unknown): boolean {
  if (typeof err !== "object" || err === null) {
    return false;
  }
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === "string" && DISCONNECT_CODES.has(code);
}

/**
 * The error for output to a stream that is already destroyed or closed, coded
 * `ERR_STREAM_DESTROYED` so `isDisconnect` recognises it.
 */
export function streamDestroyedError(what: string): Error & { code: string } {
  return Object.assign(new Error(`${what} was destroyed before the response was written`), {
    code: "ERR_STREAM_DESTROYED",
  });
}
