/**
 * The baseline: a plain `node:http` request listener answering the benchmark's
 * routes with the same bytes as the WSGI app, and nothing else; and the same
 * listener ending its responses as our server does under `serveForever()`
 * (the rule of src/simple-server/end-batch.ts, restated here in a few lines so
 * that the baseline depends on no private module of the package), so that the
 * gain of ending responses with their turn can be told apart from the cost of
 * the gateway.
 */

import { createReadStream, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { benchFile, HELLO, ONE_MIB } from "./payloads.js";

/**
 * Responses ended once the requests of a turn of the event loop are handled:
 * the first of a turn after a quiet one at once, the rest in the check phase.
 */
class TurnEnds {
  #queued: Array<[ServerResponse, Buffer]> = [];
  #thisTurn = 0;
  #lastTurn = 0;
  #watched = false;

  readonly end = (res: ServerResponse, body: Buffer): void => {
    this.#thisTurn += 1;
    if (!this.#watched) {
      this.#watched = true;
      setImmediate(() => {
        this.#watched = false;
        this.#lastTurn = this.#thisTurn;
        this.#thisTurn = 0;
        const queued = this.#queued;
        this.#queued = [];
        for (const [each, last] of queued) if (!each.destroyed) each.end(last);
      });
    }
    if (this.#thisTurn === 1 && this.#lastTurn < 2) res.end(body);
    else this.#queued.push([res, body]);
  };
}

/** How a response with a body in memory is ended. */
type End = (res: ServerResponse, body: Buffer) => void;

/** Answer one request, as directly as `node:http` allows. */
export const rawListener = listenerEndingBy((res, body) => res.end(body));

/** `rawListener`, its in-memory bodies ended with their turn of the event loop. */
export const batchedRawListener = listenerEndingBy(new TurnEnds().end);

function listenerEndingBy(end: End): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => answer(req, res, end);
}

function answer(req: IncomingMessage, res: ServerResponse, end: End): void {
  if (req.method === "GET" && req.url === "/") {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": HELLO.length });
    end(res, HELLO);
  } else if (req.method === "GET" && req.url === "/1m") {
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": ONE_MIB.length,
    });
    end(res, ONE_MIB);
  } else if (req.method === "GET" && req.url === "/file") {
    const path = benchFile();
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": statSync(path).size,
    });
    // A client that goes away rejects the pipeline; nothing more to do then.
    pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), res).catch(() => undefined);
  } else if (req.method === "POST" && req.url === "/upload") {
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
    });
    req.on("end", () => {
      const body = Buffer.from(String(length));
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": body.length });
      res.end(body);
    });
  } else {
    res.writeHead(404, { "Content-Length": 0 });
    res.end();
  }
}
