/**
 * The README's `wsgiref/types` example: what an application receives (a
 * `WSGIEnvironment`, PEP 3333's required keys present) and what a test builds (a
 * `PartialEnvironment`, completed by `setupTestingDefaults`). Checks itself.
 *
 * Run: node build/examples/readme/types.js
 */
import assert from "node:assert/strict";

import type { PartialEnvironment, WSGIApplication } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";

export const app: WSGIApplication = (environ, startResponse) => {
  const agent = environ.HTTP_USER_AGENT ?? "someone"; // a header: string | undefined
  const body = environ["wsgi.input"].read(); // bytes the Fetch API also takes as a body
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(`${environ.REQUEST_METHOD} by ${agent}: ${body.length} bytes`)];
};

const environ: PartialEnvironment = { REQUEST_METHOD: "POST", HTTP_USER_AGENT: "curl" };
setupTestingDefaults(environ); // now a WSGIEnvironment, as far as the compiler knows
const body = app(environ, () => () => {});

assert.ok(Array.isArray(body));
assert.equal(new TextDecoder().decode(body[0]), "POST by curl: 0 bytes");
