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
    for (const [name, value] of request.headers) {
      env[`HTTP_${name.toUpperCase().replaceAll("-", "_")}`] = value;
    }
    let status = "500 Internal Server Error";
    let headers: Array<[string, string]> = [];
    const body = app(env as unknown as WSGIEnvironment, (s, h) => {
      status = s;
      headers = h;
      return () => undefined;
    });
    // The benchmark's app answers with a list: read it as it is, no iterator.
    if (!Array.isArray(body)) throw new TypeError("the floor takes a list body");
    const record: Record<string, string> = {};
    for (const [name, value] of headers) record[name] = value;
    const bytes = body.length === 1 ? (body[0] as Uint8Array) : Buffer.concat(body);
    // The Response itself, not a promise of it: a host writes that out at once.
    return new Response(bytes, { status: Number(status.slice(0, 3)), headers: record });
  };
}
