/**
 * The README's `wsgiref/fetch` example: a WSGI app mounted in a Hono app, and
 * that Hono app served back as a WSGI app. Checks itself.
 *
 * Run: node build/examples/readme/fetch.js
 */
import assert from "node:assert/strict";

import { Hono } from "hono";
import { mount } from "hono/mount";
import { fromFetchHandler, toFetchHandler } from "wsgiref/fetch";
import { Client } from "wsgiref/testing";
import { app as hello } from "./hello.js";

// A WSGI app where a Fetch handler goes: in Hono, under /wsgi.
const hono = new Hono();
hono.get("/", (c) => c.text("Hello from Hono"));
hono.all(
  "/wsgi/*",
  mount(toFetchHandler(hello, { scriptName: "/wsgi" }), { replaceRequest: false }),
);

// A Fetch handler where a WSGI app goes: wsgiref serve, CGI, validator().
export const app = fromFetchHandler(hono.fetch);

const client = new Client(app);
assert.equal(await (await client.get("/")).text(), "Hello from Hono");
assert.equal(await (await client.get("/wsgi/you")).text(), "Hello, /you!\n");
