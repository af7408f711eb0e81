/**
 * The application the deployment examples serve (examples/deploy/Dockerfile,
 * wsgiref.service): hello world, and the URL it was asked for, as a proxy in
 * front made it known with --proxy-headers.
 */

import type { WSGIApplication } from "wsgiref";
import { requestUri } from "wsgiref/util";

export const app: WSGIApplication = (environ, startResponse) => {
  const body = Buffer.from(`Hello from wsgiref at ${requestUri(environ)}\n`);
  startResponse("200 OK", [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(body.length)],
  ]);
  return [body];
};
