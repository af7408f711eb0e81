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

  it("rejects a part without a name as malformed (RFC 7578 §4.2), field or file", async () => {
    for (const disposition of ['form-data; nme="a"', 'form-data; filename="f.txt"']) {
      const body = Buffer.from(`--x\r\nContent-Disposition: ${disposition}\r\n\r\n1\r\n--x--\r\n`);
      await assert.rejects(
        parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
        (err: unknown) =>
          err instanceof FormError &&
          err.status === 400 &&
          err.message === "multipart/form-data part has no name (RFC 7578 §4.2)",
      );
    }
    // A nameless file part in a body that ends inside it: its stream fails too.
    const cut = Buffer.from('--x\r\nContent-Disposition: form-data; filename="f"\r\n\r\nab');
    await assert.rejects(
      parseMultipart(cut, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      FormError,
    );
    // Before, the nameless part reached MultiDict.add() in busboy's 'close' handler,
    // whose TypeError was uncaught.
    await setImmediate();
    await setImmediate();
  });

  it("rejects a file part cut short after the close delimiter, where busboy never settles", async () => {
    const body = Buffer.from(
      '--x--\r\n--x\r\n--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nab',
    );
    await assert.rejects(
      parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      (err: unknown) =>
        err instanceof FormError &&
        err.status === 400 &&
        err.message === "multipart/form-data body is malformed: the body ends inside a file part",
    );
  });

  it("still reads a large file part whole", async () => {
    const data = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const body = Buffer.concat([
      Buffer.from('--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n'),
      data,
      Buffer.from("\r\n--x--\r\n"),
    ]);
    const form = await parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS);
    assert.equal((form.get("f") as Uint8Array).byteLength, data.length);
  });
});
