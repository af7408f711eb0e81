/**
 * A Fetch `Request` described as the request stage reads every request: a
 * `RequestHead` (method, target, header fields, peer) and the server's part of
 * its environ, taken from its URL.
 */

import { serverVersion } from "../gateway/gateway-handler.js";
import type { RequestHead, RequestPeer } from "../gateway/request-head.js";
import type { PartialEnvironment } from "../types.js";
import type { RequestUrl } from "./request-url.js";

/**
 * Describe `request` (at `url`, its parsed URL, sent by `peer`) as a `RequestHead`: HTTP/1.1,
 * the target as the URL's path and query, and a `Host` field from the URL when
 * the request has none (a Fetch `Request` made in process usually has none).
 * `method`: the request's, when the caller read it already (each read of a
 * `Request`'s field checks what it is called on).
 */
export function fetchHead(
  request: Request,
  url: RequestUrl,
  peer: RequestPeer,
  method: string = request.method,
): RequestHead {
  const raw: string[] = [];
  let hasHost = false;
  // Names come lower-cased, repeated fields joined with ", " (set-cookie apart).
  for (const [name, value] of request.headers) {
    if (name === "host") hasHost = true;
    raw.push(name, value);
  }
  if (!hasHost) raw.unshift("host", url.host);
  return {
    method,
    url: `${url.pathname}${url.search}`,
    httpVersion: "1.1",
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    rawHeaders: raw,
    socket: peer,
  };
}

/**
 * The server's part of the environ of a request to `url`: `SERVER_NAME` and
 * `SERVER_PORT` from it (the scheme's default port when it has none), `HTTPS`
 * `on` for an `https:` URL (so `wsgi.url_scheme` is `https`), and the keys
 * `WSGIServer` sets for every request.
 */
export function urlBaseEnviron(url: RequestUrl): PartialEnvironment {
  const https = url.protocol === "https:";
  const host = url.hostname;
  // The keys in the order of WSGIServer's own base environ, which the request
  // stage copies fastest; the two others after them.
  const env: PartialEnvironment = {
    // An IPv6 literal without its brackets, as a socket address reads.
    SERVER_NAME: host.charCodeAt(0) === 0x5b ? host.slice(1, -1) : host,
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PORT: url.port === "" ? (https ? "443" : "80") : url.port,
    REMOTE_HOST: "",
    CONTENT_LENGTH: "",
    SCRIPT_NAME: "",
    // Bodies are received whole before the application runs.
    "wsgi.input_terminated": true,
  };
  env.SERVER_SOFTWARE = serverVersion;
  if (https) env.HTTPS = "on";
  return env;
}
