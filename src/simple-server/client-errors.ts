/**
 * Requests Node could not parse (its `clientError` event): the status each gets,
 * and the answer written straight to the socket before it is closed.
 */

import { Buffer } from "node:buffer";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { formatDateTime } from "../internal/http-date.js";
import { softwareVersion } from "./server-handler.js";

// A request line ending in a version of the right shape (RFC 9112 §2.3), at the
// start of what llhttp was parsing.
const WELL_FORMED_VERSION = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/;

// A method token and the space after it (RFC 9110 §5.6.2), at the start of a request.
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * The status for a request Node could not parse, by llhttp's error code.
 *
 * A header section past `maxHeaderSize` is 414 when the request line alone is
 * too long: llhttp stops at the end of the part that overflowed, which for the
 * target is the space before the version; when it stops at the end of what has
 * arrived, the request line is still going on if no line ended in it.
 */
export function clientErrorStatus(
  err: NodeJS.ErrnoException & { bytesParsed?: number; rawPacket?: unknown },
): number {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW": {
      const packet = err.rawPacket;
      const at = err.bytesParsed;
      if (!Buffer.isBuffer(packet) || typeof at !== "number") return 431;
      if (at < packet.length) return packet[at] === 0x20 ? 414 : 431;
      return packet.subarray(0, at).includes(0x0a) ? 431 : 414;
    }
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
      // 9110 §9.1); anything else is a malformed request line.
      const packet = err.rawPacket;
      return Buffer.isBuffer(packet) && METHOD_TOKEN.test(packet.toString("latin1", 0, 64))
        ? 501
        : 400;
    }
    case "HPE_PAUSED_H2_UPGRADE":
      // The HTTP/2 connection preface, `PRI * HTTP/2.0`.
      return 505;
    default:
      return 400;
  }
}

/** How far into what llhttp was parsing the request line is looked for, for the log. */
const LOG_LINE_MAX = 8192;

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
