/**
 * Python's `wsgiref.validate` example (wsgiref docs): an application that is
 * deliberately not compliant, wrapped in `validator()` and served, so the
 * validator reports what is wrong.
 *
 * The app returns a bare `Uint8Array` where WSGI wants an iterable of them (a
 * Python `bytes` body). Each request is answered 500 and the validator's
 * `AssertionError` goes to `wsgi.errors` (the server's stderr). Python serves on
 * port 8000 of every interface; this serves on 127.0.0.1 and takes another port
 * as its argument (0 picks a free one).
 *
 * Run: node build/examples/validator-demo.js [PORT]
 */
import { makeServer } from "wsgiref/simple-server";
import type { StartResponse, WSGIBody, WSGIEnvironment } from "wsgiref/types";
import { validator } from "wsgiref/validate";

// Our callable object which is intentionally not compliant to the
// standard, so the validator is going to break
function simpleApp(_environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody {
  const status = "200 OK"; // HTTP Status
  const headers: Array<[string, string]> = [["Content-type", "text/plain"]]; // HTTP Headers
  startResponse(status, headers);

  // This is going to break because we need to return a list, and
  // the validator is going to inform us
  return new TextEncoder().encode("Hello World") as unknown as WSGIBody;
}

// This is the application wrapped in a validator
const validatorApp = validator(simpleApp);

const port = Number(process.argv[2] ?? 8000);
await using httpd = await makeServer("127.0.0.1", port, validatorApp);
console.log(`Listening on port ${httpd.serverAddress[1]}....`);
await httpd.serveForever();
