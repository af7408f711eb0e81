/**
 * Baseline for `--workers N`: a `node:cluster` of N plain `node:http` workers
 * sharing one port (default 2). The primary prints `listening 127.0.0.1:PORT` once
 * every worker listens; SIGTERM stops the workers, then the primary.
 *
 * Run: `node build/bench/servers/raw-cluster.js [workers]`.
 */

import cluster from "node:cluster";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { rawListener } from "./raw-listener.js";

const PORT_ENV = "WSGIREF_BENCH_PORT";

/** A port free right now, found by binding port 0 and letting it go. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

if (cluster.isPrimary) {
  const count = Number(process.argv[2] ?? 2);
  // Every worker must listen on the same port: choose it here and pass it down.
  const port = await freePort();
  let listening = 0;
  for (let i = 0; i < count; i++) {
    cluster.fork({ [PORT_ENV]: String(port) }).once("listening", () => {
      listening += 1;
      if (listening === count) {
        process.stdout.write(`listening 127.0.0.1:${port}\n`);
      }
    });
  }
  process.once("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      worker?.process.kill("SIGTERM");
    }
    cluster.disconnect(() => process.exit(0));
  });
} else {
  const server = createHttpServer(rawListener);
  server.listen(Number(process.env[PORT_ENV]), "127.0.0.1");
  process.once("SIGTERM", () => process.exit(0));
}
