/**
 * Our server: `makeServer` from wsgiref/simple-server with the benchmark app, on
 * 127.0.0.1, a free port, no access log. Prints `listening 127.0.0.1:PORT` once
 * bound; SIGTERM shuts it down and exits (so `node --cpu-prof` writes its profile).
 * With `--validate`, the app is wrapped in `validator()`, as `wsgiref serve
 * --validate` does; with `--tls`, HTTPS with the benchmark's certificate
 * (`tls-env.ts`), and with `--http2` as well, HTTP/2 by ALPN beside HTTP/1.1.
 *
 * Run: `node build/bench/servers/ours.js [--validate] [--tls [--http2]]`.
 */

import { makeServer } from "../../src/simple-server.js";
import { validator } from "../../src/validate.js";
import { app } from "./app.js";
import { benchTls } from "./tls-env.js";

const served = process.argv.includes("--validate") ? validator(app) : app;
const tls = process.argv.includes("--tls") ? benchTls() : undefined;
const http2 = process.argv.includes("--http2");
const httpd = await makeServer("127.0.0.1", 0, served, undefined, undefined, {
  quiet: true,
  tls,
  http2,
});
const [host, port] = httpd.serverAddress;
process.stdout.write(`listening ${host}:${port}\n`);

process.once("SIGTERM", () => {
  void httpd.shutdown();
});
await httpd.serveForever();
await httpd.serverClose();
process.exit(0);
