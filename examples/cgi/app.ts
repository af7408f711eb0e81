/**
 * An example WSGI application to deploy as CGI (see docs/cgi.md): it greets, then
 * shows what the CGI host passed in, decoding the path's raw bytes as UTF-8.
 *
 * The launcher next to it, `hello.mjs`, is the script the CGI host executes.
 */

import type { WSGIApplication } from "wsgiref/types";

/** Decode a "bytes in unicode" environ string (one code point per byte) as UTF-8. */
const utf8 = (s: unknown): string => Buffer.from(String(s ?? ""), "latin1").toString("utf8");

export const app: WSGIApplication = (environ, startResponse) => {
  const input = environ["wsgi.input"];
  const body = input === undefined ? 0 : input.read().length;
  const lines = [
    "Hello from CGI!",
    "",
    `method:       ${environ.REQUEST_METHOD}`,
    `script name:  ${utf8(environ.SCRIPT_NAME)}`,
    `path info:    ${utf8(environ.PATH_INFO)}`,
    `query string: ${utf8(environ.QUERY_STRING)}`,
    `body bytes:   ${body}`,
    `run once:     ${environ["wsgi.run_once"]}`,
    "",
  ];
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [Buffer.from(lines.join("\n"), "utf8")];
};
