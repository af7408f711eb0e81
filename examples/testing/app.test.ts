/**
 * docs/testing.md's tests, each a way to test a WSGI application: called
 * directly, through the in-process test client (validator() on), and over a
 * real server.
 *
 * Run: node --test build/examples/testing/app.test.js
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeServer } from "wsgiref/simple-server";
import { Client } from "wsgiref/testing";
import type { PartialEnvironment } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";
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

test("echoes a posted body, within PEP 3333", async () => {
  const client = new Client(app); // under validator(): a violation rejects with Python's message
  const response = await client.post("/", { body: "ping" });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "ping");
  assert.equal(client.lastEnviron?.CONTENT_LENGTH, "4");
  assert.equal(client.errors, "");
});

test("writes to wsgi.errors when there is nobody to greet", async () => {
  const client = new Client(app);
  await client.get("/");
  assert.equal(client.errors, "nobody to greet\n");
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
