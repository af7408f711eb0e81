/**
 * A Hono app as a WSGI application: `fromFetchHandler(hono.fetch)` runs under
 * `wsgiref serve`, CGI and `validator()` like any WSGI app. The environ is the
 * Hono context's `env`.
 *
 * Run: npx wsgiref serve examples/fetch/hono-app.ts
 */
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { fromFetchHandler } from "wsgiref/fetch";
import type { WSGIEnvironment } from "wsgiref/types";

export const hono = new Hono<{ Bindings: WSGIEnvironment }>();

hono.get("/hello/:name", (c) => c.text(`Hello, ${c.req.param("name")}!`));

// The body arrives as the client sent it, read from wsgi.input as Hono reads it.
hono.post("/echo", async (c) =>
  c.body(await c.req.arrayBuffer(), 200, {
    "Content-Type": c.req.header("Content-Type") ?? "application/octet-stream",
  }),
);

// What only the gateway knows comes from the environ.
hono.get("/who", (c) => c.json({ url: c.req.url, remote: c.env.REMOTE_ADDR }));

hono.get("/count", (c) => {
  // Python's validator wants every response but 204 and 304 typed.
  c.header("Content-Type", "text/plain; charset=utf-8");
  return stream(c, async (s) => {
    for (let i = 1; i <= 3; i++) await s.write(`${i}\n`);
  });
});

export const app = fromFetchHandler(hono.fetch);
