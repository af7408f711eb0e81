/**
 * A slow streaming handler: one line every `delay` milliseconds, `lines` times
 * (`/?lines=10&delay=500`; defaults 5 and 200), sent as it is written (chunked
 * through WSGI, so it works under any gateway). It stops as soon as a write
 * returns false, which is how a handler learns that the client has gone.
 *
 * Run: node build/examples/response/slow-stream.js [PORT]
 * then: curl -N http://127.0.0.1:PORT/?lines=5&delay=1000
 */

import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { handlerApp } from "wsgiref/response";
import { makeServer } from "wsgiref/simple-server";

function count(value: string | undefined, fallback: number, max: number): number {
  const n = Number(value ?? fallback);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
}

export const app = handlerApp(async (request, response) => {
  const lines = count(request.GET.get("lines"), 5, 1000);
  const delay = count(request.GET.get("delay"), 200, 60_000);
  response.headers.set("Content-Type", "text/plain; charset=utf-8");
  // Status and headers go out now; what follows is streamed.
  response.writeStatusHeaders();
  for (let i = 1; i <= lines; i++) {
    if (!response.writer.write(`line ${i} of ${lines}\n`)) {
      process.stderr.write(`client left after ${i - 1} lines\n`);
      return;
    }
    if (i < lines) await sleep(delay);
  }
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8000);
  await using httpd = await makeServer("127.0.0.1", port, app);
  console.log(`Serving on port ${httpd.serverAddress[1]}...`);
  await httpd.serveForever();
}
