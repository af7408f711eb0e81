/**
 * A real app a user writes: a WSGI front for a Fetch API handler. It hands the
 * request body from `wsgi.input` to `new Request(…)` and the headers from the
 * environ's `HTTP_*` keys to `Headers`, with no cast: `read()` returns bytes the
 * Fetch API takes as a body (`Uint8Array<ArrayBuffer>`), and `HTTP_*` keys are
 * strings. tests/types.test.ts runs it, and compiles this file against the DOM
 * library too, whose `BodyInit` refuses a `Uint8Array<ArrayBufferLike>`.
 */
import type { WSGIApplication, WSGIEnvironment } from "wsgiref/types";
import { requestUri } from "wsgiref/util";

/** What the bridge serves: any function from a Fetch `Request` to a `Response`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** The request's headers, from the environ's `HTTP_*`, `CONTENT_TYPE` and `CONTENT_LENGTH` keys. */
function headersOf(environ: WSGIEnvironment): Headers {
  const headers = new Headers();
  for (const key of Object.keys(environ)) {
    if (!key.startsWith("HTTP_")) continue;
    const value = environ[key as `HTTP_${string}`];
    if (value !== undefined) headers.set(key.slice(5).replaceAll("_", "-"), value);
  }
  if (environ.CONTENT_TYPE) headers.set("Content-Type", environ.CONTENT_TYPE);
  return headers;
}

/** Serve `handler` as a WSGI application. */
export function fetchBridge(handler: FetchHandler): WSGIApplication {
  return async (environ, startResponse) => {
    const method = environ.REQUEST_METHOD.toUpperCase();
    const hasBody = method !== "GET" && method !== "HEAD";
    const request = new Request(requestUri(environ), {
      method,
      headers: headersOf(environ),
      body: hasBody ? environ["wsgi.input"].read() : null,
    });
    const response = await handler(request);
    const headers: Array<[string, string]> = [...response.headers];
    startResponse(`${response.status} ${response.statusText || "Unknown"}`, headers);
    return [new Uint8Array(await response.arrayBuffer())];
  };
}

/** A Fetch handler that echoes the method, the `X-Name` header and the body it was sent. */
export const echo: FetchHandler = async (request) => {
  const body = new Uint8Array(await request.arrayBuffer());
  // The same bytes straight back as a body, the case TS 5.7's typed arrays made strict.
  return new Response(
    body.length > 0 ? body : `${request.method} ${request.headers.get("x-name")}`,
    {
      status: 200,
      statusText: "OK",
      headers: { "Content-Type": "text/plain" },
    },
  );
};
