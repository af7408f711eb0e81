/**
 * Baseline server: one `node:http` process on 127.0.0.1, a free port, the
 * benchmark routes; with `--floor`, the same server answering through
 * `h1-floor-bridge.ts`. Prints `listening 127.0.0.1:PORT` once bound; SIGTERM
 * closes it.
 *
 * Run: `node build/bench/servers/raw-http.js [--batched | --floor]`.
 */

import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { app } from "./app.js";
import { h1FloorBridge } from "./h1-floor-bridge.js";
import { batchedRawListener, rawListener } from "./raw-listener.js";

/** The listener the flags ask for. */
function listener(): RequestListener {
  if (process.argv.includes("--floor")) return h1FloorBridge(app);
  // Responses ended with their turn, as our server ends them.
  if (process.argv.includes("--batched")) return batchedRawListener;
  return rawListener;
}

const server = createServer(listener());
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
