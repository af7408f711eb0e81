/**
 * The README's `wsgiref/simple-server` example: the first app served from code,
 * as Python's `make_server(...).serve_forever()`, on the port given as the first
 * argument (8000 by default; 0 picks a free one).
 *
 * Run: node build/examples/readme/serve.js 0
 */
import { makeServer } from "wsgiref/simple-server";
import { app } from "./hello.js";

const port = Number(process.argv[2] ?? 8000);
await using httpd = await makeServer("127.0.0.1", port, app);
console.log(`Serving on port ${httpd.serverAddress[1]}`);
await httpd.serveForever(); // until httpd.shutdown()
