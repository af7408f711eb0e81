/**
 * `SinkHandler`: the gateway engine (`SimpleHandler`) for entry points whose
 * response is not a byte stream but a status, a header list and a body handed
 * over apart: a Fetch `Response`, a Lambda result. The checks, the error page,
 * the `close()` guarantee and the body counted against its `Content-Length`
 * are the server's; only where the response goes differs.
 */

import { AssertionError } from "node:assert";
import { checkContentLengths } from "../handlers/base-handler.js";
import { SimpleHandler } from "../handlers/simple-handler.js";
import { show } from "../internal/check.js";
import { escapeLogLine } from "../internal/log-text.js";
import { isThenable } from "../internal/thenable.js";
import type { ErrorStream, InputStream, PartialEnvironment, WSGIApplication } from "../types.js";
import { isHopByHop } from "../util.js";

/**
 * Where a `SinkHandler` sends the response, in parts: the head, then the body
 * chunks, then the end (unlike the output stage's `ResponseSink`, which is
 * handed a framed HTTP response to put on a connection).
 */
export interface PartSink {
  /**
   * The status and headers, checked, once and before any body. `bodyAllowed` is
   * false for HEAD, 204, 205 and 304: no body follows then.
   */
  head(
    status: number,
    reason: string,
    headers: Array<[string, string]>,
    bodyAllowed: boolean,
  ): void;
  /** A chunk of the body; a returned promise is waited for before the next (backpressure). */
  body(chunk: Uint8Array): void | Promise<void>;
  /** The response is complete and the application's body closed. */
  end(): void;
  /**
   * The response cannot be completed (an error after its head was given, or a
   * body shorter than its `Content-Length`): make it look incomplete.
   */
  fail(err: unknown): void;
}

// Header values are latin-1 ("bytes in unicode"); the handler's own encoding refuses more.
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/** A Content-Length value the body is counted against (RFC 9110 §8.6: 1*DIGIT). */
const DIGITS = /^[0-9]+$/;

/**
 * Run one application for one request, sending the response to a `PartSink`.
 *
 * `originServer`: the error page, `Content-Length` for a one-chunk body, no
 * length on 204. No `Date` or `Server` header is added (the host in front adds
 * its own). A body longer than its `Content-Length` is cut there and one shorter
 * fails the response, each logged once on `wsgi.errors`, as the server does.
 * The sink's `end()` or `fail()` comes once `run()` is done, so the body is
 * closed by then.
 */
export class SinkHandler extends SimpleHandler {
  readonly #sink: PartSink;
  #headGiven = false;
  #bodyAllowed = true;
  #declared = -1;
  #written = 0;
  #excess = false;
  // The content is complete: an error after this (a close() that throws) leaves it whole.
  #complete = false;
  #failure: { err: unknown } | undefined = undefined;

  /** Handle one request whose body is `stdin`, sending the response to `sink`. */
  constructor(
    stdin: InputStream,
    sink: PartSink,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multithread = false,
    multiprocess = false,
  ) {
    // No stdout: _write and _flush below are the only output.
    super(stdin, null, stderr, environ, multithread, multiprocess);
    this.#sink = sink;
  }

  /**
   * Run `application` (see `BaseHandler.run`), then end the sink, or fail it if
   * the response could not be completed.
   */
  override async run(application: WSGIApplication): Promise<void> {
    try {
      await super.run(application);
    } catch (err) {
      this.#fail(err);
      throw err;
    }
    if (this.#failure !== undefined) this.#sink.fail(this.#failure.err);
    else if (this.#headGiven) this.#sink.end();
  }

  /**
   * Check the status and headers and give them to the sink: `cleanupHeaders()`,
   * then the checks `BaseHandler.sendHeaders` makes as the head goes out (no
   * hop-by-hop field, one Content-Length of digits), and every value latin-1,
   * as encoding them would require. Nothing is encoded: the sink takes the list.
   *
   * @see Python's `BaseHandler.send_headers`
   */
  override sendHeaders(): void {
    this.cleanupHeaders();
    const headers = this.headers as NonNullable<typeof this.headers>;
    let lengths = 0;
    for (const [name, value] of headers) {
      if (name.length === 14 && name.toLowerCase() === "content-length") {
        lengths++;
      } else if (isHopByHop(name)) {
        throw new AssertionError({
          message: `Hop-by-hop header, '${name}: ${value}', not allowed`,
        });
      }
      if (BEYOND_LATIN1.test(value)) {
        throw new TypeError(`the value of header ${name} is not latin-1: ${show(value)}`);
      }
    }
    if (lengths > 1) headers.set("Content-Length", checkContentLengths(headers.items()) as string);
    else if (lengths === 1) checkContentLengths(headers.items());
    this.headersSent = true;
    this.#giveHead();
  }

  /** Send `data` as body, within the declared `Content-Length`; nothing when no body is allowed. */
  override _write(data: Uint8Array): void | Promise<void> {
    if (!this.#bodyAllowed || this.#failure !== undefined) return;
    let chunk = data;
    if (this.#declared >= 0) {
      const room = this.#declared - this.#written;
      if (chunk.length > room) {
        this.#tooLong();
        this.bytesSent -= chunk.length - room;
        if (room === 0) return;
        chunk = chunk.subarray(0, room);
      }
      this.#written += chunk.length;
    }
    if (chunk.length === 0) return;
    return this.#sink.body(chunk);
  }

  /** Nothing to flush: the sink takes each chunk as it comes. */
  override _flush(): void {}

  /** Make sure the head went out, then check the body against its `Content-Length`. */
  override finishContent(): void | Promise<void> {
    const pending = super.finishContent();
    if (isThenable(pending)) return Promise.resolve(pending).then(() => this.#checkLength());
    this.#checkLength();
  }

  /**
   * Log `err`; before the head, answer with the error page; after it, fail the
   * response so its consumer sees it incomplete.
   *
   * @see Python's `BaseHandler.handle_error`
   */
  override handleError(err: unknown): void | Promise<void> {
    // The handler's own flag is reset by close(); a body whose close() throws
    // does so after the head was given.
    if (this.#headGiven) {
      this.logException(err);
      // A response already complete stays whole, as the server's does.
      if (!this.#complete) this.#fail(err);
      return;
    }
    return super.handleError(err);
  }

  #giveHead(): void {
    const status = this.status as string;
    const headers = (this.headers as NonNullable<typeof this.headers>).items();
    const method = this.environ?.REQUEST_METHOD;
    this.#bodyAllowed =
      method !== "HEAD" &&
      !status.startsWith("204") &&
      !status.startsWith("205") &&
      !status.startsWith("304");
    let length: string | undefined;
    for (const [name, value] of headers) {
      if (name.length === 14 && name.toLowerCase() === "content-length") length = value;
    }
    this.#declared =
      this.#bodyAllowed && length !== undefined && DIGITS.test(length) ? Number(length) : -1;
    this.#sink.head(Number(status.slice(0, 3)), status.slice(4), headers, this.#bodyAllowed);
    this.#headGiven = true;
  }

  #checkLength(): void {
    this.#complete = true;
    if (this.#written < this.#declared && this.#failure === undefined) {
      const what = `is shorter than its Content-Length (${this.#written} of ${this.#declared} bytes)`;
      this.#logMismatch(`${what}; the response was failed`);
      this.#fail(new Error(`the response body ${what}`));
    }
  }

  #fail(err: unknown): void {
    this.#failure ??= { err };
  }

  #tooLong(): void {
    if (this.#excess) return;
    this.#excess = true;
    this.#logMismatch(
      `is longer than its Content-Length (${this.#declared} bytes); the rest was not sent`,
    );
  }

  /** One line on wsgi.errors about the body of this response. */
  #logMismatch(what: string): void {
    const env = this.environ;
    const stderr = this.getStderr();
    const request = escapeLogLine(`${env?.REQUEST_METHOD} ${env?.REQUEST_URI ?? env?.PATH_INFO}`);
    stderr.write(`the response body to ${request} ${what}\n`);
    stderr.flush();
  }
}
