/**
 * An HTTP/2 request of `node:http2`'s compatibility API (`Http2ServerRequest`,
 * `Http2ServerResponse`) served through the server's stages: the request stage
 * reads its head as HTTP/1.1's (`:authority` as `Host`, RFC 9113 §8.3.1;
 * `cookie` fields joined with `; `, §8.2.3), the body stage spools it, the
 * gateway handler runs the application and the output stage frames the response
 * onto the stream. node:http2 (nghttp2) has done the framing checks of RFC 9113
 * §8.2 (pseudo-headers, connection-specific fields, upper-case names).
 */

import { STATUS_CODES } from "node:http";
import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { GatewayHandler, serverVersion } from "../gateway/gateway-handler.js";
import type { ResolvedGatewayOptions } from "../gateway/options.js";
import type { ResponseSink, SentFile } from "../gateway/output-stage.js";
import { BodyError, EmptyInput, receiveBody } from "../gateway/request-body.js";
import { http2Head, http2RefusalStatus, requestEnviron } from "../gateway/request-head.js";
import { isDisconnect, streamDestroyedError } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import { checkHttp2Fields } from "../internal/http2-fields.js";
import { drained, sendFile } from "../simple-server/send-file.js";
import type { SpooledInput } from "../streams/spooled-input.js";
import type { PartialEnvironment, WSGIApplication } from "../types.js";
import { BASE_ENVIRON, mountedEnviron } from "./environ.js";

/**
 * The output stage's sink over an `Http2ServerResponse`: no reason phrase
 * (HTTP/2 has none), the body in DATA frames, files by reads, and a cut that
 * resets the stream (`RST_STREAM` `INTERNAL_ERROR`) while the connection and
 * its other streams go on.
 */
export class Http2ResponseSink implements ResponseSink {
  readonly response: Http2ServerResponse;
  readonly takenOver = false;
  readonly connection = undefined;

  constructor(response: Http2ServerResponse) {
    this.response = response;
    // The output stage writes Date itself.
    response.sendDate = false;
  }

  get destroyed(): boolean {
    return this.response.stream.destroyed;
  }

  head(code: number, _reason: string, fields: string[]): void {
    // Refused before writeHead: it adds the fields to the response one by one,
    // and those before the refused one would stay for the error page's head.
    checkHttp2Fields(fields);
    this.response.writeHead(code, fields as unknown as Record<string, string>);
  }

  write(chunk: Uint8Array): boolean {
    const res = this.response;
    if (res.stream.destroyed || res.writableEnded) throw streamDestroyedError("stdout");
    return res.write(chunk);
  }

  drained(): Promise<void> {
    // The response's stream drains and closes for it.
    return drained(this.response.stream, "the client stream");
  }

  sendFile(fd: number, limit: number): Promise<SentFile> {
    // sendFile uses write, destroyed and the drain and close events, which an
    // Http2ServerResponse has as a ServerResponse has them.
    const res = this.response as unknown as Parameters<typeof sendFile>[1];
    return sendFile(fd, res, limit);
  }

  end(): void {
    // A response cut at its Content-Length ends its stream; the connection
    // carries other streams and stays.
    this.response.end();
  }

  cut(): void {
    const stream = this.response.stream;
    if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

/**
 * Answer `status`, before the application has run, with a short plain-text
 * body; then end the stream even if the request is still sending.
 */
function refuse(res: Http2ServerResponse, status: number): void {
  if (res.stream.destroyed) return;
  const reason = STATUS_CODES[status] ?? "Error";
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  // RFC 9113 §8.1: a complete response may come before the request is; then
  // RST_STREAM NO_ERROR tells the client to stop sending it.
  res.end(`${reason}\n`, () => {
    if (!res.stream.destroyed) res.stream.close(constants.NGHTTP2_NO_ERROR);
  });
}

/** Serve one HTTP/2 request of the compatibility API with `app`. */
export async function serveHttp2(
  app: WSGIApplication,
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  settings: ResolvedGatewayOptions,
): Promise<void> {
  const head = http2Head(req.headers, req.rawHeaders, req.socket);
  const status = http2RefusalStatus(head, req.headers, settings);
  if (status !== 0) {
    refuse(res, status);
    return;
  }
  let input: SpooledInput | EmptyInput;
  const hasBody = !req.stream.endAfterHeaders;
  if (hasBody) {
    if (req.readableDidRead || req.readableEnded) {
      settings.errors.write(
        "toNodeListener: the request body was read before the WSGI application " +
          "(a body-parsing middleware mounted before it?); answered 500\n",
      );
      refuse(res, 500);
      return;
    }
    try {
      input = await receiveBody(req, settings).input;
    } catch (err) {
      if (err instanceof BodyError) refuse(res, err.status);
      else if (!isDisconnect(err)) {
        // The spool failed (a full disk): the server's fault, not the client's.
        settings.errors.write(formatError(err));
        refuse(res, 500);
      }
      return;
    }
  } else {
    input = new EmptyInput();
  }
  const env: PartialEnvironment = requestEnviron(head, BASE_ENVIRON);
  env.SERVER_SOFTWARE = serverVersion;
  // HTTP/2 need not send Content-Length: the length received.
  if (hasBody) env.CONTENT_LENGTH = String(input.length);
  mountedEnviron(env, req as object, req.socket, settings);
  const handler = new GatewayHandler(
    input,
    new Http2ResponseSink(res),
    settings.errors,
    env,
    false,
    settings.multiprocess,
  );
  handler.ownsEnviron = true;
  try {
    await handler.run(app);
  } finally {
    input.close();
  }
}
