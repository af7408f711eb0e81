/**
 * The README's "Validating apps in tests": the first app run through
 * `SimpleHandler` under `validator()`, as a test author would write it.
 *
 * Run: node --test build/examples/readme/hello.test.js
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimpleHandler } from "wsgiref/handlers";
import { BytesInput, StringErrors } from "wsgiref/streams";
import type { PartialEnvironment } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";
import { validator } from "wsgiref/validate";
import { app } from "./hello.js";

test("hello answers 200 within PEP 3333", async () => {
  const chunks: Uint8Array[] = [];
  const stdout = { write: (b: Uint8Array) => void chunks.push(b) };
  const errors = new StringErrors();
  const environ: PartialEnvironment = { PATH_INFO: "/you" };
  setupTestingDefaults(environ);
  await new SimpleHandler(new BytesInput(), stdout, errors, environ).run(validator(app));
  assert.equal(errors.getValue(), "");
  const response = Buffer.concat(chunks).toString("latin1");
  assert.match(response, /^HTTP\/1\.0 200 OK\r\n/);
  assert.match(response, /\r\n\r\nHello, \/you!\n$/);
});
