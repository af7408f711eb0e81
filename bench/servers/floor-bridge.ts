/**
 * The least any WSGI bridge to the Fetch API does, as a yardstick for
 * `toFetchHandler`: every header field of the `Request` read into an environ,
 * the benchmark's app called (its list body taken as it is), a `Response` built
 * from what it returned. Nothing
 * is checked (no status or header validation, no Content-Length accounting, no
 * error page, no `close()`), so it is no gateway to use: the distance between
 * it and a plain Hono handler is what reading a request as WSGI costs at least.
 */

import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";

/** A Fetch handler that runs `app` with none of a gateway's checks. */
export function floorBridge(app: WSGIApplication): (request: Request) => Response {
  return (request) => {
    const url = new URL(request.url);
    const env: Record<string, unknown> = {
      REQUEST_METHOD: request.method,
      SCRIPT_NAME: "",
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      SERVER_NAME: url.hostname,
      SERVER_PORT: url.port,
      SERVER_PROTOCOL: "HTTP/1.1",
      REMOTE_ADDR: "",
      CONTENT_TYPE: "",
      CONTENT_LENGTH: "",
      "wsgi.version": [1, 0],
      "wsgi.url_scheme": url.protocol.slice(0, -1),
      "wsgi.input": undefined,
      "wsgi.errors": undefined,
      "wsgi.multithread": false,
      "wsgi.multiprocess": false,
      "wsgi.run_once": false,
    };
    for (const [name, value] of request.headers) env[httpVariable(name)] = value;
    const answer = callApp(app, env);
    const record: Record<string, string> = {};
    for (const [name, value] of answer.fields) record[name] = value;
    // The Response itself, not a promise of it: a host writes that out at once.
    return new Response(answer.body, { status: answer.code, headers: record });
  };
}

/** The environ key every floor gives a request field: `User-Agent` is `HTTP_USER_AGENT`. */
export function httpVariable(name: string): string {
  return `HTTP_${name.toUpperCase().replaceAll("-", "_")}`;
}

/** What the app answered: its status code, its header fields and its body's bytes. */
export interface FloorAnswer {
  code: number;
  fields: Array<[string, string]>;
  body: Uint8Array;
}

/**
 * Call `app` with `env` and take its answer as it is: no status or field
 * check, and the body read as a list (the benchmark's app answers with one),
 * no iterator.
 */
export function callApp(app: WSGIApplication, env: Record<string, unknown>): FloorAnswer {
  let status = "500 Internal Server Error";
  let fields: Array<[string, string]> = [];
  const body = app(env as unknown as WSGIEnvironment, (s, h) => {
    status = s;
    fields = h;
    return () => undefined;
  });
  if (!Array.isArray(body)) throw new TypeError("the floor takes a list body");
  return {
    code: Number(status.slice(0, 3)),
    fields,
    body: body.length === 1 ? (body[0] as Uint8Array) : Buffer.concat(body),
  };
}
