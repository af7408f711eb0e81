/**
 * Python's "Hello World" WSGI application (wsgiref docs, Examples), served by
 * `makeServer`.
 *
 * Python serves on port 8000 of every interface; this serves on 127.0.0.1, as
 * `wsgiref serve` does by default, and takes another port as its argument
 * (0 picks a free one).
 *
 * Run: node build/examples/hello-world.js [PORT]
 * The application is exported too, for tests; importing the module serves nothing.
 */
import { fileURLToPath } from "node:url";
import { makeServer } from "wsgiref/simple-server";
import type { StartResponse, WSGIEnvironment } from "wsgiref/types";

// Every WSGI application must have an application object - a callable object
// that accepts two arguments. For that purpose, we're going to use a function
// (note that you're not limited to a function, you can use a class for
// example). The first argument passed to the function is an object containing
// CGI-style environment variables and the second is the callable object.
export function helloWorldApp(
  _environ: WSGIEnvironment,
  startResponse: StartResponse,
): Uint8Array[] {
  const status = "200 OK"; // HTTP Status
  const headers: Array<[string, string]> = [["Content-type", "text/plain; charset=utf-8"]]; // HTTP Headers
  startResponse(status, headers);

  // The returned object is going to be printed
  return [new TextEncoder().encode("Hello World")];
}

// Python's `if __name__ == '__main__'`: serve only when run as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8000);
  await using httpd = await makeServer("127.0.0.1", port, helloWorldApp);
  console.log(`Serving on port ${httpd.serverAddress[1]}...`);

  // Serve until process is killed
  await httpd.serveForever();
}
