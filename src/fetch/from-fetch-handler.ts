/**
 * `fromFetchHandler`: a Fetch handler (a Hono app's `fetch`, an itty router, any
 * `(request: Request) => Response`) as a WSGI application, to run under every
 * gateway here: the server, CGI, `validator()`. The environ becomes a
 * `Request` whose body streams from `wsgi.input`; the `Response` becomes the
 * status, headers and an iterable that streams its body.
 */

import { show } from "../internal/check.js";
import { markHandled } from "../internal/thenable.js";
import { reasonPhrase } from "../response/status-codes.js";
import type { InputStream, WSGIApplication, WSGIBody, WSGIEnvironment } from "../types.js";
import { isHopByHop, requestUri } from "../util.js";

/**
 * A Fetch handler: any function from a `Request` to a `Response`. It is given
 * the request's WSGI environ as a second argument (Hono's `c.env`), for what a
 * `Request` cannot say: `REMOTE_ADDR`, `wsgi.errors`, a gateway's own keys.
 */
export type FetchHandler = (
  request: Request,
  environ: WSGIEnvironment,
) => Response | Promise<Response>;

/** How much of `wsgi.input` one pull of the request body reads. */
const READ_SIZE = 64 * 1024;

const DIGITS = /^[0-9]+$/;

/** The request's header fields, from the environ's `HTTP_*`, `CONTENT_TYPE` and `CONTENT_LENGTH`. */
function headersOf(environ: WSGIEnvironment, hasBody: boolean): Headers {
  const headers = new globalThis.Headers();
  for (const key in environ) {
    if (!key.startsWith("HTTP_") || key === "HTTP_CONTENT_TYPE" || key === "HTTP_CONTENT_LENGTH") {
      continue;
    }
    const value = environ[key as `HTTP_${string}`];
    const name = key.slice(5).replaceAll("_", "-").toLowerCase();
    // They described the hop to this gateway, which has ended there.
    if (typeof value !== "string" || isHopByHop(name)) continue;
    headers.append(name, value);
  }
  if (environ.CONTENT_TYPE) headers.set("content-type", environ.CONTENT_TYPE);
  const length = environ.CONTENT_LENGTH;
  if (hasBody && typeof length === "string" && DIGITS.test(length)) {
    headers.set("content-length", length);
  }
  return headers;
}

/**
 * The request body as a stream over `wsgi.input`, read one piece at a time as
 * the handler pulls it: `CONTENT_LENGTH` bytes, or to the end when the gateway
 * says reading to the end is safe (`wsgi.input_terminated`) and no length was
 * given; `null` when there is none (PEP 3333: no `CONTENT_LENGTH`, no body).
 */
function bodyOf(environ: WSGIEnvironment): ReadableStream<Uint8Array> | null {
  const method = environ.REQUEST_METHOD;
  // A Fetch Request refuses a body for these.
  if (method === "GET" || method === "HEAD") return null;
  const length = environ.CONTENT_LENGTH;
  let left: number;
  if (typeof length === "string" && DIGITS.test(length)) left = Number(length);
  else if (environ["wsgi.input_terminated"] === true) left = Number.POSITIVE_INFINITY;
  else return null;
  if (left === 0) return null;
  const input: InputStream = environ["wsgi.input"];
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = input.read(Math.min(READ_SIZE, left));
        if (chunk.length === 0) {
          controller.close();
          return;
        }
        left -= chunk.length;
        controller.enqueue(chunk);
        if (left <= 0) controller.close();
      },
    },
    // Read only when pulled: nothing is read ahead of the handler.
    { highWaterMark: 0 },
  );
}

/**
 * The WSGI status of `response`: its code, then its `statusText` when not empty,
 * else the code's standard reason phrase, else `Unknown`.
 */
function statusOf(response: Response): string {
  const reason = response.statusText || reasonPhrase(response.status) || "Unknown";
  return `${response.status} ${reason}`;
}

/**
 * The body of `response` as a WSGI body: an async iterable of its chunks whose
 * `close()` cancels what is left of it and aborts the request's signal (the
 * client went away, or the gateway stopped early).
 */
function bodyIterable(response: Response, abort: AbortController, skip: boolean): WSGIBody {
  const stream = response.body;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let finished = stream === null;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (reader !== undefined) markHandled(reader.cancel());
    else if (stream !== null && !stream.locked) markHandled(stream.cancel());
    abort.abort();
  };
  if (skip) finish();
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          if (finished || stream === null) return { done: true, value: undefined };
          reader ??= stream.getReader();
          const step = await reader.read();
          if (step.done) {
            finished = true;
            return { done: true, value: undefined };
          }
          return { done: false, value: step.value };
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          finish();
          return { done: true, value: undefined };
        },
      };
    },
    close: finish,
  };
}

/**
 * Make a WSGI application that answers each request with `handler`.
 *
 * The `Request`'s URL is the request's own (`wsgiref.util.requestUri`:
 * `SCRIPT_NAME` and `PATH_INFO` included, so a Hono app mounted under a prefix
 * routes with `basePath(prefix)`), its header fields the environ's `HTTP_*`
 * keys (hop-by-hop fields dropped), its body a stream over `wsgi.input`, read
 * as the handler reads it, and its `signal` aborted when the gateway closes the
 * response early (the client went away). The handler is given the environ as
 * a second argument. The status is the `Response`'s code with its `statusText`,
 * else the code's standard phrase, else `Unknown`; its header fields pass
 * except hop-by-hop ones (which describe a hop that ends here); its body
 * streams as the application's iterable, not read ahead, and is cancelled if
 * the gateway closes it first. A handler that throws or rejects is the
 * application's error, which the gateway answers (a 500 before the headers).
 *
 * @example
 * const hono = new Hono().get("/", (c) => c.text("Hello from Hono"));
 * await makeServer("127.0.0.1", 8000, fromFetchHandler(hono.fetch));
 */
export function fromFetchHandler(handler: FetchHandler): WSGIApplication {
  if (typeof handler !== "function") {
    throw new TypeError(`handler must be a function: ${show(handler)}`);
  }
  return async (environ, startResponse) => {
    const body = bodyOf(environ);
    const abort = new AbortController();
    const init: RequestInit & { duplex?: "half" } = {
      method: environ.REQUEST_METHOD,
      headers: headersOf(environ, body !== null),
      body,
      signal: abort.signal,
    };
    // A stream body is sent as it is read (Node's fetch requires saying so).
    if (body !== null) init.duplex = "half";
    const request = new Request(requestUri(environ), init);
    const response = await handler(request, environ);
    // Duck-typed: a runtime or adapter may install a Response class of its own
    // (@hono/node-server does).
    if (typeof response?.status !== "number" || typeof response.headers?.entries !== "function") {
      throw new TypeError(`the Fetch handler must return a Response: ${show(response)}`);
    }
    const headers: Array<[string, string]> = [];
    for (const [name, value] of response.headers) {
      if (!isHopByHop(name)) headers.push([name, value]);
    }
    startResponse(statusOf(response), headers);
    return bodyIterable(response, abort, environ.REQUEST_METHOD === "HEAD");
  };
}
