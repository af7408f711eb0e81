/**
 * The README's `wsgiref/node` example: a WSGI app mounted in Express 5 under
 * /wsgi, beside an Express route. Checks itself over a real socket.
 *
 * Run: node build/examples/readme/node.js
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";

import express from "express";
import { toNodeListener } from "wsgiref/node";
import { app as hello } from "./hello.js";

const web = express();
web.get("/", (_req, res) => {
  res.send("Hello from Express");
});
// SCRIPT_NAME is "/wsgi", PATH_INFO the rest of the path.
web.use("/wsgi", toNodeListener(hello));

const server = web.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
assert.equal(await (await fetch(`${base}/`)).text(), "Hello from Express");
assert.equal(await (await fetch(`${base}/wsgi/you`)).text(), "Hello, /you!\n");
server.closeAllConnections();
server.close();
