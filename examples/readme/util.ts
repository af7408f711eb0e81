/**
 * The README's `wsgiref/util` example: moving a path segment into SCRIPT_NAME
 * and rebuilding the URL, as Python's `wsgiref.util` does. Checks itself.
 *
 * Run: node build/examples/readme/util.js
 */
import assert from "node:assert/strict";

import { requestUri, setupTestingDefaults, shiftPathInfo } from "wsgiref/util";

const environ = { PATH_INFO: "/blog/2026/hello", QUERY_STRING: "draft=1" };
setupTestingDefaults(environ);
const first = shiftPathInfo(environ); // "blog"; SCRIPT_NAME is now "/blog", PATH_INFO "/2026/hello"
const url = requestUri(environ); // "http://127.0.0.1/blog/2026/hello?draft=1"

assert.equal(first, "blog");
assert.equal(environ.SCRIPT_NAME, "/blog");
assert.equal(environ.PATH_INFO, "/2026/hello");
assert.equal(url, "http://127.0.0.1/blog/2026/hello?draft=1");
