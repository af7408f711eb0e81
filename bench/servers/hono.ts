/**
 * The Fetch-API servers: @hono/node-server serving either a plain Hono app
 * (the baseline), the benchmark's WSGI app through `toFetchHandler` (`--wsgi`),
 * or through the least a WSGI bridge does (`--floor`, `floor-bridge.ts`), each
 * answering `GET /` and `GET /1m` with the bytes of `payloads.ts`. Prints
 * `listening 127.0.0.1:PORT` once bound; SIGTERM closes it.
 *
 * Run: `node build/bench/servers/hono.js [--wsgi | --floor]`.
 */

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { toFetchHandler } from "../../src/fetch.js";
import { app } from "./app.js";
import { floorBridge } from "./floor-bridge.js";
import { HELLO, ONE_MIB } from "./payloads.js";

function plainHono(): Hono {
  const hono = new Hono();
  hono.get("/", (c) =>
    c.body(HELLO, 200, { "Content-Type": "text/plain", "Content-Length": String(HELLO.length) }),
  );
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
    : plainHono().fetch;
const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  process.stdout.write(`listening 127.0.0.1:${info.port}\n`);
});

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
});
