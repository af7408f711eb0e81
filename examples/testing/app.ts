/**
 * The application docs/testing.md tests: it greets by path, echoes a posted body,
 * and warns through `wsgi.errors` when asked for nothing.
 */
import type { WSGIApplication } from "wsgiref/types";

export const app: WSGIApplication = (environ, startResponse) => {
  if (environ.REQUEST_METHOD === "POST") {
    const length = Number(environ.CONTENT_LENGTH || 0);
    const body = environ["wsgi.input"].read(length);
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return [body];
  }
  if (environ.PATH_INFO === "/") {
    environ["wsgi.errors"].write("nobody to greet\n");
  }
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello, ${environ.PATH_INFO.slice(1) || "nobody"}!\n`)];
};
