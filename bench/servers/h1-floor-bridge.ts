/**
 * The least any WSGI gateway over `node:http` does, as a yardstick for our
 * HTTP/1.1 server: the request's header fields read into an environ (the
 * request line as the CGI variables, every field as an `HTTP_` variable), the
 * benchmark's app called, its status and fields written with `writeHead()` (a
 * `Server` field added, as a WSGI server sends one; Node adds its own `Date`,
 * after the app's fields), its body ended with the response. Nothing is checked
 * (no refusal of a bad request, no status or field validation of our own, no
 * Content-Length accounting, no error page, no limits, no access log), so it is
 * no gateway to use: the distance between it and the raw `node:http` baseline is
 * what answering a request through WSGI costs at least.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { WSGIApplication } from "../../src/types.js";
import { callApp, httpVariable } from "./floor-bridge.js";

/** A `request` listener that runs `app` with none of a gateway's checks. */
export function h1FloorBridge(
  app: WSGIApplication,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const target = req.url ?? "/";
    const query = target.indexOf("?");
    const socket = req.socket;
    const env: Record<string, unknown> = {
      REQUEST_METHOD: req.method,
      SCRIPT_NAME: "",
      PATH_INFO: query < 0 ? target : target.slice(0, query),
      QUERY_STRING: query < 0 ? "" : target.slice(query + 1),
      SERVER_NAME: socket.localAddress ?? "",
      SERVER_PORT: String(socket.localPort ?? ""),
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      REMOTE_ADDR: socket.remoteAddress ?? "",
      CONTENT_TYPE: "",
      CONTENT_LENGTH: "",
      "wsgi.version": [1, 0],
      "wsgi.url_scheme": "http",
      "wsgi.input": undefined,
      "wsgi.errors": undefined,
      "wsgi.multithread": false,
      "wsgi.multiprocess": false,
      "wsgi.run_once": false,
    };
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      env[httpVariable(raw[i] as string)] = raw[i + 1];
    }
    const answer = callApp(app, env);
    const fields = ["Server", "floor"];
    for (const [name, value] of answer.fields) fields.push(name, value);
    res.writeHead(answer.code, fields);
    res.end(answer.body);
  };
}
