/**
 * The README's `wsgiref/middleware` example: behind one proxy, `proxyFix` gives
 * the application the client's address, scheme and host from the proxy's
 * `X-Forwarded-*` headers. Checks itself.
 *
 * Run: node build/examples/readme/middleware.js
 */
import assert from "node:assert/strict";

import { proxyFix } from "wsgiref/middleware";
import type { WSGIApplication } from "wsgiref/types";
import { requestUri, setupTestingDefaults } from "wsgiref/util";

const whoAmI: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(`${environ.REMOTE_ADDR} asked for ${requestUri(environ)}`)];
};
// One proxy in front: trust one value of X-Forwarded-For, -Proto and -Host.
export const app = proxyFix(whoAmI, { xFor: 1, xProto: 1, xHost: 1 });

const environ = {
  REMOTE_ADDR: "127.0.0.1",
  PATH_INFO: "/hello",
  HTTP_X_FORWARDED_FOR: "203.0.113.7",
  HTTP_X_FORWARDED_PROTO: "https",
  HTTP_X_FORWARDED_HOST: "example.com",
};
setupTestingDefaults(environ);
const body = app(environ, () => () => {}) as Uint8Array[];
// "203.0.113.7 asked for https://example.com/hello"

assert.equal(new TextDecoder().decode(body[0]), "203.0.113.7 asked for https://example.com/hello");
