/**
 * `handlerApp`: a wptserve-style handler, `(request, response) => void`, run as
 * a WSGI application.
 *
 * wptserve's server calls a handler, then writes the response unless the handler
 * wrote it (`if not response.writer.content_written: response.write()`); this is
 * that loop as a WSGI application, so any gateway can serve it.
 */

import { show } from "../internal/check.js";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "../types.js";
import { formKind } from "./form.js";
import { H2Response, H2ResponseWriter, h2WriterInternals, isHttp2Request } from "./h2-response.js";
import { Request, type RequestLimits, resolveRequestLimits } from "./request.js";
import { RequestError } from "./request-error.js";
import { Response } from "./response.js";
import { ResponseOutput } from "./response-output.js";
import { writerInternals } from "./response-writer.js";

/** A wptserve-style handler: fill in or write `response`; may be async. */
export type Handler = (request: Request, response: Response) => void | Promise<void>;

/** Options of `handlerApp`: the limits on each request's body and form (`Request.POST`). */
export type HandlerAppOptions = RequestLimits;

/**
 * Run `handler` for one request, then write the response it left (all of it
 * when it wrote nothing; the blank line of a head it left open). The returned
 * promise never rejects: errors go to the body, which hands them to the gateway.
 */
async function run(
  handler: Handler,
  request: Request,
  response: Response,
  output: ResponseOutput,
): Promise<void> {
  try {
    const contentType = request.environ.CONTENT_TYPE;
    if (typeof contentType === "string" && formKind(contentType) === "multipart") {
      // Parsed before the handler, so that POST can be read synchronously; a
      // FormError is kept and thrown again where the handler reads POST. The
      // parse reads the body a chunk at a time, other requests served between.
      await request.loadPost().then(undefined, keepForPost);
    }
    await handler(request, response);
    if (!writerInternals.started(response.writer)) response.write();
    else writerInternals.finish(response.writer);
    // An HTTP/2 stream the handler took over and left open is ended, as wptserve does.
    if (response.writer instanceof H2ResponseWriter) h2WriterInternals.finish(response.writer);
  } catch (err) {
    if (!(err instanceof RequestError) || writerInternals.started(response.writer)) {
      output.fail(err);
      return;
    }
    // A body or form past its limits or malformed is the client's error: answer it so.
    try {
      response.setError(err.status, err.message);
      response.write();
    } catch (writeErr) {
      output.fail(writeErr);
      return;
    }
  }
  output.finish();
}

function keepForPost(): void {
  // Request keeps the error; reading POST throws it.
}

/**
 * Turn `handler` into a WSGI application.
 *
 * For each request it builds a `Request` (held to `options`: `RequestLimits`)
 * and a `Response` (an `H2Response` for a request that came over HTTP/2), parses a multipart form and calls the handler; when the
 * handler returns (or its promise settles) without having written anything, it
 * writes the response (`response.write()`). The body it returns to the gateway
 * streams what the handler writes, as it writes it. When the gateway closes that
 * body, the request is closed: the temporary file of its form is removed.
 *
 * A handler that throws before writing anything gets the gateway's error page
 * (500, the error on `wsgi.errors`), except for a `RequestError` (a `FormError`
 * from `request.POST`, a body past `maxBodyMemory`), answered with
 * `setError(400 or 413)`; after the response has started, the gateway cuts the
 * connection. Once the client has gone, writes return false and the body waits
 * for the handler to finish; an error it throws then goes to `wsgi.errors`.
 *
 * Throws a `TypeError` when `handler` is not a function or `options` is invalid.
 *
 * @example
 * ```ts
 * import { makeServer } from "wsgiref/simple-server";
 * import { handlerApp } from "wsgiref/response";
 *
 * const app = handlerApp((request, response) => {
 *   response.headers.set("Content-Type", "application/json");
 *   response.content = JSON.stringify({ path: request.urlParts.pathname });
 * });
 * const httpd = await makeServer("127.0.0.1", 8000, app);
 * await httpd.serveForever();
 * ```
 *
 * @see wptserve's `handlers.FunctionHandler` and `server.WebTestRequestHandler.finish_handling`
 */
export function handlerApp(handler: Handler, options: HandlerAppOptions = {}): WSGIApplication {
  if (typeof handler !== "function") {
    throw new TypeError(`handler must be a function: ${show(handler)}`);
  }
  const limits = resolveRequestLimits(options);
  return (environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody => {
    const request = new Request(environ, limits);
    const output = new ResponseOutput(environ, startResponse);
    const response = isHttp2Request(environ)
      ? new H2Response(request, output)
      : new Response(request, output);
    output.closeConnection = () => response.closeConnection;
    output.onClose = () => request.close();
    void run(handler, request, response, output);
    return output;
  };
}
