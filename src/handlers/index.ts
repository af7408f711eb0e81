/**
 * `wsgiref/handlers`: the gateway engine (port of Python's `wsgiref.handlers`),
 * one class family per file.
 *
 * @module wsgiref/handlers
 */

export type { HeadersClass } from "./base-handler.js";
export { BaseHandler, formatDateTime } from "./base-handler.js";
export { BaseCGIHandler, CGIHandler, IISCGIHandler, readEnviron } from "./cgi-handler.js";
export type { OutputStream } from "./simple-handler.js";
export { SimpleHandler } from "./simple-handler.js";
