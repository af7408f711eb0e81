/**
 * Dispatching with `shiftPathInfo`, as the wsgiref.util docs describe: each path
 * segment moves from PATH_INFO to SCRIPT_NAME, so a sub-application sees only the
 * rest of the path and can rebuild its own URL with `applicationUri`.
 *
 * Run: node build/examples/shift-path-info.js
 */

import type { PartialEnvironment } from "wsgiref/types";
import { applicationUri, requestUri, setupTestingDefaults, shiftPathInfo } from "wsgiref/util";

const environ: PartialEnvironment = {
  SCRIPT_NAME: "/app",
  PATH_INFO: "/blog/2026/hello",
  QUERY_STRING: "x=1",
};
setupTestingDefaults(environ);

console.log(requestUri(environ)); // http://127.0.0.1/app/blog/2026/hello?x=1
console.log(shiftPathInfo(environ)); // blog
console.log(environ.SCRIPT_NAME, environ.PATH_INFO); // /app/blog /2026/hello
console.log(applicationUri(environ)); // http://127.0.0.1/app/blog
