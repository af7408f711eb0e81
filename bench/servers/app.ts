/**
 * The benchmark's WSGI application: the routes of `payloads.ts`, written as a
 * plain application would be. Served by `ours.ts` (makeServer) and by the
 * `wsgiref serve build/bench/servers/app.js:app` command for `--workers`.
 */

import { Buffer } from "node:buffer";
import { statSync } from "node:fs";
import type { WSGIApplication, WSGIBody } from "../../src/types.js";
import { FileWrapper, openFile } from "../../src/util.js";
import { benchFile, HELLO, ONE_MIB } from "./payloads.js";

/** Read `wsgi.input` to its end in large reads and return how many bytes came. */
function drain(environ: Parameters<WSGIApplication>[0]): number {
  const input = environ["wsgi.input"];
  let length = 0;
  if (input === undefined) {
    return length;
  }
  for (let chunk = input.read(1024 * 1024); chunk.length > 0; chunk = input.read(1024 * 1024)) {
    length += chunk.length;
  }
  return length;
}

/** Answer the benchmark routes. */
export const app: WSGIApplication = (environ, startResponse): WSGIBody => {
  const method = environ.REQUEST_METHOD;
  const path = environ.PATH_INFO;
  if (method === "GET" && path === "/") {
    startResponse("200 OK", [
      ["Content-Type", "text/plain"],
      ["Content-Length", String(HELLO.length)],
    ]);
    return [HELLO];
  }
  if (method === "GET" && path === "/1m") {
    startResponse("200 OK", [
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(ONE_MIB.length)],
    ]);
    return [ONE_MIB];
  }
  if (method === "GET" && path === "/file") {
    const file = benchFile();
    startResponse("200 OK", [
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(statSync(file).size)],
    ]);
    // The server's own wrapper, so it can recognise the body and use sendfile().
    const Wrapper = environ["wsgi.file_wrapper"] ?? FileWrapper;
    return new Wrapper(openFile(file), 1024 * 1024);
  }
  if (method === "POST" && path === "/upload") {
    const body = Buffer.from(String(drain(environ)));
    startResponse("200 OK", [
      ["Content-Type", "text/plain"],
      ["Content-Length", String(body.length)],
    ]);
    return [body];
  }
  startResponse("404 Not Found", [["Content-Length", "0"]]);
  return [];
};
