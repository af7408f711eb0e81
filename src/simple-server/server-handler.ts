/**
 * `ServerHandler`: the handler `WSGIRequestHandler` runs for each request, a
 * `GatewayHandler` over the request's `ServerResponse` that logs the request
 * when it closes.
 *
 * Port of `ServerHandler` from Python's `wsgiref.simple_server`.
 */

import type { ServerResponse } from "node:http";
import { GatewayHandler } from "../gateway/gateway-handler.js";
import type { ErrorStream, InputStream, PartialEnvironment } from "../types.js";
import { ServerResponseSink, type SinkServices } from "./response-sink.js";

export {
  serverVersion,
  softwareVersion,
  sysVersion,
} from "../gateway/gateway-handler.js";
export type { ServerConnection } from "./response-sink.js";

/** The environ key under which the server offers the connection to the application. */
export const CONNECTION_KEY = "wsgiref.connection";

/** Who `ServerHandler` reports each finished request to (a `WSGIRequestHandler`). */
export interface RequestLogger {
  /** Log one finished request: its status code and the body bytes sent. */
  logRequest(code?: number | string, size?: number | string): void;
}

/**
 * Run one application for one request over a Node `ServerResponse`, then log
 * the request through `requestHandler`.
 *
 * Node frames the response (Content-Length or chunked, keep-alive, HEAD without
 * a body); the rules it is held to are the output stage's (`GatewayHandler`).
 *
 * @see Python's `wsgiref.simple_server.ServerHandler`
 */
export class ServerHandler extends GatewayHandler {
  /** Where `close()` logs the request; set by `WSGIRequestHandler.handle()`. */
  requestHandler: RequestLogger | undefined = undefined;

  /**
   * Handle one request whose response is `response`; `services`, the server's
   * end batch and sendfile(2) route (absent: each response ends at once, files
   * go by reads).
   *
   * @see Python's `SimpleHandler.__init__`
   */
  constructor(
    stdin: InputStream,
    response: ServerResponse,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multithread = true,
    multiprocess = false,
    services?: SinkServices,
  ) {
    super(
      stdin,
      new ServerResponseSink(response, services),
      stderr,
      environ,
      multithread,
      multiprocess,
    );
  }

  /**
   * Log the request (status code and body bytes sent), then close.
   *
   * @see Python's `ServerHandler.close`
   */
  override close(): void | Promise<void> {
    let closing: void | Promise<void>;
    try {
      const status = this.status;
      this.requestHandler?.logRequest(
        status === undefined ? "-" : status.slice(0, 3),
        this.bytesSent,
      );
    } finally {
      closing = super.close();
    }
    return closing;
  }
}
