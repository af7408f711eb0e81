/**
 * `wsgiref/fetch`: both directions of the Fetch API. `toFetchHandler` runs a
 * WSGI application wherever a `(request: Request) => Response | Promise<Response>` handler
 * runs (Hono's `app.mount()`, Deno and Bun, Workers, tests); `fromFetchHandler`
 * runs any such handler (a Hono app) under every gateway here: the server, CGI,
 * `validator()`.
 *
 * No Python counterpart: the bridge between PEP 3333 and the Fetch standard.
 *
 * @module wsgiref/fetch
 */

export type { FetchHandler } from "./fetch/from-fetch-handler.js";
export { fromFetchHandler } from "./fetch/from-fetch-handler.js";
export type { FetchHandlerOptions } from "./fetch/to-fetch-handler.js";
export { toFetchHandler } from "./fetch/to-fetch-handler.js";
export type { GatewayOptions } from "./gateway/options.js";
