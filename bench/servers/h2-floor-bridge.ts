/**
 * The least any WSGI gateway over `node:http2` does, as a yardstick for our
 * HTTP/2 server: the stream's header fields read into an environ (pseudo-headers
 * as the CGI variables, every other field as an `HTTP_` variable), the
 * benchmark's app called, its status and fields responded with (names lower
 * case, a `Server` field added, as a WSGI server sends one), its body written.
 * Nothing is checked (no status or field validation, no Content-Length
 * accounting, no error page, no limits, no access log), so it is no gateway to
 * use: the distance between it and the raw `node:http2` baseline is what
 * answering a stream through WSGI costs at least.
 */

import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { WSGIApplication } from "../../src/types.js";
import { callApp, httpVariable } from "./floor-bridge.js";

/** A `stream` listener that runs `app` with none of a gateway's checks. */
export function h2FloorBridge(
  app: WSGIApplication,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => void {
  return (stream, headers, _flags, raw) => {
    // A reset stream emits an error; a gateway must at least not crash on it.
    stream.on("error", () => undefined);
    const path = headers[":path"] ?? "/";
    const query = path.indexOf("?");
    const authority = headers[":authority"] ?? "";
    const env: Record<string, unknown> = {
      REQUEST_METHOD: headers[":method"],
      SCRIPT_NAME: "",
      PATH_INFO: query < 0 ? path : path.slice(0, query),
      QUERY_STRING: query < 0 ? "" : path.slice(query + 1),
      SERVER_NAME: authority,
      SERVER_PORT: "",
      SERVER_PROTOCOL: "HTTP/2",
      REMOTE_ADDR: stream.session?.socket.remoteAddress ?? "",
      CONTENT_TYPE: "",
      CONTENT_LENGTH: "",
      HTTP_HOST: authority,
      "wsgi.version": [1, 0],
      "wsgi.url_scheme": "https",
      "wsgi.input": undefined,
      "wsgi.errors": undefined,
      "wsgi.multithread": false,
      "wsgi.multiprocess": false,
      "wsgi.run_once": false,
    };
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.charCodeAt(0) === 0x3a) continue;
      env[httpVariable(name)] = raw[i + 1];
    }
    const answer = callApp(app, env);
    const head: OutgoingHttpHeaders = { ":status": answer.code, server: "floor" };
    for (const [name, value] of answer.fields) head[name.toLowerCase()] = value;
    stream.respond(head);
    stream.end(answer.body);
  };
}
