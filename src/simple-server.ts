/**
 * `wsgiref/simple-server`: an HTTP/1.1 server for WSGI applications, on
 * `node:http`.
 *
 * Port of Python's `wsgiref.simple_server`, one class per file under
 * `simple-server/`.
 *
 * @module wsgiref/simple-server
 */

export { demoApp } from "./simple-server/demo-app.js";
export { type RequestHandlerServer, WSGIRequestHandler } from "./simple-server/request-handler.js";
export {
  CONNECTION_KEY,
  type RequestLogger,
  type ServerConnection,
  ServerHandler,
  serverVersion,
  softwareVersion,
  sysVersion,
} from "./simple-server/server-handler.js";
export {
  makeServer,
  type RequestHandlerClass,
  type ResolvedServerOptions,
  type ServerClass,
  type ServerOptions,
  WSGIServer,
} from "./simple-server/wsgi-server.js";
