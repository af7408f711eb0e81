/**
 * docs/testing.md's tests, each a way to test a WSGI application: called
 * directly, through SimpleHandler under validator(), and over a real server.
 *
 * Run: node --test build/examples/testing/app.test.js
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimpleHandler } from "wsgiref/handlers";
import { makeServer } from "wsgiref/simple-server";
import { BytesInput, StringErrors } from "wsgiref/streams";
import type { PartialEnvironment } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";
import { validator } from "wsgiref/validate";
import { app } from "./app.js";

test("greets by path, called directly", () => {
  const environ: PartialEnvironment = { PATH_INFO: "/ada" };
  setupTestingDefaults(environ);
  let status = "";
  const body = app(environ, (s) => {
    status = s;
    return () => {};
  });
  assert.equal(status, "200 OK");
  assert.deepEqual(body, [new TextEncoder().encode("Hello, ada!\n")]);
});

/** Run `app` under validator() through SimpleHandler: the response's bytes and wsgi.errors. */
async function call(environ: PartialEnvironment, body = new Uint8Array()) {
  setupTestingDefaults(environ);
  const chunks: Uint8Array[] = [];
  const stdout = { write: (data: Uint8Array) => void chunks.push(data) };
  const errors = new StringErrors();
  await new SimpleHandler(new BytesInput(body), stdout, errors, environ).run(validator(app));
  return { response: Buffer.concat(chunks).toString("latin1"), errors: errors.getValue() };
}

test("echoes a posted body, within PEP 3333", async () => {
  const body = new TextEncoder().encode("ping");
  const { response, errors } = await call(
    { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(body.length), QUERY_STRING: "" },
    body,
  );
  assert.match(response, /^HTTP\/1\.0 200 OK\r\n/);
  assert.ok(response.endsWith("\r\n\r\nping"));
  assert.equal(errors, "");
});

test("writes to wsgi.errors when there is nobody to greet", async () => {
  const { errors } = await call({ PATH_INFO: "/", QUERY_STRING: "" });
  assert.equal(errors, "nobody to greet\n");
});

test("answers over a real server on a free port", async () => {
  await using httpd = await makeServer("127.0.0.1", 0, app, undefined, undefined, {
    quiet: true,
  });
  const serving = httpd.serveForever();
  const [host, port] = httpd.serverAddress;
  const response = await fetch(`http://${host}:${port}/grace`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "Hello, grace!\n");
  await httpd.shutdown();
  await serving;
});
