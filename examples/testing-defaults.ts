/**
 * The example of Python's `setup_testing_defaults` (wsgiref.util docs): a
 * relatively simple WSGI application that prints out the environ after
 * `setupTestingDefaults` has filled in what was missing.
 *
 * Python serves on port 8000 of every interface; this serves on 127.0.0.1 and
 * takes another port as its argument (0 picks a free one).
 *
 * Run: node build/examples/testing-defaults.js [PORT]
 * The application is exported too, for tests; importing the module serves nothing.
 */
import { fileURLToPath } from "node:url";
import { makeServer } from "wsgiref/simple-server";
import type { StartResponse, WSGIEnvironment } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";

// A relatively simple WSGI application. It's going to print out the
// environment object after being updated by setupTestingDefaults
export function simpleApp(environ: WSGIEnvironment, startResponse: StartResponse): Uint8Array[] {
  setupTestingDefaults(environ);

  const status = "200 OK";
  const headers: Array<[string, string]> = [["Content-type", "text/plain; charset=utf-8"]];

  startResponse(status, headers);

  const encoder = new TextEncoder();
  const ret = Object.entries(environ).map(([key, value]) => encoder.encode(`${key}: ${value}\n`));
  return ret;
}

// Python's `if __name__ == '__main__'`: serve only when run as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8000);
  await using httpd = await makeServer("127.0.0.1", port, simpleApp);
  console.log(`Serving on port ${httpd.serverAddress[1]}...`);
  await httpd.serveForever();
}
