/**
 * `SinkHandler`: the gateway handler for entry points whose response is not a
 * byte stream but a status, a header list and a body handed over apart: a Fetch
 * `Response`, a Lambda result. It is a `GatewayHandler`, so the output stage's
 * framing rules are the server's (the status checked, no hop-by-hop field, one
 * Content-Length, the body counted against it); only where the parts go
 * differs: a `PartSink`, reached through `PartResponseSink`, the output
 * stage's `ResponseSink` for such entry points.
 */

import { show } from "../internal/check.js";
import { isDisconnect } from "../internal/disconnect.js";
import { isToken } from "../internal/field-chars.js";
import { isThenable } from "../internal/thenable.js";
import type { ErrorStream, InputStream, PartialEnvironment, WSGIApplication } from "../types.js";
import { GatewayHandler } from "./gateway-handler.js";
import type { ResponseSink } from "./output-stage.js";

// RFC 9110 §5.1, §5.5: a field name is a token; a value is latin-1 text, HTAB
// and no other control character (what node:http's writeHead allows).
const CONTROL = 1;
const BEYOND_LATIN1 = 2;

/**
 * What is wrong with a field value, in one pass: `BEYOND_LATIN1` for a code
 * point past U+00FF (anywhere: it is told first), else `CONTROL` for a
 * control character but HTAB (C0, DEL), else 0.
 */
function valueFault(value: string): number {
  let fault = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) return BEYOND_LATIN1;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) fault = CONTROL;
  }
  return fault;
}

/** Header fields as a `PartSink` is given them (name, value, name, value…), as pairs. */
export function fieldPairs(fields: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
  return pairs;
}

/** Where a `SinkHandler` sends the parts of a response. */
export interface PartSink {
  /**
   * The status and header fields (`fields`: name, value, name, value…, the
   * sink's to keep), checked, once and before any body. `bodyAllowed` is false
   * for HEAD, 204, 205 and 304: no body follows then.
   */
  head(status: number, reason: string, fields: string[], bodyAllowed: boolean): void;
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

/**
 * The output stage's `ResponseSink` over a `PartSink`. The end (or the failure)
 * is kept until `deliver()`, which `SinkHandler.run` calls once the application's
 * body is closed, so that whoever reads the response sees `close()` done.
 */
class PartResponseSink implements ResponseSink {
  readonly takenOver = false;
  readonly connection = undefined;
  readonly datedByHost = true;
  readonly #parts: PartSink;
  readonly #method: string | undefined;
  #bodyAllowed = true;
  #headGiven = false;
  #destroyed = false;
  #waiting: Promise<void> | undefined;
  #ended = false;
  #failure: { err: unknown } | undefined;
  #delivered = false;

  constructor(parts: PartSink, method: string | undefined) {
    this.#parts = parts;
    this.#method = method;
  }

  /** Whether the consumer went away (a body chunk it refused). */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Give the status and headers; throws a `TypeError`, having given nothing, for
   * a field `node:http` would refuse to send (the application's list may have
   * been edited since `startResponse()` checked it): a name that is no token, a
   * value with a control character or a code point past U+00FF.
   */
  head(code: number, reason: string, fields: string[]): void {
    // 205 too (RFC 9110 §15.3.6): these responses carry no content.
    this.#bodyAllowed = this.#method !== "HEAD" && code !== 204 && code !== 205 && code !== 304;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (!isToken(name)) throw new TypeError(`a header name is not a token: ${show(name)}`);
      const fault = valueFault(value);
      if (fault !== 0) {
        const what = fault === BEYOND_LATIN1 ? "is not latin-1" : "has a control character";
        throw new TypeError(`the value of header ${name} ${what}: ${show(value)}`);
      }
    }
    // The output stage made `fields` for this head alone: handed on as it is.
    this.#parts.head(code, reason, fields, this.#bodyAllowed);
    this.#headGiven = true;
  }

  write(chunk: Uint8Array): boolean {
    if (!this.#bodyAllowed || chunk.length === 0) return true;
    let taken: void | Promise<void>;
    try {
      taken = this.#parts.body(chunk);
    } catch (err) {
      if (isDisconnect(err)) this.#destroyed = true;
      throw err;
    }
    if (!isThenable(taken)) return true;
    this.#waiting = Promise.resolve(taken).catch((err: unknown) => {
      if (isDisconnect(err)) this.#destroyed = true;
      throw err;
    });
    return false;
  }

  drained(): Promise<void> {
    const waiting = this.#waiting ?? Promise.resolve();
    this.#waiting = undefined;
    return waiting;
  }

  /** Not offered: the handler iterates a `FileWrapper` instead. */
  readonly sendFile = undefined;

  end(): void {
    this.#ended = true;
  }

  cut(reason?: Error): void {
    this.#failure ??= { err: reason ?? new Error("the response was cut") };
  }

  /** Record `err` as why the response failed (the first reason wins). */
  failWith(err: unknown): void {
    this.#failure ??= { err };
  }

  /** Whether the end or the failure went to the parts sink. */
  get delivered(): boolean {
    return this.#delivered;
  }

  /** Hand the end, or the failure, to the parts sink (once; nothing while there is neither). */
  deliver(): void {
    if (this.#delivered) return;
    if (this.#failure !== undefined) {
      this.#delivered = true;
      this.#parts.fail(this.#failure.err);
    } else if (this.#headGiven && this.#ended) {
      this.#delivered = true;
      this.#parts.end();
    }
  }
}

/**
 * Run one application for one request, sending the response to a `PartSink`.
 *
 * The error page, `Content-Length` for a one-chunk body and none on 204 are
 * `GatewayHandler`'s; no `Date` or `Server` header is added (the host in front
 * adds its own). A body longer than its `Content-Length` is cut there and one shorter
 * fails the response, each logged once on `wsgi.errors`, as the server does. The
 * sink's `end()` or `fail()` comes once `run()` is done, so the body is closed by
 * then.
 */
export class SinkHandler extends GatewayHandler {
  override serverSoftware: string | undefined = undefined;
  readonly #sink: PartResponseSink;

  /** Handle one request whose body is `stdin`, sending the response to `sink`. */
  constructor(
    stdin: InputStream,
    sink: PartSink,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multithread = false,
    multiprocess = false,
  ) {
    const parts = new PartResponseSink(sink, environ.REQUEST_METHOD as string | undefined);
    super(stdin, parts, stderr, environ, multithread, multiprocess);
    this.#sink = parts;
  }

  /**
   * Run `application` (see `BaseHandler.run`), then end the sink, or fail it if
   * the response could not be completed. A response whose body closed without
   * waiting (`close()`) has its end delivered before this returns.
   */
  override run(application: WSGIApplication): Promise<void> {
    const running = super.run(application);
    // Delivered by close(), which ends every run that completes: nothing after
    // it can fail the response, and the sink takes one end or failure only.
    if (this.#sink.delivered) return running;
    return running.then(
      () => this.#sink.deliver(),
      (err: unknown) => {
        this.#sink.failWith(err);
        this.#sink.deliver();
        throw err;
      },
    );
  }

  /**
   * Close the body (see `BaseHandler.close`); once it is closed, hand the sink
   * the end of a response that is whole, so its consumer need not wait for the
   * run's promise to settle.
   */
  override close(): void | Promise<void> {
    const closing = super.close();
    if (closing === undefined) this.#sink.deliver();
    return closing;
  }

  /**
   * Log `err`; before the head, answer with the error page; after it, fail the
   * response with `err`, so its consumer sees it incomplete and why.
   */
  override handleError(err: unknown): void | Promise<void> {
    if (this.output.started && !this.output.ended) this.#sink.failWith(err);
    return super.handleError(err);
  }
}
