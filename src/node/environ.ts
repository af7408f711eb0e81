/**
 * The environ of a request a host server hands to a Node listener: where it was
 * mounted (the `scriptName` option, Express's `req.baseUrl`) and which server
 * it came to (the local end of its connection).
 */

import { mountEnviron } from "../gateway/mount.js";
import type { ResolvedGatewayOptions } from "../gateway/options.js";
import { splitTarget, unquotePath } from "../gateway/request-head.js";
import type { PartialEnvironment } from "../types.js";

/** What a request may say about where it was mounted (Express, Connect). */
export interface MountedRequest {
  /** Express: the path the router matched to reach this handler, as sent. */
  readonly baseUrl?: unknown;
  /** Express and Connect: the request target before any router cut it. */
  readonly originalUrl?: unknown;
}

/** The environ every request starts from; its server fields are filled per request. */
export const BASE_ENVIRON: PartialEnvironment = {
  SERVER_NAME: "",
  GATEWAY_INTERFACE: "CGI/1.1",
  SERVER_PORT: "",
  REMOTE_HOST: "",
  CONTENT_LENGTH: "",
  SCRIPT_NAME: "",
  // Bodies are received whole before the application runs.
  "wsgi.input_terminated": true,
};

/**
 * Put the request's mount point and host server into `env`, which the request
 * stage built from `req.url`: `SCRIPT_NAME` from `scriptName` or Express's
 * `req.baseUrl`, `PATH_INFO` the rest, `REQUEST_URI` the original target,
 * `SERVER_NAME` and `SERVER_PORT` the local end of the connection, `HTTPS` on
 * over TLS, and the `environ` option's keys last.
 */
export function mountedEnviron(
  env: PartialEnvironment,
  req: MountedRequest,
  socket: {
    localAddress?: string | undefined;
    localPort?: number | undefined;
    encrypted?: unknown;
  },
  settings: ResolvedGatewayOptions,
): void {
  const original = req.originalUrl;
  const baseUrl = req.baseUrl;
  if (typeof original === "string") env.REQUEST_URI = original;
  if (settings.scriptName !== "") {
    // The whole path (a router may have cut part of req.url), under the option's mount.
    if (typeof original === "string") env.PATH_INFO = unquotePath(splitTarget(original)[0]);
    mountEnviron(env, settings.scriptName);
  } else if (typeof baseUrl === "string" && baseUrl !== "") {
    env.SCRIPT_NAME = unquotePath(baseUrl);
    // Express hands the mount point itself over as req.url "/": the
    // application's root without a trailing slash is PATH_INFO '', as a
    // CGI server and Werkzeug's dispatcher give it.
    if (typeof original === "string" && splitTarget(original)[0] === baseUrl) env.PATH_INFO = "";
  }
  env.SERVER_NAME = socket.localAddress ?? "";
  env.SERVER_PORT = socket.localPort === undefined ? "" : String(socket.localPort);
  if (socket.encrypted === true) env.HTTPS = "on";
  Object.assign(env, settings.environ);
}
