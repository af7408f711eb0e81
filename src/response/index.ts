/**
 * `wsgiref/response`: wptserve-style handlers, `(request, response) => void`, as
 * WSGI applications, with exact control of the bytes on the wire when asked for.
 *
 * Port of wptserve's `Request`, `Response`, `ResponseHeaders` and
 * `ResponseWriter` (web-platform-tests); docs/response.md maps their Python names.
 *
 * @module wsgiref/response
 */

export type { CookieOptions, Duration } from "./cookies.js";
export type { FormLimits, FormValue } from "./form.js";
export { DiskFilePart, FilePart, FormError } from "./form.js";
export type { H2HeaderList, H2PushOptions } from "./h2-response.js";
export { H2Response, H2ResponseWriter } from "./h2-response.js";
export type { Handler, HandlerAppOptions } from "./handler-app.js";
export { handlerApp } from "./handler-app.js";
export { MultiDict, RequestHeaders } from "./multi-dict.js";
export type { RequestLimits } from "./request.js";
export { Request } from "./request.js";
export { RequestError } from "./request-error.js";
export type { ContentPart, ResponseContent, StatusInit } from "./response.js";
export { Response } from "./response.js";
export type { HeaderValue } from "./response-headers.js";
export { ResponseHeaders } from "./response-headers.js";
export type { Chunk } from "./response-writer.js";
export { ResponseWriter } from "./response-writer.js";
export { reasonPhrase } from "./status-codes.js";
