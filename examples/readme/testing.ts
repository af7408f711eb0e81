/**
 * The README's `wsgiref/testing` example: `createEnviron`, the environ the test
 * client would build, for calling an application by hand. Checks itself.
 *
 * Run: node build/examples/readme/testing.js
 */
import assert from "node:assert/strict";

import { createEnviron } from "wsgiref/testing";
import { app } from "./hello.js";

const environ = createEnviron("/by-hand?x=1", { method: "POST", body: "ping" });
// PATH_INFO "/by-hand", QUERY_STRING "x=1", CONTENT_LENGTH "4", wsgi.input holds "ping"
let status = "";
const body = app(environ, (s) => {
  status = s;
  return () => {};
});

assert.equal(status, "200 OK");
assert.equal(environ.CONTENT_LENGTH, "4");
assert.equal(new TextDecoder().decode((body as Uint8Array[])[0]), "Hello, /by-hand!\n");
