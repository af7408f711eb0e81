/**
 * Raw HTTP/2 frames on a socket, for the abuse cases node:http2's client refuses
 * to send (a CONTINUATION flood, a connection-specific request field, streams
 * past the advertised limit): the preface and SETTINGS, frames built by hand
 * with an HPACK block of literal fields (no Huffman, no table), and the frames
 * the server sends back, parsed as they come.
 */

import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** The client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Frame types (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags. */
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One frame received. */
export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** One frame's bytes: the 9-byte header and `payload`. */
export function frame(type: number, flags: number, stream: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `n`-bit prefix, the prefix's other bits `first` (RFC 7541 §5.1). */
function hpackInteger(value: number, n: number, first: number): Buffer {
  const max = (1 << n) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** An HPACK string, raw (no Huffman). */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([hpackInteger(bytes.length, 7, 0x00), bytes]);
}

/** A header block of literal fields without indexing and with literal names (RFC 7541 §6.2.2). */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(
    fields.map(([name, value]) =>
      Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]),
    ),
  );
}

/** The 6-byte error code of a RST_STREAM or the one of a GOAWAY (after its last stream id). */
export function errorCode(received: Frame): number {
  return received.type === FrameType.GOAWAY
    ? received.payload.readUInt32BE(4)
    : received.payload.readUInt32BE(0);
}

/**
 * A raw HTTP/2 connection in clear text (h2c with prior knowledge): the preface
 * and an empty SETTINGS sent on `open()`, the server's SETTINGS acknowledged,
 * every frame received kept in `frames`.
 */
export class RawH2 {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  /** The bytes received, all frames counted. */
  received = 0;
  #buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 9) {
        const length = this.#buffer.readUIntBE(0, 3);
        if (this.#buffer.length < 9 + length) break;
        const got: Frame = {
          type: this.#buffer[3] as number,
          flags: this.#buffer[4] as number,
          stream: this.#buffer.readUInt32BE(5) & 0x7fffffff,
          payload: this.#buffer.subarray(9, 9 + length),
        };
        this.#buffer = this.#buffer.subarray(9 + length);
        this.frames.push(got);
        if (got.type === FrameType.SETTINGS && (got.flags & Flag.ACK) === 0) {
          this.write(frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0)));
        }
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.once("close", () => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Connect to 127.0.0.1:`port` and send the preface and an empty SETTINGS. */
  static async open(port: number): Promise<RawH2> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    const raw = new RawH2(socket);
    raw.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0))]));
    return raw;
  }

  /** Write bytes unless the socket is gone; resolves when the socket takes more (or is gone). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    if (this.socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** A request's HEADERS frame (END_HEADERS; END_STREAM when `end`). */
  headers(stream: number, fields: ReadonlyArray<readonly [string, string]>, end = true): Buffer {
    return frame(
      FrameType.HEADERS,
      Flag.END_HEADERS | (end ? Flag.END_STREAM : 0),
      stream,
      headerBlock(fields),
    );
  }

  /** The first frame received that `match` accepts; undefined if the socket closes or `ms` pass first. */
  async waitFor(match: (received: Frame) => boolean, ms = 10_000): Promise<Frame | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.socket.destroyed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Destroy the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** The request fields of a GET for `path` on 127.0.0.1 (pseudo-headers first). */
export function getFields(path: string): Array<[string, string]> {
  return [
    [":method", "GET"],
    [":scheme", "http"],
    [":authority", "127.0.0.1"],
    [":path", path],
  ];
}
