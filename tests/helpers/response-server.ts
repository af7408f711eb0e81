/**
 * Fixtures for the wsgiref/response tests: a real server routing paths to
 * handler applications (validated or not, per route), raw-socket requests that
 * return every byte, a streaming client, Node's and curl's requests, and a
 * Set-Cookie parser.
 */

import { execFile } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { promisify } from "node:util";
import { type Handler, type HandlerAppOptions, handlerApp } from "../../src/response/index.js";
import type { WSGIApplication } from "../../src/types.js";
import { validator } from "../../src/validate.js";
import { collect, open, type Running, serve } from "./server-client.js";

export { collect, exchange, header, open, parseResponses, request } from "./server-client.js";

const run = promisify(execFile);

/** A route: a handler, run validated (`wsgi`) or as it is (`raw`: not WSGI-conformant output). */
export interface Route {
  handler: Handler;
  mode?: "wsgi" | "raw";
}

/**
 * Serve each route's handler under its path (PATH_INFO, query ignored); a route
 * in `wsgi` mode (the default) is wrapped in `validator()`. Other paths are 404.
 */
export async function serveRoutes(
  routes: Record<string, Handler | Route>,
  options: HandlerAppOptions = {},
): Promise<Running> {
  const apps = new Map<string, WSGIApplication>();
  for (const [path, route] of Object.entries(routes)) {
    const { handler, mode = "wsgi" } = typeof route === "function" ? { handler: route } : route;
    const app = handlerApp(handler, options);
    apps.set(path, mode === "wsgi" ? validator(app) : app);
  }
  return serve((environ, startResponse) => {
    const app = apps.get(environ.PATH_INFO ?? "");
    if (app !== undefined) return app(environ, startResponse);
    startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
    return [Buffer.from("no such route\n")];
  });
}

/** Send one raw HTTP/1.1 GET (or `method`) of `target` and read everything until the server closes. */
export async function rawGet(
  port: number,
  target: string,
  method = "GET",
  headers: string[] = [],
): Promise<string> {
  const socket = await open(port);
  const received = collect(socket);
  socket.write(
    `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`,
  );
  return (await received).toString("latin1");
}

/** A response read by Node's HTTP client. */
export interface ClientResponse {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** Make a request with Node's HTTP client (no agent: a fresh connection). */
export async function fetchNode(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<ClientResponse> {
  const req = httpRequest({
    host: "127.0.0.1",
    port,
    path,
    method: init.method ?? "GET",
    headers: init.headers,
    agent: false,
  });
  req.end(init.body);
  const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return {
    status: res.statusCode ?? 0,
    statusMessage: res.statusMessage ?? "",
    headers: res.headers,
    rawHeaders: res.rawHeaders,
    body: Buffer.concat(chunks),
  };
}

/** Run curl with `args` (silent, failing on nothing); resolves to its stdout. */
export async function curl(args: string[]): Promise<string> {
  const { stdout } = await run("curl", ["--silent", "--show-error", ...args], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return stdout;
}

/** Read from `socket` until `text` has arrived; resolves to all received so far. */
export function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (chunk: Buffer): void => {
      received += chunk.toString("latin1");
      if (received.includes(text)) {
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve(received);
      }
    };
    const onClose = (): void =>
      reject(new Error(`closed before ${JSON.stringify(text)}: ${received}`));
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}

/** A parsed Set-Cookie value: name, value and attributes (keys lower-cased; flags map to true). */
export interface ParsedCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** Parse a `Set-Cookie` value back, as RFC 6265 §5.2 reads one. */
export function parseSetCookie(text: string): ParsedCookie {
  const [pair = "", ...rest] = text.split(";");
  const eq = pair.indexOf("=");
  const attributes: Record<string, string | true> = {};
  for (const item of rest) {
    const at = item.indexOf("=");
    if (at === -1) attributes[item.trim().toLowerCase()] = true;
    else attributes[item.slice(0, at).trim().toLowerCase()] = item.slice(at + 1).trim();
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** A promise with its resolver, for a handler to signal a test (no sleeps). */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
