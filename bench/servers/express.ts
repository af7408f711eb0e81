/**
 * The Express servers: an Express 5 app answering `GET /app/` and
 * `GET /app/1m` with the bytes of `payloads.ts`, either from Express routes (the
 * baseline) or from the benchmark's WSGI app mounted under `/app` with
 * `toNodeListener`. Prints `listening 127.0.0.1:PORT` once bound; SIGTERM
 * closes it. Both also answer `GET /` (after the measured routes) for the
 * harness's readiness check.
 *
 * Run: `node build/bench/servers/express.js [--wsgi]`.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { toNodeListener } from "../../src/node.js";
import { app } from "./app.js";
import { HELLO, ONE_MIB } from "./payloads.js";

function plainExpress(): express.Express {
  const routes = express();
  routes.get("/app/", (_req, res) => {
    res
      .status(200)
      .set({ "Content-Type": "text/plain", "Content-Length": String(HELLO.length) })
      .end(HELLO);
  });
  routes.get("/app/1m", (_req, res) => {
    res
      .status(200)
      .set({ "Content-Type": "application/octet-stream", "Content-Length": String(ONE_MIB.length) })
      .end(ONE_MIB);
  });
  return routes;
}

function mountedWsgi(): express.Express {
  const mounted = express();
  mounted.use("/app", toNodeListener(app));
  return mounted;
}

const served = process.argv.includes("--wsgi") ? mountedWsgi() : plainExpress();
// After the measured routes: the harness's readiness check asks for `/`.
served.get("/", (_req, res) => {
  res.status(200).end(HELLO);
});
const server = createServer(served);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
