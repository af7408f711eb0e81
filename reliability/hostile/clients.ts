/**
 * The clients of the hostile-clients run: connections that pipeline requests and
 * never read, connections that ask for a large file and never read it, and a
 * normal client that times one request at a time. All on 127.0.0.1, in clear
 * text or over TLS, each socket destroyed by `stop()`.
 */

import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/**
 * A connection to 127.0.0.1:`port`, over TLS (HTTP/1.1 by ALPN, the run's own
 * certificate not checked) when `tls`, and the event after which it is ready.
 */
export function dial(port: number, tls: boolean): { socket: Socket; ready: string } {
  if (!tls) return { socket: connect(port, "127.0.0.1"), ready: "connect" };
  const socket = connectTls({
    port,
    host: "127.0.0.1",
    rejectUnauthorized: false,
    ALPNProtocols: ["http/1.1"],
  });
  return { socket, ready: "secureConnect" };
}

/** How long the probe waits for an answer before it counts the request as unanswered. */
export const PROBE_TIMEOUT_MS = 5000;

/**
 * `count` connections that write `GET /x` requests as fast as the socket takes
 * them and read nothing. A connection the server closes is opened again, so that
 * `count` stay hostile until `stop()`.
 */
export class PipelineFlood {
  readonly #port: number;
  readonly #count: number;
  readonly #tls: boolean;
  readonly #sockets = new Set<Socket>();
  #stopped = false;
  /** Connections opened, reconnections included. */
  opened = 0;
  /** Connections the server closed while the flood went on. */
  closedByServer = 0;
  /** Bytes of requests the flood wrote to its sockets. */
  written = 0;

  constructor(port: number, count: number, tls = false) {
    this.#port = port;
    this.#count = count;
    this.#tls = tls;
  }

  start(): void {
    for (let i = 0; i < this.#count; i++) this.#open();
  }

  /** Destroy every connection of the flood. */
  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #open(): void {
    // 1,000 minimal requests a write: 27 bytes each, the most requests per byte.
    const burst = Buffer.from("GET /x HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000), "latin1");
    const { socket, ready } = dial(this.#port, this.#tls);
    this.opened += 1;
    this.#sockets.add(socket);
    // Never read: what the server answers stays in the kernel's buffers.
    socket.pause();
    socket.on("error", () => undefined);
    const pump = (): void => {
      // Counted when written, taken at once or queued (over TLS a 27 KiB burst
      // is always queued: it is past the stream's high-water mark).
      while (!socket.destroyed) {
        const more = socket.write(burst);
        this.written += burst.length;
        if (!more) break;
      }
    };
    socket.on(ready, pump);
    socket.on("drain", pump);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      if (this.#stopped) return;
      this.closedByServer += 1;
      this.#open();
    });
  }
}

/**
 * `count` connections that each ask for `path`, take the first bytes of the
 * answer, then read nothing more.
 */
export class StalledDownloads {
  readonly #sockets: Socket[] = [];
  /** Connections that got the start of their answer. */
  started = 0;
  /** Connections the server closed before `stop()`. */
  closedByServer = 0;
  #stopped = false;

  constructor(port: number, path: string, count: number, tls = false) {
    for (let i = 0; i < count; i++) {
      const { socket, ready } = dial(port, tls);
      socket.on("error", () => undefined);
      socket.on(ready, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
      socket.once("data", () => {
        this.started += 1;
        socket.pause();
      });
      socket.once("close", () => {
        if (!this.#stopped) this.closedByServer += 1;
      });
      this.#sockets.push(socket);
    }
  }

  /** Resolve once every connection has the start of its answer (or `ms` have passed). */
  async whenStarted(ms: number): Promise<void> {
    const deadline = performance.now() + ms;
    while (this.started < this.#sockets.length && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const socket of this.#sockets) socket.destroy();
  }
}

/**
 * One request of a normal client on a new connection: the milliseconds until
 * the whole answer came, or `Infinity` when none came within `PROBE_TIMEOUT_MS`.
 */
export function probe(port: number, path: string, tls = false): Promise<number> {
  return new Promise((resolve) => {
    const started = performance.now();
    const { socket, ready } = dial(port, tls);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Number.POSITIVE_INFINITY);
    }, PROBE_TIMEOUT_MS);
    let answer = "";
    socket.on(ready, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(answer.startsWith("HTTP/1.1 200 ") ? performance.now() - started : Infinity);
    });
  });
}
