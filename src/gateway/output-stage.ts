/**
 * The output stage every entry point shares: the framing rules of a response,
 * whatever carries it. `OutputStage` takes the status and headers the
 * application settled on and the body it produces, and hands a transport's
 * `ResponseSink` a head and a body that cannot desynchronise the connection:
 * no interim (1xx) status, no hop-by-hop field, one decimal Content-Length,
 * `Date` and `Server` first unless the application set them, no body bytes
 * where none are allowed (HEAD, 204, 304), and a body counted against its
 * Content-Length (a short one cuts the connection, a long one is cut at the
 * length and closes the connection after it), as gunicorn and waitress do.
 */

import { AssertionError } from "node:assert";
import { checkContentLengths } from "../handlers/base-handler.js";
import { equalsFolded, isContentLength } from "../internal/ascii-fold.js";
import { isDigits } from "../internal/field-chars.js";
import { formatDateTime } from "../internal/http-date.js";
import { isHopByHop } from "../util.js";

/** What `ResponseSink.sendFile` did: the bytes sent, and whether the file went on past the limit. */
export interface SentFile {
  sent: number;
  excess: boolean;
}

/**
 * Where a transport takes a response: `node:http`'s `ServerResponse`, an
 * HTTP/2 stream, a Fetch `Response`, a test client's buffer. The output stage
 * calls it in order (`head`, then `write`s or one `sendFile`, then `end` or
 * `cut`), and never with anything the rules above refuse.
 */
export interface ResponseSink {
  /** Whether the client can no longer be written to (it left, or was cut off). */
  readonly destroyed: boolean;
  /**
   * Whether the application took the connection over: the sink then sends
   * nothing more for this request (false for a transport that offers no
   * take-over).
   */
  readonly takenOver: boolean;
  /**
   * What the application is offered as `environ["wsgiref.connection"]`;
   * undefined when the transport offers nothing.
   */
  readonly connection: object | undefined;
  /**
   * Whether what carries the response on adds its own `Date` (a Fetch host, API
   * Gateway): the output stage then adds none.
   */
  readonly datedByHost?: boolean;
  /** The current HTTP date, when the transport keeps it (formatted once a second). */
  date?(): string;
  /**
   * Send the status and the header fields (`fields`: name, value, name,
   * value…). `lengthFramed`: a Content-Length field is among them. Throws,
   * having sent nothing, for a field the transport refuses.
   */
  head(code: number, reason: string, fields: string[], lengthFramed: boolean): void;
  /**
   * Send body bytes; false when the caller should wait for `drained()` before
   * more. `last`: the chunk completes the declared Content-Length, so no body
   * byte follows it and the sink may send it with the end.
   */
  write(chunk: Uint8Array, last?: boolean): boolean;
  /** Resolves once the sink takes more; rejects with a disconnect error if the client leaves first. */
  drained(): Promise<void>;
  /**
   * Send up to `limit` bytes of the file open on `fd`, from its position, as the
   * body. Rejects with a disconnect error when the client goes away. Absent
   * for a transport that takes no file: the handler iterates the file instead.
   */
  readonly sendFile?: ((fd: number, limit: number) => Promise<SentFile>) | undefined;
  /** End the response; `closeAfter`: close the connection once it is sent. */
  end(closeAfter: boolean): void;
  /**
   * End the connection mid-response, so that the client sees the response
   * incomplete; `reason`, when the output stage knows it (a body short of its
   * Content-Length), for a transport that can pass it on.
   */
  cut(reason?: Error): void;
}

/**
 * The number of `status`'s first three characters, as `Number()` reads them
 * (NaN when they are no number): three ASCII digits, as a checked status has,
 * read without a substring.
 */
function statusCode(status: string): number {
  const c0 = status.charCodeAt(0) - 48;
  const c1 = status.charCodeAt(1) - 48;
  const c2 = status.charCodeAt(2) - 48;
  if (c0 >= 0 && c0 <= 9 && c1 >= 0 && c1 <= 9 && c2 >= 0 && c2 <= 9) {
    return c0 * 100 + c1 * 10 + c2;
  }
  return Number(status.slice(0, 3));
}

/** The framing of one response over a `ResponseSink`. */
export class OutputStage {
  /** The transport's sink. */
  readonly sink: ResponseSink;
  readonly #report: (what: string) => void;
  #started = false;
  #ended = false;
  #bodyAllowed = true;
  // The length the body is counted against (-1: none, or no body allowed), and
  // the body bytes handed to the sink so far.
  #declared = -1;
  #written = 0;
  #excess = false;
  #bodyBytes = 0;

  /** Frame a response over `sink`; `report` gets one line for a body that does not match its length. */
  constructor(sink: ResponseSink, report: (what: string) => void) {
    this.sink = sink;
    this.#report = report;
  }

  /** Whether the head went to the sink. */
  get started(): boolean {
    return this.#started;
  }

  /** Whether the response ended (or was cut). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The body bytes accepted so far (for the access log), the ones no body may carry included. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /**
   * Send the head: `status` (`"200 OK"`), `pairs` (the application's header
   * fields, as they are now), for a request of `method`, with `software` as
   * the `Server` field unless the application set one. Throws an
   * `AssertionError`, having sent nothing, for a status that is not final, a
   * hop-by-hop field or Content-Length fields that are not one number.
   */
  start(
    status: string,
    pairs: ReadonlyArray<readonly [string, string]>,
    method: string | undefined,
    software: string | undefined,
  ): void {
    if (this.sink.takenOver) return;
    const code = statusCode(status);
    // An interim response would make the client take the next one for this one's.
    if (!(code >= 200 && code <= 599)) {
      throw new AssertionError({
        message: `Status must be a final response, 200 to 599 (got '${status}')`,
      });
    }
    let hasDate = false;
    let hasServer = false;
    let length: string | undefined;
    let lengths = 0;
    for (let i = 0; i < pairs.length; i++) {
      const name = pairs[i]![0];
      if (name.length === 4) hasDate ||= equalsFolded(name, "date");
      else if (name.length === 6) hasServer ||= equalsFolded(name, "server");
      else if (isContentLength(name)) {
        length ??= pairs[i]![1];
        lengths++;
      } else if (isHopByHop(name)) {
        // A Transfer-Encoding or Connection frames the body otherwise than the
        // transport does.
        throw new AssertionError({
          message: `Hop-by-hop header, '${name}: ${pairs[i]![1]}', not allowed`,
        });
      }
    }
    // Throws unless every value is the same decimal number.
    if (lengths > 1 || (length !== undefined && (typeof length !== "string" || !isDigits(length))))
      checkContentLengths(pairs);
    const dated = !hasDate && this.sink.datedByHost !== true;
    const served = !!software && !hasServer;
    // Sized at once (an array grown push by push is reallocated on the way, and
    // one cut short afterwards pays for setting its length): Date, Server, the
    // pairs, with repeated Content-Lengths as one.
    const fields: string[] = new Array<string>(
      2 * (pairs.length + (dated ? 1 : 0) + (served ? 1 : 0) - (lengths > 1 ? lengths - 1 : 0)),
    );
    let n = 0;
    if (dated) {
      fields[n++] = "Date";
      fields[n++] = this.sink.date?.() ?? formatDateTime(Date.now());
    }
    if (served) {
      fields[n++] = "Server";
      fields[n++] = software as string;
    }
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]!;
      // The same Content-Length more than once says one thing: sent once, last.
      if (lengths > 1 && isContentLength(pair[0])) continue;
      fields[n++] = pair[0];
      fields[n++] = pair[1];
    }
    if (lengths > 1) {
      fields[n++] = "Content-Length";
      fields[n++] = length as string;
    }
    this.#bodyAllowed = method !== "HEAD" && code !== 204 && code !== 304;
    // HEAD, 204 and 304 declare a length without a body.
    this.#declared = length !== undefined && this.#bodyAllowed ? Number(length) : -1;
    this.sink.head(code, status.slice(4), fields, length !== undefined);
    this.#started = true;
  }

  /**
   * Send body bytes, never past the declared Content-Length (the excess is
   * dropped, reported once, and the connection closed after the response).
   * Returns false when the caller should wait for `drained()`.
   */
  write(data: Uint8Array): boolean {
    if (this.sink.takenOver) return true;
    if (!this.#bodyAllowed) {
      // Counted as sent, as a transport that drops it itself would count it.
      this.#bodyBytes += data.length;
      return true;
    }
    let chunk = data;
    let last = false;
    const declared = this.#declared;
    if (declared >= 0) {
      const room = declared - this.#written;
      if (chunk.length > room) {
        this.#tooLong();
        if (room === 0) return true;
        chunk = chunk.subarray(0, room);
      }
      this.#written += chunk.length;
      last = this.#written === declared && chunk.length > 0;
    }
    this.#bodyBytes += chunk.length;
    return this.sink.write(chunk, last);
  }

  /** Resolves once the sink takes more (see `ResponseSink.drained`). */
  drained(): Promise<void> {
    return this.sink.drained();
  }

  /**
   * Send the file open on `fd` from its position, as far as `remaining` when
   * given (a byte range: the file after it is no excess), never past the
   * declared length; then end the response. Resolves to the bytes sent.
   */
  async sendFile(fd: number, remaining: number | undefined): Promise<number> {
    if (this.sink.takenOver) return 0;
    if (!this.#bodyAllowed) {
      this.end();
      return 0;
    }
    const declared = this.#declared;
    // What the write() callable sent counts against the declared length too.
    let limit = declared >= 0 ? declared - this.#written : Number.POSITIVE_INFINITY;
    const ranged = typeof remaining === "number";
    if (ranged) limit = Math.min(limit, remaining);
    const { sent, excess } = await (this.sink.sendFile as NonNullable<ResponseSink["sendFile"]>)(
      fd,
      limit,
    );
    this.#written += sent;
    this.#bodyBytes += sent;
    if (excess && !(ranged && sent === remaining)) this.#tooLong();
    this.end();
    return sent;
  }

  /** End the response: cut it when it is short of its Content-Length. */
  end(): void {
    if (this.sink.takenOver || this.#ended) return;
    this.#ended = true;
    const sink = this.sink;
    if (sink.destroyed) return;
    if (this.#written < this.#declared) {
      // A clean end would leave the client reading the next response as the
      // rest of this body. Cut first: a report that fails must not leave the
      // connection open.
      const short = `is shorter than its Content-Length (${this.#written} of ${this.#declared} bytes)`;
      sink.cut(new Error(`the response body ${short}`));
      this.#report(`${short}; the connection was cut`);
      return;
    }
    // The response is whole, but after an excess the application did not send
    // what it meant: nothing more is served on this connection.
    sink.end(this.#excess);
  }

  /** Cut the connection mid-response (an error once the head is out). */
  cut(): void {
    if (this.sink.takenOver || this.#ended) return;
    this.#ended = true;
    this.sink.cut();
  }

  /** The body went past the declared Content-Length: say so once. */
  #tooLong(): void {
    if (this.#excess) return;
    this.#excess = true;
    this.#report(
      `is longer than its Content-Length (${this.#declared} bytes); the rest was not sent and the connection closes after it`,
    );
  }
}
