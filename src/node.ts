/**
 * `wsgiref/node`: a WSGI application as a Node request listener, mounted in
 * `http.createServer`, `https.createServer`, `http2`'s compatibility API,
 * Express, Connect or Fastify's raw request and response.
 *
 * No Python counterpart: the bridge from PEP 3333 to Node's `(req, res)`
 * listeners, built on the server's own request handler.
 *
 * @module wsgiref/node
 */

export type { GatewayOptions } from "./gateway/options.js";
export type { NodeListener, NodeListenerOptions } from "./node/to-node-listener.js";
export { toNodeListener } from "./node/to-node-listener.js";
