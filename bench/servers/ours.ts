/**
 * Our server: `makeServer` from wsgiref/simple-server with the benchmark app, on
 * 127.0.0.1, a free port, no access log. Prints `listening 127.0.0.1:PORT` once
 * bound; SIGTERM shuts it down and exits (so `node --cpu-prof` writes its profile).
 * With `--validate`, the app is wrapped in `validator()`, as `wsgiref serve
 * --validate` does.
 *
 * Run: `node build/bench/servers/ours.js [--validate]`.
 */

import { makeServer } from "../../src/simple-server.js";
import { validator } from "../../src/validate.js";
import { app } from "./app.js";

const served = process.argv.includes("--validate") ? validator(app) : app;
const httpd = await makeServer("127.0.0.1", 0, served, undefined, undefined, { quiet: true });
const [host, port] = httpd.serverAddress;
process.stdout.write(`listening ${host}:${port}\n`);

process.once("SIGTERM", () => {
  void httpd.shutdown();
});
await httpd.serveForever();
await httpd.serverClose();
process.exit(0);
