/**
 * The README's `wsgiref/streams` example: a request body to read and an error
 * stream to collect, the parts of `wsgi.input` and `wsgi.errors` in a test.
 * Checks itself.
 *
 * Run: node build/examples/readme/streams.js
 */
import assert from "node:assert/strict";

import { BytesInput, StringErrors } from "wsgiref/streams";

const input = new BytesInput(new TextEncoder().encode("line 1\nline 2\n"));
const line = input.readline(); // the bytes of "line 1\n"
const rest = input.read(); // the bytes of "line 2\n"; then read() gives no bytes: the end
const errors = new StringErrors();
errors.write("something went wrong\n");
errors.getValue(); // "something went wrong\n"

assert.equal(Buffer.from(line).toString(), "line 1\n");
assert.equal(Buffer.from(rest).toString(), "line 2\n");
assert.equal(input.read().length, 0);
assert.equal(errors.getValue(), "something went wrong\n");
