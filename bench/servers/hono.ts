/**
 * The Fetch-API servers: @hono/node-server serving either a plain Hono app
 * (the baseline), the same app reading every field of the request's headers
 * first (`--read-headers`: what PEP 3333 makes any WSGI bridge do, since each
 * field is an `HTTP_` variable of the environ), the benchmark's WSGI app
 * through `toFetchHandler` (`--wsgi`), or through the least a WSGI bridge does
 * (`--floor`, `floor-bridge.ts`), each answering `GET /` and `GET /1m` with the
 * bytes of `payloads.ts`. Prints `listening 127.0.0.1:PORT` once bound;
 * SIGTERM closes it.
 *
 * Run: `node build/bench/servers/hono.js [--read-headers | --wsgi | --floor]`.
 */

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { toFetchHandler } from "../../src/fetch.js";
import { app } from "./app.js";
import { floorBridge } from "./floor-bridge.js";
import { HELLO, ONE_MIB } from "./payloads.js";

/** Read every field of `headers`, as a WSGI bridge must; the count of characters read. */
function readEvery(headers: Headers): number {
  let read = 0;
  for (const [name, value] of headers) read += name.length + value.length;
  return read;
}

function plainHono(readHeaders: boolean): Hono {
  const hono = new Hono();
  hono.get("/", (c) => {
    // The count is sent nowhere, but keeps the read from being optimised away.
    const read = readHeaders ? readEvery(c.req.raw.headers) : 0;
    return c.body(HELLO, 200, {
      "Content-Type": read < 0 ? "text/html" : "text/plain",
      "Content-Length": String(HELLO.length),
    });
  });
  hono.get("/1m", (c) =>
    c.body(ONE_MIB, 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(ONE_MIB.length),
    }),
  );
  return hono;
}

const fetch = process.argv.includes("--wsgi")
  ? toFetchHandler(app)
  : process.argv.includes("--floor")
    ? floorBridge(app)
    : plainHono(process.argv.includes("--read-headers")).fetch;
const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  process.stdout.write(`listening 127.0.0.1:${info.port}\n`);
});

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
});
