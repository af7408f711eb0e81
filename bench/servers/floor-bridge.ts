/**
 * The least any WSGI bridge to the Fetch API does, as a yardstick for
 * `toFetchHandler`: every header field of the `Request` read into an environ,
 * the benchmark's app called, a `Response` built from what it returned. Nothing
 * is checked (no status or header validation, no Content-Length accounting, no
 * error page, no `close()`), so it is no gateway to use: the distance between
 * it and a plain Hono handler is what reading a request as WSGI costs at least.
 */

import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";

/** A Fetch handler that runs `app` with none of a gateway's checks. */
export function floorBridge(app: WSGIApplication): (request: Request) => Promise<Response> {
  return async (request) => {
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
    const body = await app(env as unknown as WSGIEnvironment, (s, h) => {
      status = s;
      headers = h;
      return () => undefined;
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    const record: Record<string, string> = {};
    for (const [name, value] of headers) record[name] = value;
    return new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), {
      status: Number(status.slice(0, 3)),
      headers: record,
    });
  };
}
