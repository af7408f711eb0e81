/**
 * A WSGI app mounted into a Hono app, served by @hono/node-server: Hono routes
 * beside it, the WSGI app under /wsgi with `SCRIPT_NAME` `/wsgi`.
 *
 * Run: node build/examples/fetch/mount-in-hono.js 8000
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { mount } from "hono/mount";
import { toFetchHandler } from "wsgiref/fetch";
import type { WSGIApplication } from "wsgiref/types";

/** Says where it is mounted and what it was asked for. */
export const wsgiApp: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`WSGI at ${environ.SCRIPT_NAME}, asked ${environ.PATH_INFO}\n`)];
};

export const hono = new Hono();
hono.get("/", (c) => c.text("Hono at /\n"));
// The request goes on unchanged: the WSGI side splits its path at scriptName.
hono.all(
  "/wsgi/*",
  mount(toFetchHandler(wsgiApp, { scriptName: "/wsgi" }), { replaceRequest: false }),
);

if (import.meta.url === `file://${process.argv[1]}`) {
  serve(
    { fetch: hono.fetch, port: Number(process.argv[2] ?? 8000), hostname: "127.0.0.1" },
    (info) => console.log(`Serving on port ${info.port}`),
  );
}
