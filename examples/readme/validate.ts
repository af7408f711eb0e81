/**
 * The README's `wsgiref/validate` example: an application that forgets its
 * `Content-Type`, caught by `validator()` with Python's message, under the
 * in-memory `SimpleHandler`. Checks itself.
 *
 * Run: node build/examples/readme/validate.js
 */
import assert from "node:assert/strict";

import { SimpleHandler } from "wsgiref/handlers";
import { BytesInput, StringErrors } from "wsgiref/streams";
import { setupTestingDefaults } from "wsgiref/util";
import { validator } from "wsgiref/validate";

const forgetful = validator((_environ, startResponse) => {
  startResponse("200 OK", []); // no Content-Type: PEP 3333's validator refuses that
  return [new TextEncoder().encode("hi")];
});

const environ = { QUERY_STRING: "" };
setupTestingDefaults(environ);
const output: Uint8Array[] = [];
const errors = new StringErrors();
const stdout = { write: (data: Uint8Array) => void output.push(data) };
await new SimpleHandler(new BytesInput(), stdout, errors, environ).run(forgetful);
// errors.getValue() holds "AssertionError [ERR_ASSERTION]: No Content-Type header found in headers ([])"
// and the stack; the client got a 500.

assert.match(errors.getValue(), /No Content-Type header found in headers \(\[\]\)/);
assert.match(Buffer.concat(output).toString("latin1"), /^HTTP\/1\.0 500 Internal Server Error\r\n/);
