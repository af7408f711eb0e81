/**
 * `toLambdaHandler`: a WSGI application as an AWS Lambda handler for HTTP
 * events. The event is read into a request (`event.ts`), which goes through the
 * server's stages: the head checked and turned into an environ by
 * `gateway/request-head.ts`, the body spooled within the same limits, the
 * application run by the gateway engine (`SinkHandler`); the response is
 * collected and shaped as the event's service expects (`result.ts`).
 */

import type { Buffer } from "node:buffer";
import { STATUS_CODES } from "node:http";
import type { Context } from "aws-lambda";
import { receiveBytes } from "../gateway/body-from-stream.js";
import { serverVersion } from "../gateway/gateway-handler.js";
import { mountEnviron } from "../gateway/mount.js";
import { type GatewayOptions, resolveGatewayOptions } from "../gateway/options.js";
import { BodyError, EmptyInput } from "../gateway/request-body.js";
import {
  type RequestHead,
  refusalStatus,
  requestEnviron,
  requestFacts,
} from "../gateway/request-head.js";
import { fieldPairs, type PartSink, SinkHandler } from "../gateway/sink-handler.js";
import { show } from "../internal/check.js";
import type { SpooledInput } from "../streams/spooled-input.js";
import type { PartialEnvironment, WSGIApplication } from "../types.js";
import { type LambdaHttpEvent, type LambdaRequest, readEvent, requestHeader } from "./event.js";
import { type LambdaHttpResult, type LambdaResponse, shapeResult } from "./result.js";

/** Options of `toLambdaHandler`. */
export interface LambdaHandlerOptions extends GatewayOptions {
  /** Send every response body as base64, whatever its type (false: only non-text types). */
  binary?: boolean;
}

/** A Lambda handler for HTTP events. */
export type LambdaHttpHandler = (
  event: LambdaHttpEvent,
  context: Context,
) => Promise<LambdaHttpResult>;

const PROTOCOL = /^HTTP\/\d(?:\.\d)?$/;

/** A `PartSink` that keeps the whole response, for a result. */
class Collector implements PartSink {
  status = 0;
  reason = "";
  headers: Array<[string, string]> = [];
  readonly chunks: Uint8Array[] = [];
  headGiven = false;
  failed = false;

  head(status: number, reason: string, fields: string[]): void {
    this.status = status;
    this.reason = reason;
    this.headers = fieldPairs(fields);
    this.headGiven = true;
  }

  body(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }

  end(): void {}

  fail(): void {
    this.failed = true;
  }
}

/** The response for a request refused before the application runs. */
function refusal(status: number): LambdaResponse {
  const reason = STATUS_CODES[status] ?? "Error";
  return {
    status,
    reason,
    headers: [["Content-Type", "text/plain; charset=utf-8"]],
    body: globalThis.Buffer.from(`${reason}\n`, "latin1"),
  };
}

/** The server's part of the environ, from the request's `Host`, `X-Forwarded-Proto` and `-Port`. */
function baseEnviron(request: LambdaRequest): PartialEnvironment {
  const host = requestHeader(request, "host") ?? "lambda";
  const proto = requestHeader(request, "x-forwarded-proto")?.toLowerCase() ?? "https";
  const https = proto === "https";
  const colon = host.lastIndexOf(":");
  const hasPort = colon > host.lastIndexOf("]");
  const env: PartialEnvironment = {
    SERVER_NAME: (hasPort ? host.slice(0, colon) : host).replace(/^\[(.*)\]$/, "$1"),
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PORT:
      requestHeader(request, "x-forwarded-port") ??
      (hasPort ? host.slice(colon + 1) : https ? "443" : "80"),
    REMOTE_HOST: "",
    CONTENT_LENGTH: "",
    SCRIPT_NAME: "",
    SERVER_SOFTWARE: serverVersion,
    "wsgi.input_terminated": true,
  };
  if (https) env.HTTPS = "on";
  return env;
}

/**
 * Make a Lambda handler that runs `app` for each HTTP event: API Gateway REST
 * APIs (payload 1.0), HTTP APIs (1.0 and 2.0), an Application Load Balancer
 * target (with or without multi-value headers) and a function URL.
 *
 * The environ is the server's, built from the event: the path percent-decoded
 * exactly once (HTTP APIs hand it over decoded, the others as sent), multi-value
 * query parameters and headers, 2.0's `cookies` as `HTTP_COOKIE`, `REMOTE_ADDR`
 * the client's address, `SERVER_NAME`, `SERVER_PORT` and `wsgi.url_scheme`
 * from `Host` and `X-Forwarded-*`, and `SCRIPT_NAME` the stage of an API's
 * default endpoint (`/prod` in `https://id.execute-api.region.amazonaws.com/prod/x`)
 * or the `scriptName` option. The event is `lambda.event` in the environ, the
 * context `lambda.context`. The body (base64 when the event says so) is
 * spooled within `maxBodySize` (413) and `spoolThreshold`. The result's body is
 * base64 unless its `Content-Type` is text (`text/*`, JSON, JavaScript, XML,
 * `+json`, `+xml`) in UTF-8 and uncompressed, or always with `binary`; HEAD,
 * 204, 205 and 304 results have none. An application error is a 500 result
 * with the handler's `errorBody`, after the headers too (nothing has gone out
 * by then), its stack on `errors`. An event of another kind rejects with a
 * `TypeError`.
 *
 * @example
 * export const handler = toLambdaHandler(app);
 */
export function toLambdaHandler(
  app: WSGIApplication,
  options?: LambdaHandlerOptions,
): LambdaHttpHandler {
  if (typeof app !== "function") throw new TypeError(`app must be a function: ${show(app)}`);
  const settings = resolveGatewayOptions(options, "toLambdaHandler", ["binary"]);
  const binary = options?.binary ?? false;
  if (typeof binary !== "boolean") throw new TypeError(`binary must be a boolean: ${show(binary)}`);
  const scriptName = settings.scriptName;
  return async (event, context) => {
    const request = readEvent(event);
    const response = await respond(app, request, event, context, settings, scriptName);
    return shapeResult(request, response, binary, settings.errors);
  };
}

async function respond(
  app: WSGIApplication,
  request: LambdaRequest,
  event: LambdaHttpEvent,
  context: Context,
  settings: ReturnType<typeof resolveGatewayOptions>,
  scriptName: string,
): Promise<LambdaResponse> {
  const head: RequestHead = {
    method: request.method,
    url: request.target,
    // Checked as HTTP/1.1 whatever the client spoke to AWS: AWS framed it.
    httpVersion: "1.1",
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    rawHeaders: request.rawHeaders,
    socket: { remoteAddress: request.remoteAddr, remotePort: undefined },
  };
  const status = refusalStatus(head, requestFacts(head), settings);
  if (status !== 0) return refusal(status);
  let input: SpooledInput | EmptyInput;
  const body: Buffer | undefined = request.body;
  if (body === undefined || body.length === 0) {
    input = new EmptyInput();
  } else {
    try {
      input = await receiveBytes(body, settings);
    } catch (err) {
      if (err instanceof BodyError) return refusal(err.status);
      throw err;
    }
  }
  try {
    const env = requestEnviron(head, baseEnviron(request));
    if (PROTOCOL.test(request.protocol)) env.SERVER_PROTOCOL = request.protocol;
    // The length received: an event's Content-Length may be missing or wrong.
    if (body !== undefined) env.CONTENT_LENGTH = String(input.length);
    mountEnviron(env, scriptName !== "" ? scriptName : request.scriptName);
    env["lambda.event"] = event;
    env["lambda.context"] = context;
    Object.assign(env, settings.environ);
    const collector = new Collector();
    const handler = new SinkHandler(
      input,
      collector,
      settings.errors,
      env,
      false,
      settings.multiprocess,
    );
    try {
      await handler.run(app);
    } catch (err) {
      // Handling an error failed too: the result is the error page all the same.
      collector.failed = true;
      try {
        handler.logException(err);
      } catch {
        // The error stream failed as well: the result still says 500.
      }
    }
    if (collector.failed || !collector.headGiven) {
      // Nothing has gone out: an error after the headers gets the error page too.
      const reason = handler.errorStatus.slice(4);
      return {
        status: Number(handler.errorStatus.slice(0, 3)),
        reason,
        headers: handler.errorHeaders.slice(),
        body: globalThis.Buffer.from(handler.errorBody),
      };
    }
    return {
      status: collector.status,
      reason: collector.reason,
      headers: collector.headers,
      body: globalThis.Buffer.concat(collector.chunks),
    };
  } finally {
    input.close();
  }
}
