/**
 * `SimpleHandler`: a `BaseHandler` over the streams and environ it is given, for
 * origin servers and test harnesses.
 *
 * Port of Python's `wsgiref.handlers.SimpleHandler`. Its `stdout` may be a Node
 * `Writable` (backpressure respected), an object whose `write()` returns how many
 * bytes it took (Python's raw-stream protocol), or one whose `write()` returns a
 * promise.
 */

import { Writable } from "node:stream";
import { expectBoolean, expectMethod, expectObject, show } from "../internal/check.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { isThenable } from "../internal/thenable.js";
import type { ErrorStream, InputStream, PartialEnvironment } from "../types.js";
import { BaseHandler } from "./base-handler.js";

/**
 * Where `SimpleHandler` writes the response: anything with `write(data)`, and
 * optionally `flush()`.
 *
 * `write()` may return nothing, the number of bytes it took (fewer than given
 * means "write the rest again"), a boolean (a Node `Writable`: `false` means
 * "wait for `drain`"), or a promise of either.
 *
 * @see Python's `SimpleHandler.stdout` (a raw or buffered binary stream)
 */
export interface OutputStream {
  /** Write `data`: a Node `Writable`'s boolean, a count of bytes taken, or a promise of either. */
  write(data: Uint8Array): unknown;
  /** Push out what is buffered; called after each write when present. */
  flush?(): unknown;
}

/** The parts of a Node `Writable` the handler relies on, for duck typing. */
interface WritableLike {
  write(data: Uint8Array): boolean;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly errored?: Error | null;
  readonly closed?: boolean;
}

function isWritableLike(out: unknown): out is WritableLike {
  if (out instanceof Writable) {
    return true;
  }
  const candidate = out as { once?: unknown; writableNeedDrain?: unknown };
  return typeof candidate.once === "function" && typeof candidate.writableNeedDrain === "boolean";
}

/** The error a stream that can no longer be written to stands for. */
function deadStreamError(out: WritableLike): Error {
  return out.errored ?? streamDestroyedError("stdout");
}

/** Wait for `drain`; reject if the stream errors or closes first. */
function drained(out: WritableLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(deadStreamError(out));
    };
    const cleanup = (): void => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
    };
    out.once("drain", onDrain);
    out.once("error", onError);
    out.once("close", onClose);
    // Destroyed inside write() and already closed: no event is coming.
    if (out.destroyed && out.closed === true) {
      onClose();
    }
  });
}

const PARTIAL_WRITE_WARNING = "SimpleHandler.stdout.write() should not do partial writes";

/**
 * Run applications over given streams and environ.
 *
 * `stdin` becomes `wsgi.input`, `stderr` `wsgi.errors` (and the error log),
 * `environ` is merged over `osEnviron` for each run. The streams given here
 * win: `wsgi.input` is always `stdin` and `wsgi.errors` always `stderr`, and a
 * `wsgi.input` or `wsgi.errors` in `environ` is replaced (as in Python), so a
 * test that wants a request body passes it as `stdin` (or uses
 * `wsgiref/testing`'s `Client`, which takes the body from the request).
 * `stdout` receives the
 * response (see `OutputStream`); it is flushed when it has a `flush()`, but never
 * ended or closed: the caller owns it. A Node `Writable` is written with
 * backpressure: when `write()` returns `false` the handler waits for `drain`,
 * and an `error` or `close` meanwhile counts as a client disconnect when its code
 * says so. Outside those waits, the stream's owner handles its `error` events.
 *
 * @example
 * const out: Uint8Array[] = [];
 * const handler = new SimpleHandler(new BytesInput(), { write: (b) => void out.push(b) },
 *   new StringErrors(), { SERVER_PROTOCOL: "HTTP/1.0", REQUEST_METHOD: "GET" });
 * await handler.run(app);
 * @see Python's `wsgiref.handlers.SimpleHandler`
 */
export class SimpleHandler extends BaseHandler {
  /** The request body stream (`wsgi.input`). */
  stdin: InputStream;
  /** Where the response goes. */
  stdout: OutputStream;
  /** The error stream (`wsgi.errors`). */
  stderr: ErrorStream;
  /** The CGI variables merged into each request's environ. */
  baseEnv: PartialEnvironment;

  #warnedPartial = false;
  // stdout's kind, computed once per stdout object (the handler itself: none yet).
  #kindOf: unknown = this;
  #isStream = false;

  /**
   * Handle requests over the given streams.
   *
   * A stream may be absent (`null` or `undefined`), as Python takes `None` for
   * one: it then goes into the environ as it is, and the handler's own use of
   * it (writing the response to `stdout`, an error to `stderr`) throws a
   * `TypeError` naming it. Throws a `TypeError` at once when `stdin` has no
   * `read()` method, `stdout` or `stderr` no `write()` method, `environ` is not
   * an object, or a flag is not a boolean: found here rather than as
   * `undefined is not a function` mid-request.
   *
   * @see Python's `SimpleHandler.__init__`
   */
  constructor(
    stdin: InputStream | null | undefined,
    stdout: OutputStream | null | undefined,
    stderr: ErrorStream | null | undefined,
    environ: PartialEnvironment,
    multithread = true,
    multiprocess = false,
  ) {
    super();
    // Named reads first: they cost next to nothing per request, where
    // expectMethod's computed one does not. It words the error.
    if (typeof stdin?.read !== "function" && stdin != null) expectMethod(stdin, "read", "stdin");
    if (typeof stdout?.write !== "function" && stdout != null) {
      expectMethod(stdout, "write", "stdout");
    }
    if (typeof stderr?.write !== "function" && stderr != null) {
      expectMethod(stderr, "write", "stderr");
    }
    expectObject(environ, "environ");
    expectBoolean(multithread, "multithread");
    expectBoolean(multiprocess, "multiprocess");
    // Typed as streams all the same: an absent one is the rare case of
    // test_wsgiref's testCGIEnviron, and every use of it is checked.
    this.stdin = stdin as InputStream;
    this.stdout = stdout as OutputStream;
    this.stderr = stderr as ErrorStream;
    this.baseEnv = environ;
    this.wsgiMultithread = multithread;
    this.wsgiMultiprocess = multiprocess;
  }

  /** Return `stdin`. @see Python's `SimpleHandler.get_stdin` */
  override getStdin(): InputStream {
    return this.stdin;
  }

  /** Return `stderr`. @see Python's `SimpleHandler.get_stderr` */
  override getStderr(): ErrorStream {
    return this.stderr;
  }

  /** Merge `baseEnv` into `environ`. @see Python's `SimpleHandler.add_cgi_vars` */
  override addCgiVars(): void {
    Object.assign(this.environ as PartialEnvironment, this.baseEnv);
  }

  /**
   * Write `data` to `stdout`, all of it.
   *
   * A `Writable` that asks to wait is waited for (`drain`); a `write()` that takes
   * fewer bytes than given gets the rest, with a `DeprecationWarning` once per
   * handler (Python's loop); a promise is returned to be awaited.
   *
   * @see Python's `SimpleHandler._write`
   */
  override _write(data: Uint8Array): void | Promise<void> {
    const out = this.stdout;
    if (this.#streamOf(out)) {
      if (out.destroyed || out.writableEnded) {
        throw deadStreamError(out);
      }
      if (!out.write(data)) {
        return drained(out);
      }
      return;
    }
    const written = out.write(data);
    if (written === undefined || written === null || written === data.length) {
      return;
    }
    if (typeof written === "number") {
      return this.#writeRest(data, written);
    }
    if (isThenable(written)) {
      return Promise.resolve(written).then((count) =>
        typeof count === "number" && count !== data.length
          ? this.#writeRest(data, count)
          : undefined,
      );
    }
  }

  /**
   * Flush `stdout` when it has a `flush()`. For a `Writable`, report a stream that
   * has failed or been destroyed since the last write.
   *
   * @see Python's `SimpleHandler._flush`
   */
  override _flush(): void | Promise<void> {
    const out = this.stdout;
    if (this.#streamOf(out)) {
      if (out.errored || out.destroyed) {
        throw deadStreamError(out);
      }
      return;
    }
    if (typeof out.flush === "function") {
      const flushing = out.flush();
      if (isThenable(flushing)) {
        return Promise.resolve(flushing).then(() => undefined);
      }
    }
  }

  #streamOf(out: OutputStream): out is OutputStream & WritableLike {
    if (out !== this.#kindOf) {
      // Absent (as Python allows at construction) or replaced by something else:
      // say which stream, rather than fail on a property of null.
      if (typeof out?.write !== "function") expectMethod(out, "write", "stdout");
      this.#kindOf = out;
      this.#isStream = isWritableLike(out);
    }
    return this.#isStream;
  }

  /** Python's partial-write loop, after `stdout.write()` took only `written` bytes. */
  #writeRest(data: Uint8Array, written: number): void | Promise<void> {
    if (!this.#warnedPartial) {
      this.#warnedPartial = true;
      process.emitWarning(PARTIAL_WRITE_WARNING, "DeprecationWarning");
    }
    let rest = data;
    let count: unknown = written;
    for (;;) {
      if (typeof count !== "number" || !(count > 0)) {
        // Python would loop forever on a write that takes nothing.
        throw new Error(
          `stdout.write() must take at least one byte of the ${rest.length} given: ${show(count)}`,
        );
      }
      rest = rest.subarray(count);
      if (rest.length === 0) {
        return;
      }
      count = this.stdout.write(rest);
      if (count === undefined || count === null) {
        return;
      }
      if (isThenable(count)) {
        const remaining = rest;
        return Promise.resolve(count).then((n) =>
          n === undefined || n === null || n === remaining.length
            ? undefined
            : this.#writeRest(remaining, n as number),
        );
      }
    }
  }
}
