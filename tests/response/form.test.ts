/**
 * Regression tests for `src/response/form.ts` found by the form fuzz target
 * (reliability/fuzz/form.ts); the forms' ordinary behaviour is tested through
 * `Request` in request.test.ts.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { setImmediate } from "node:timers/promises";
import { DEFAULT_FORM_LIMITS, FormError, parseMultipart } from "../../src/response/form.js";

describe("parseMultipart", () => {
  it("rejects a body that ends inside a file part, without an uncaught error", async () => {
    const body = Buffer.from(
      '--x\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\nab',
    );
    await assert.rejects(
      parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      (err: unknown) =>
        err instanceof FormError &&
        err.status === 400 &&
        err.message === "multipart/form-data body is malformed: Unexpected end of form",
    );
    // busboy destroyed the file's stream with the error on the next tick: an
    // 'error' event without a listener would fail this test as uncaught.
    await setImmediate();
    await setImmediate();
  });
});
