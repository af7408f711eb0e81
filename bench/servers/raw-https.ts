/**
 * Baselines over TLS, one process on 127.0.0.1, a free port, the benchmark's
 * certificate (`tls-env.ts`): `node:https` with the raw listener (HTTPS/1.1),
 * or with `--h2` a `node:http2` secure server answering hello world on its core
 * API as directly as it allows (HTTP/2 only); with `--h2 --floor`, the same
 * server answering through `h2-floor-bridge.ts`. Prints `listening
 * 127.0.0.1:PORT` once bound; SIGTERM closes it.
 *
 * Run: `node build/bench/servers/raw-https.js [--h2 [--floor]]`.
 */

import { createSecureServer, type ServerHttp2Stream } from "node:http2";
import { createServer } from "node:https";
import type { AddressInfo, Server } from "node:net";
import { app } from "./app.js";
import { h2FloorBridge } from "./h2-floor-bridge.js";
import { HELLO } from "./payloads.js";
import { rawListener } from "./raw-listener.js";
import { benchTls } from "./tls-env.js";

const tls = benchTls();

/** The HTTP/2 baseline: hello world on the core API, 404 otherwise. */
function h2Server(): Server {
  const h2 = createSecureServer(tls);
  if (process.argv.includes("--floor")) {
    h2.on("stream", h2FloorBridge(app));
    return h2;
  }
  h2.on("stream", (stream: ServerHttp2Stream, headers) => {
    if (headers[":method"] === "GET" && headers[":path"] === "/") {
      stream.respond({
        ":status": 200,
        "content-type": "text/plain",
        "content-length": HELLO.length,
      });
      stream.end(HELLO);
    } else {
      stream.respond({ ":status": 404, "content-length": 0 });
      stream.end();
    }
  });
  return h2;
}

const server: Server = process.argv.includes("--h2") ? h2Server() : createServer(tls, rawListener);
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.once("SIGTERM", () => process.exit(0));
