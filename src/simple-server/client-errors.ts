/**
 * Requests Node could not parse (its `clientError` event): the status each gets,
 * and the answer written straight to the socket before it is closed.
 */

import { Buffer } from "node:buffer";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { softwareVersion } from "../gateway/gateway-handler.js";
import { formatDateTime } from "../internal/http-date.js";

// A request line ending in a version of the right shape (RFC 9112 §2.3), at the
// start of what llhttp was parsing.
const WELL_FORMED_VERSION = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/;

// A method token and the space after it (RFC 9110 §5.6.2), at the start of a request.
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

// The rest of a method token already begun, and the space after it.
const METHOD_REST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]* /;

// One character of a token (RFC 9110 §5.6.2).
const TOKEN_CHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]$/;

/** How far into what llhttp was parsing the request line is looked for. */
const LOG_LINE_MAX = 8192;

// What follows a request-target: a space and the HTTP version (RFC 9112 §3).
const VERSION_AFTER = /^ HTTP\/\d\.\d\r\n/;

// What follows a method at the start of a request that is still in its target:
// one space, then no space or line end (a target has neither).
const LINE_STILL_IN_TARGET = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]*$/;

/**
 * The status of a header section past `maxHeaderSize`, from the read that
 * overflowed it (`packet`) and where in it llhttp stopped (`at`): 414 when the
 * request line alone is too long, 431 when a header field made it so; 0 when
 * this read cannot tell (see `whenClientErrorStatus`).
 *
 * Node counts the target and every field name and value, and llhttp stops
 * where the part that overflowed ends: at the space before the version for the
 * target, just after the colon for a field name, at the CR for a value; or at
 * the end of the read, when the part goes on. Then a line end in the read means
 * a field is going on; a read that starts a request line and has no line end,
 * the target; a read with neither continues a line begun in an earlier read,
 * which only the rest of that line can name.
 */
function overflowStatus(packet: unknown, at: unknown): number {
  if (!Buffer.isBuffer(packet) || typeof at !== "number") return 431;
  if (at < packet.length) {
    if (packet[at] !== 0x20) return 431;
    // A space after a colon follows a field name (`X-Big: 1`), unless the
    // version follows it: a target may end in a colon.
    if (at === 0 || packet[at - 1] !== 0x3a) return 414;
    return VERSION_AFTER.test(packet.toString("latin1", at, at + 12)) ? 414 : 431;
  }
  if (packet.includes(0x0a)) return 431;
  return LINE_STILL_IN_TARGET.test(packet.toString("latin1", 0, Math.min(at, LOG_LINE_MAX)))
    ? 414
    : 0;
}

/**
 * The status for a request Node could not parse, by llhttp's error code; 0 for
 * a header section past `maxHeaderSize` when the read does not tell the request
 * line from a header field (see `overflowStatus`).
 */
export function clientErrorStatus(
  err: NodeJS.ErrnoException & { bytesParsed?: number; rawPacket?: unknown },
): number {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return overflowStatus(err.rawPacket, err.bytesParsed);
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "HPE_INVALID_VERSION": {
      // A well-formed version llhttp does not speak (HTTP/2.0, HTTP/1.2) is
      // 505; anything else that fails there (a bare LF, `HTTP/x.y`) is 400.
      const packet = err.rawPacket;
      return Buffer.isBuffer(packet) && WELL_FORMED_VERSION.test(packet.toString("latin1", 0, 8192))
        ? 505
        : 400;
    }
    case "HPE_INVALID_METHOD": {
      // A method that is a token but not one llhttp knows: not implemented (RFC
      // 9110 §9.1); anything else is a malformed request line. llhttp stops
      // inside the method, where it leaves every method it knows (after `GET` in
      // `GETGET`, at the `X` of `GEX`), and the request may start anywhere in
      // the read (pipelined): the method is the token that goes on from there.
      const packet = err.rawPacket;
      const at = err.bytesParsed;
      if (!Buffer.isBuffer(packet) || typeof at !== "number") return 400;
      const rest = packet.toString("latin1", at, at + LOG_LINE_MAX);
      const begun = at > 0 && TOKEN_CHAR.test(String.fromCharCode(packet[at - 1] as number));
      return (begun ? METHOD_REST : METHOD_TOKEN).test(rest) ? 501 : 400;
    }
    case "HPE_PAUSED_H2_UPGRADE":
      // The HTTP/2 connection preface, `PRI * HTTP/2.0`.
      return 505;
    default:
      return 400;
  }
}

/** How long the end of an overflowing line is waited for before answering 431. */
const LINE_END_WAIT_MS = 1000;

// The end of a request line: a space and the HTTP version (RFC 9112 §3), before CR.
const VERSION_AT_END = / HTTP\/\d\.\d\r?$/;

/** How many of a line's last bytes are kept to find the version at its end. */
const TAIL = 16;

/**
 * Call `answer` with the status for a request Node could not parse: at once,
 * or, when the read that overflowed `maxHeaderSize` continues a line begun in
 * an earlier one (`clientErrorStatus` gives 0), once that line has ended:
 * ending in an HTTP version it is the request line (414), else a header field
 * (431). A line that has not ended within a second, or a client that stops
 * sending, gets 431. What arrives meanwhile is read and dropped, as after any
 * refusal; only the last bytes are kept.
 */
export function whenClientErrorStatus(
  err: NodeJS.ErrnoException & { bytesParsed?: number; rawPacket?: unknown },
  socket: Duplex,
  answer: (status: number) => void,
): void {
  const status = clientErrorStatus(err);
  if (status !== 0) {
    answer(status);
    return;
  }
  const packet = err.rawPacket as Buffer;
  let tail = packet.toString("latin1", Math.max(0, packet.length - TAIL));
  let decided = false;
  const decide = (found: number): void => {
    if (decided) return;
    decided = true;
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onEnd);
    answer(found);
  };
  const onData = (chunk: Buffer): void => {
    const lf = chunk.indexOf(0x0a);
    const end = lf === -1 ? chunk.length : lf;
    tail = (tail + chunk.toString("latin1", Math.max(0, end - TAIL), end)).slice(-TAIL);
    if (lf !== -1) decide(VERSION_AT_END.test(tail) ? 414 : 431);
  };
  const onEnd = (): void => decide(431);
  const timer = setTimeout(onEnd, LINE_END_WAIT_MS);
  // Listening for data takes the socket from Node's parser, which has stopped at
  // the overflow: what comes next is only looked at here.
  socket.on("data", onData);
  socket.once("end", onEnd);
  socket.once("close", onEnd);
}

/**
 * The request line of a request Node could not parse, for the log: the first
 * line of what llhttp was parsing when it starts with a method, else `''` (as
 * Python logs a request line too long to read: 414).
 */
export function refusedRequestLine(
  err: NodeJS.ErrnoException & { rawPacket?: unknown },
  status: number,
): string {
  const packet = err.rawPacket;
  if (status === 414 || !Buffer.isBuffer(packet)) return "";
  // A packet from the middle of a request (headers in several pieces) starts
  // with a header line or body bytes, not a method and a space.
  const line = packet.toString("latin1", 0, LOG_LINE_MAX).split("\n", 1)[0] as string;
  return METHOD_TOKEN.test(line) ? line.replace(/\r$/, "") : "";
}

/** A complete error response, written straight to a socket that carries no response. */
function rawErrorResponse(status: number): Buffer {
  const reason = STATUS_CODES[status] ?? "Error";
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nDate: ${formatDateTime(Date.now())}\r\n` +
      `Server: ${softwareVersion}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${reason.length + 1}\r\nConnection: close\r\n\r\n${reason}\n`,
    "latin1",
  );
}

/** How long a refused connection may keep sending before it is dropped. */
const LINGER_MS = 1000;

/** Answer `status` on `socket` and close it, letting the client read the answer first. */
export function refuseConnection(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Half-close and keep reading (Node's parser discards it) until the client
  // closes too: closing with unread input would reset the connection and could
  // lose the answer on its way.
  socket.end(rawErrorResponse(status));
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
