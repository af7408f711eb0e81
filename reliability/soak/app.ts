/**
 * The soak run's WSGI application, served by `wsgiref serve` in a process of its
 * own: small answers, 1 MiB answers (with and without `Content-Length`), and
 * uploads read to their end and hashed, so every path through the server
 * (in-memory and spooled bodies, fixed-length and chunked responses) is loaded.
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { WSGIApplication, WSGIBody, WSGIEnvironment } from "../../src/types.js";

/** The body of `GET /small`. */
export const SMALL = Buffer.from("ok\n");
/** The size of `GET /large` and `GET /chunked`. */
export const LARGE_SIZE = 1024 * 1024;
const LARGE = Buffer.alloc(LARGE_SIZE, "x");
/** `GET /chunked` sends the 1 MiB in pieces of this size, with no `Content-Length`. */
const PIECE = 64 * 1024;

/** The answer of `POST /upload` for `body`: its length and SHA-256, so the client can check both. */
export function uploadAnswer(body: Uint8Array): string {
  return `${body.length} ${createHash("sha256").update(body).digest("hex")}\n`;
}

/** Read `wsgi.input` to its end in reads of various sizes and hash it. */
function hashInput(environ: WSGIEnvironment): Buffer {
  const input = environ["wsgi.input"];
  const hash = createHash("sha256");
  let length = 0;
  if (input !== undefined) {
    // Mixed read sizes walk both the block cache and the direct path of a spooled body.
    const sizes = [1000, 64 * 1024, 7, 300 * 1024];
    for (let i = 0; ; i++) {
      const chunk = input.read(sizes[i % sizes.length]!);
      if (chunk.length === 0) break;
      hash.update(chunk);
      length += chunk.length;
    }
  }
  return Buffer.from(`${length} ${hash.digest("hex")}\n`);
}

function* pieces(): Generator<Uint8Array> {
  for (let at = 0; at < LARGE_SIZE; at += PIECE) {
    yield LARGE.subarray(at, at + PIECE);
  }
}

/** Answer the soak routes; anything else is a 404, which the run counts as an error. */
export const app: WSGIApplication = (environ, startResponse): WSGIBody => {
  const route = `${environ.REQUEST_METHOD} ${environ.PATH_INFO}`;
  if (route === "GET /small") {
    startResponse("200 OK", [
      ["Content-Type", "text/plain"],
      ["Content-Length", String(SMALL.length)],
    ]);
    return [SMALL];
  }
  if (route === "GET /large") {
    startResponse("200 OK", [
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(LARGE_SIZE)],
    ]);
    return [LARGE];
  }
  if (route === "GET /chunked") {
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return pieces();
  }
  if (route === "POST /upload") {
    const answer = hashInput(environ);
    startResponse("200 OK", [
      ["Content-Type", "text/plain"],
      ["Content-Length", String(answer.length)],
    ]);
    return [answer];
  }
  const body = Buffer.from(`no route ${route}\n`);
  startResponse("404 Not Found", [
    ["Content-Type", "text/plain"],
    ["Content-Length", String(body.length)],
  ]);
  return [body];
};
