/**
 * `wsgiref/testing`: an in-process test client (`Client`) and the environ a
 * request would get (`createEnviron`), for tests that need no socket.
 *
 * No module of Python's `wsgiref`: Werkzeug's `test` module (`Client`,
 * `create_environ`) is the model.
 *
 * @module wsgiref/testing
 */

export type { ClientOptions, RequestInput } from "./testing/client.js";
export { Client } from "./testing/client.js";
export type { EnvironInit } from "./testing/create-environ.js";
export { createEnviron } from "./testing/create-environ.js";
