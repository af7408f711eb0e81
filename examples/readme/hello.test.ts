/**
 * The README's "Testing it": the first app called through the in-process test
 * client, which runs it under `validator()`, as a test author would write it.
 *
 * Run: node --test build/examples/readme/hello.test.js
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "wsgiref/testing";
import { app } from "./hello.js";

test("hello answers 200 within PEP 3333", async () => {
  const client = new Client(app); // under validator(): a PEP 3333 violation rejects
  const response = await client.get("/you");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("Content-Type"), "text/plain; charset=utf-8");
  assert.equal(await response.text(), "Hello, /you!\n");
  assert.equal(client.errors, ""); // what the app wrote to wsgi.errors
});
