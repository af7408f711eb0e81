/**
 * `toNodeListener`: a WSGI application as a Node `(req, res, next?)` listener,
 * for `http.createServer`, `https.createServer`, `http2.createSecureServer`'s
 * compatibility API, Express, Connect, and Fastify's raw request and response.
 *
 * An HTTP/1 request is served by the server's own request handler
 * (`WSGIRequestHandler` given a `RequestHandlerServer`, the seam
 * docs/architecture.md describes): the same refusals, body spooling, limits,
 * output stage and error handling as `wsgiref serve`, with none of its
 * connection management (the host server owns the connections). An HTTP/2
 * request goes through the same stages (`http2-compat.ts`).
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { TLSSocket } from "node:tls";
import {
  type GatewayOptions,
  type ResolvedGatewayOptions,
  resolveGatewayOptions,
} from "../gateway/options.js";
import { show } from "../internal/check.js";
import { formatError } from "../internal/format-error.js";
import { HttpDates } from "../internal/http-date.js";
import { EndBatch } from "../simple-server/end-batch.js";
import { type RequestHandlerServer, WSGIRequestHandler } from "../simple-server/request-handler.js";
import { continueSent } from "../simple-server/response-sink.js";
import type { PartialEnvironment, WSGIApplication } from "../types.js";
import { BASE_ENVIRON, type MountedRequest, mountedEnviron } from "./environ.js";
import { serveHttp2 } from "./http2-compat.js";

/** Options of `toNodeListener`. */
export type NodeListenerOptions = GatewayOptions;

/**
 * A Node request listener that also takes Connect's and Express's `next`
 * (never called: the listener answers every request itself, errors included).
 */
export type NodeListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  next?: (err?: unknown) => void,
) => void;

/** Whether a request's head says a body follows it (HTTP/1). */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** `WSGIRequestHandler` for a request a host server hands over. */
class ListenerRequestHandler extends WSGIRequestHandler {
  readonly #settings: ResolvedGatewayOptions;

  constructor(
    request: IncomingMessage,
    response: ServerResponse,
    server: RequestHandlerServer,
    settings: ResolvedGatewayOptions,
  ) {
    super(request, response, server);
    this.#settings = settings;
  }

  override async handle(): Promise<void> {
    const req = this.request;
    if ((req.readableDidRead || req.readableEnded) && announcesBody(req)) {
      // A middleware before the listener read the body (a body parser): what
      // the application would get is not what the client sent.
      this.getStderr().write(
        "toNodeListener: the request body was read before the WSGI application " +
          "(a body-parsing middleware mounted before it?); answered 500\n",
      );
      this.sendError(500);
      return;
    }
    await super.handle();
  }

  /**
   * Node sends `100 Continue` itself before its `request` event unless the
   * host server listens to `checkContinue`; a second one would be a stray
   * interim response.
   */
  override sendContinue(): void {
    if (!continueSent(this.response)) super.sendContinue();
  }

  override getEnviron(): PartialEnvironment {
    const env = super.getEnviron();
    const socket = this.request.socket as TLSSocket;
    mountedEnviron(env, this.request as MountedRequest, socket, this.#settings);
    return env;
  }
}

/**
 * Make a Node request listener that runs `app` for each request.
 *
 * Mount it in `http.createServer(listener)`, `https.createServer`,
 * `http2.createSecureServer({ allowHTTP1: true }, listener)` (HTTP/2 and
 * HTTP/1.1), Express 5 (`expressApp.use("/wsgi", listener)`), Connect, or
 * Fastify through its raw request and response. `SCRIPT_NAME` is the mount
 * point (the `scriptName` option, cut from the front of the path when the path
 * starts with it; else Express's `req.baseUrl`), `PATH_INFO` the rest,
 * `REQUEST_URI` the target as the client sent it (`req.originalUrl` when a
 * router set it).
 *
 * Each request gets what the server gives it: the refusals of the request
 * stage (400, 413, 417, 431, 505 …), the body received whole before the
 * application runs (413 past `maxBodySize`, 408 past `bodyTimeout` without a
 * byte, spooled to a temporary file past `spoolThreshold`), the output stage's
 * framing, and the body's `close()` called exactly once. An application error
 * is answered 500 with the handler's `errorBody` before the headers, and cuts
 * the response after them (an HTTP/2 stream is reset); its stack goes to
 * `errors`. The listener answers every request itself and never calls `next`,
 * not even with an error. It writes no access log: the host server's own
 * logging sees every request.
 *
 * A request whose body a middleware has read already is answered 500 (the
 * reason on `errors`): mount the listener before body parsers, or give them
 * only the routes that need them.
 *
 * @example
 * const app = express();
 * app.use("/wsgi", toNodeListener(wsgiApp));
 */
export function toNodeListener(app: WSGIApplication, options?: NodeListenerOptions): NodeListener {
  if (typeof app !== "function") throw new TypeError(`app must be a function: ${show(app)}`);
  const settings = resolveGatewayOptions(options, "toNodeListener");
  const server: RequestHandlerServer = {
    baseEnviron: BASE_ENVIRON,
    wsgiMultiprocess: settings.multiprocess,
    options: {
      maxBodySize: settings.maxBodySize,
      spoolThreshold: settings.spoolThreshold,
      maxHeaders: settings.maxHeaders,
      bodyTimeout: settings.bodyTimeout,
      quiet: true,
    },
    getApp: () => app,
    // The listener's own: responses ended together once a turn's requests are handled.
    endBatch: new EndBatch(),
    errorStream: settings.errors,
    dates: new HttpDates(),
  };
  const failed = (err: unknown): void => {
    // Not reached by a failing application (the handler answers it); a last
    // guard so that nothing a request does rejects unhandled in the host.
    settings.errors.write(formatError(err));
  };
  return (req, res) => {
    if (req instanceof Http2ServerRequest) {
      serveHttp2(app, req, res as Http2ServerResponse, settings).catch(failed);
      return;
    }
    const handler = new ListenerRequestHandler(
      req as IncomingMessage,
      res as ServerResponse,
      server,
      settings,
    );
    handler.handle().catch(failed);
  };
}
