/**
 * The side client of the soak run: raw sockets that give up halfway, during the
 * request headers, during an upload (past the spool threshold, so a temporary
 * file exists when the client goes) and during a response, closing with a FIN
 * or a RST in turn. Bounded in rate, concurrency and total count.
 */

import { connect } from "node:net";

/** Where the client stops, and what it has sent by then. */
const KINDS = ["headers", "upload", "response", "chunked", "pipelined"] as const;
type Kind = (typeof KINDS)[number];

/** What the aborted clients did, by outcome. */
export interface AbortReport {
  /** Clients that went away as planned, by kind. */
  aborted: Record<Kind, number>;
  /** Clients for which something unplanned happened (first few messages in `problems`). */
  unexpected: number;
  problems: string[];
}

/** How fast and how many. */
export interface AborterOptions {
  port: number;
  /** Clients started per second. */
  rate: number;
  /** Clients in flight at once, at most. */
  concurrency: number;
  /** Clients in all, at most. */
  limit: number;
  /** Bytes past which the server spools a body: the upload client sends more than this. */
  spoolThreshold: number;
  /** How long one client may wait for the server before it counts as a stall. */
  timeoutMs: number;
}

const HOST = "127.0.0.1";

/** Start clients at `options.rate` until `stop()`, which resolves when the last one has gone. */
export class Aborter {
  readonly #options: AborterOptions;
  readonly #report: AbortReport = {
    aborted: { headers: 0, upload: 0, response: 0, chunked: 0, pipelined: 0 },
    unexpected: 0,
    problems: [],
  };
  readonly #inFlight = new Set<Promise<void>>();
  #started = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AborterOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), 1000 / this.#options.rate);
  }

  async stop(): Promise<AbortReport> {
    clearInterval(this.#timer);
    await Promise.all(this.#inFlight);
    return this.#report;
  }

  #tick(): void {
    const { concurrency, limit } = this.#options;
    if (this.#inFlight.size >= concurrency || this.#started >= limit) return;
    const kind = KINDS[this.#started % KINDS.length]!;
    // Every other round of kinds closes with a RST instead of a FIN.
    const reset = Math.floor(this.#started / KINDS.length) % 2 === 1;
    this.#started += 1;
    const client = this.#one(kind, reset).then(
      () => {
        this.#report.aborted[kind] += 1;
      },
      (err: unknown) => {
        this.#report.unexpected += 1;
        if (this.#report.problems.length < 5) {
          this.#report.problems.push(`${kind}: ${err instanceof Error ? err.message : err}`);
        }
      },
    );
    this.#inFlight.add(client);
    void client.finally(() => this.#inFlight.delete(client));
  }

  /** One client of `kind`: resolves once it has aborted as planned, rejects otherwise. */
  #one(kind: Kind, reset: boolean): Promise<void> {
    const { port, spoolThreshold, timeoutMs } = this.#options;
    return new Promise<void>((resolve, reject) => {
      const socket = connect(port, HOST);
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err === undefined) {
          if (reset) socket.resetAndDestroy();
          else socket.destroy();
          resolve();
        } else {
          socket.destroy();
          reject(err);
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no progress within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on("error", (err) => finish(err));
      socket.on("close", () => finish(new Error("the server closed the connection first")));
      const request = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
      socket.once("connect", () => {
        switch (kind) {
          case "headers":
            // Half a header block: the server is still waiting for the blank line.
            socket.write(`GET /small HTTP/1.1\r\nHost: ${HOST}\r\nX-Half: `, () =>
              setTimeout(() => finish(), 20),
            );
            break;
          case "upload": {
            // Part of a declared body, more than the spool threshold, so the
            // server has a temporary file open when the client goes.
            const sent = spoolThreshold * 3 + 1000;
            socket.write(
              `POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${sent * 4}\r\n\r\n`,
            );
            socket.write(Buffer.alloc(sent, "u"), () => setTimeout(() => finish(), 50));
            break;
          }
          case "response":
          case "chunked":
            socket.write(request(kind === "response" ? "/large" : "/chunked"));
            break;
          case "pipelined":
            socket.write(request("/large") + request("/chunked") + request("/small"));
            break;
        }
        socket.on("data", () => {
          // The first bytes of a response: the server is writing, so go now.
          if (kind === "response" || kind === "chunked" || kind === "pipelined") finish();
          else finish(new Error("the server answered a request it had not received in full"));
        });
      });
    });
  }
}
