/**
 * The four HTTP event shapes AWS Lambda is invoked with, read into one request:
 * API Gateway REST APIs (payload format 1.0), HTTP APIs (1.0 and 2.0), an
 * Application Load Balancer target (with or without multi-value headers) and a
 * function URL (2.0).
 *
 * Which fields AWS hands over still percent-encoded differs by service, and is
 * what decides whether a path is decoded once or twice: REST APIs, function
 * URLs and ALBs pass the path as the client sent it; HTTP APIs pass it decoded
 * (`path` in 1.0, `rawPath` in 2.0: `/a%2Fb` arrives as `/a/b`). REST and
 * HTTP API 1.0 query parameters arrive decoded; an ALB's arrive as sent; 2.0's
 * `rawQueryString` as sent. Each is turned back into a target as a client
 * would send it, which the request stage then decodes exactly once.
 */

import { Buffer } from "node:buffer";
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { show } from "../internal/check.js";

/** An HTTP event Lambda is invoked with. */
export type LambdaHttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | ALBEvent;

/** Which service sent an event, which decides the result's shape. */
export type EventSource = "rest" | "http-v1" | "http-v2" | "function-url" | "alb";

/** One request, as every event shape gives it. */
export interface LambdaRequest {
  readonly source: EventSource;
  /** Whether the result carries `multiValueHeaders` (payload 1.0, an ALB with them on). */
  readonly multiValue: boolean;
  readonly method: string;
  /** The target as a client sends it: the path and query percent-encoded. */
  readonly target: string;
  /** The mount point the event says (a REST API's stage on its default endpoint). */
  readonly scriptName: string;
  /** Header names and values, alternating, as `IncomingMessage.rawHeaders`. */
  readonly rawHeaders: string[];
  readonly body: Buffer | undefined;
  readonly remoteAddr: string | undefined;
  /** `HTTP/1.1`, or what the event says. */
  readonly protocol: string;
}

// RFC 3986 §3.3: what a path segment may hold literally besides "/" (pchar);
// "%" only where the path is still encoded.
const NOT_PATH_ENCODED = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;
const NOT_PATH_DECODED = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu;

function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The path as a client sends it. A path AWS decoded gets every character that
 * cannot stand in a path percent-encoded (its `%` too), as UTF-8; one it passed
 * as sent keeps its escapes, and only what could not have been sent literally
 * is encoded.
 */
export function pathTarget(path: string, decoded: boolean): string {
  const encoded = path.replace(decoded ? NOT_PATH_DECODED : NOT_PATH_ENCODED, percentEncode);
  return encoded.startsWith("/") ? encoded : `/${encoded}`;
}

/** `text` with any lone surrogate replaced by U+FFFD, as UTF-8 encodes it. */
function wellFormed(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

/** A query string from decoded parameters, each key and value percent-encoded (UTF-8). */
function encodeQuery(params: Record<string, readonly string[]>): string {
  const parts: string[] = [];
  for (const [key, values] of Object.entries(params)) {
    for (const value of values) {
      parts.push(`${encodeURIComponent(wellFormed(key))}=${encodeURIComponent(wellFormed(value))}`);
    }
  }
  return parts.join("&");
}

/** A query string from parameters passed as sent (an ALB's). */
function rawQuery(params: Record<string, readonly string[]>): string {
  const parts: string[] = [];
  for (const [key, values] of Object.entries(params)) {
    for (const value of values) parts.push(`${key}=${value}`);
  }
  return parts.join("&");
}

type Single = Record<string, string | undefined> | null | undefined;
type Multi = Record<string, string[] | undefined> | null | undefined;

/** Multi-value parameters or headers when the event has them, else the single-valued ones. */
function multiOf(multi: Multi, single: Single): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (multi) {
    for (const [key, values] of Object.entries(multi)) if (values) out[key] = values;
    return out;
  }
  if (single) {
    for (const [key, value] of Object.entries(single)) if (value !== undefined) out[key] = [value];
  }
  return out;
}

function rawHeadersOf(headers: Record<string, string[]>): string[] {
  const raw: string[] = [];
  for (const [name, values] of Object.entries(headers)) {
    for (const value of values) raw.push(name, value);
  }
  return raw;
}

function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/**
 * The request's host: its `Host` field, or the domain the event names, added
 * as the field (AWS's own examples leave it out; every real request has one).
 */
function withHost(raw: string[], domainName: string | undefined): string | undefined {
  const host = headerValue(raw, "host");
  if (host !== undefined || domainName === undefined || domainName === "") return host;
  raw.push("host", domainName);
  return domainName;
}

function bodyOf(body: string | null | undefined, base64: boolean | undefined): Buffer | undefined {
  if (body === null || body === undefined) return undefined;
  return base64 === true ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
}

/** Whether `host` is an API's default endpoint, whose first path segment is the stage. */
function isDefaultEndpoint(host: string | undefined): boolean {
  return host !== undefined && /\.execute-api\.[^.]+\.amazonaws\.com(?::\d+)?$/i.test(host);
}

/** The stage prefix of `path` on an API's default endpoint, or `''`. */
function stagePrefix(path: string, stage: string | undefined, host: string | undefined): string {
  if (stage === undefined || stage === "" || stage === "$default" || !isDefaultEndpoint(host)) {
    return "";
  }
  const prefix = `/${stage}`;
  return path === prefix || path.startsWith(`${prefix}/`) ? prefix : "";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Read `event` into one request. Throws a `TypeError` for an event that is
 * none of the HTTP shapes (an SQS batch, a scheduled event …).
 */
export function readEvent(event: unknown): LambdaRequest {
  if (!isObject(event) || !isObject(event.requestContext)) {
    throw new TypeError(
      `event is not an HTTP event from API Gateway, an ALB or a function URL: ${show(event)}`,
    );
  }
  const context = event.requestContext;
  if (isObject(context.elb)) return readAlb(event as unknown as ALBEvent);
  if (event.version === "2.0" && isObject(context.http)) {
    return readV2(event as unknown as APIGatewayProxyEventV2);
  }
  if (typeof event.httpMethod === "string" && typeof event.path === "string") {
    return readV1(event as unknown as APIGatewayProxyEvent);
  }
  throw new TypeError(
    `event is not an HTTP event from API Gateway, an ALB or a function URL: ${show(event)}`,
  );
}

function readV2(event: APIGatewayProxyEventV2): LambdaRequest {
  const context = event.requestContext;
  const functionUrl = /\.lambda-url\./i.test(context.domainName ?? "");
  const raw: string[] = [];
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) raw.push(name, value);
  }
  // 2.0 moves the Cookie field to `cookies`, one entry per cookie.
  if (
    event.cookies !== undefined &&
    event.cookies.length > 0 &&
    headerValue(raw, "cookie") === undefined
  ) {
    raw.push("cookie", event.cookies.join("; "));
  }
  const host = withHost(raw, context.domainName);
  const path = pathTarget(event.rawPath ?? "/", !functionUrl);
  const query = event.rawQueryString ?? "";
  return {
    source: functionUrl ? "function-url" : "http-v2",
    multiValue: false,
    method: context.http.method,
    target: query === "" ? path : `${path}?${query}`,
    scriptName: functionUrl ? "" : stagePrefix(path, context.stage, host),
    rawHeaders: raw,
    body: bodyOf(event.body, event.isBase64Encoded),
    remoteAddr: context.http.sourceIp,
    protocol: context.http.protocol || "HTTP/1.1",
  };
}

function readV1(event: APIGatewayProxyEvent): LambdaRequest {
  const context = event.requestContext;
  // HTTP APIs say `version: "1.0"`; REST APIs say nothing.
  const httpApi = (event as { version?: unknown }).version === "1.0";
  const raw = rawHeadersOf(multiOf(event.multiValueHeaders, event.headers));
  const host = withHost(raw, context.domainName);
  let path = pathTarget(event.path, httpApi);
  let scriptName: string;
  if (httpApi) {
    scriptName = stagePrefix(path, context.stage, host);
  } else {
    // A REST API's `path` leaves out the stage of its default endpoint (and the
    // base path of a custom domain's mapping), which `requestContext.path` has.
    const full = context.path ?? "";
    const prefix =
      full.length > event.path.length && full.endsWith(event.path)
        ? full.slice(0, full.length - event.path.length)
        : "";
    scriptName = prefix === "" ? "" : pathTarget(prefix, false);
    path = `${scriptName}${path}`;
  }
  const query = encodeQuery(
    multiOf(event.multiValueQueryStringParameters, event.queryStringParameters),
  );
  return {
    source: httpApi ? "http-v1" : "rest",
    multiValue: true,
    method: event.httpMethod,
    target: query === "" ? path : `${path}?${query}`,
    scriptName,
    rawHeaders: raw,
    body: bodyOf(event.body, event.isBase64Encoded),
    remoteAddr: context.identity?.sourceIp ?? undefined,
    protocol: context.protocol || "HTTP/1.1",
  };
}

function readAlb(event: ALBEvent): LambdaRequest {
  const multiValue = event.multiValueHeaders !== undefined && event.multiValueHeaders !== null;
  const raw = rawHeadersOf(multiOf(event.multiValueHeaders, event.headers));
  const path = pathTarget(event.path, false);
  const query = rawQuery(
    multiOf(event.multiValueQueryStringParameters, event.queryStringParameters),
  );
  // The load balancer appends the client's address to X-Forwarded-For.
  const forwarded = headerValue(raw, "x-forwarded-for");
  const remoteAddr = forwarded?.split(",").at(-1)?.trim();
  return {
    source: "alb",
    multiValue,
    method: event.httpMethod,
    target: query === "" ? path : `${path}?${query}`,
    scriptName: "",
    rawHeaders: raw,
    body: bodyOf(event.body, event.isBase64Encoded),
    remoteAddr,
    protocol: "HTTP/1.1",
  };
}

/** The value of the first header field `name` (lower case) of a request. */
export function requestHeader(request: LambdaRequest, name: string): string | undefined {
  return headerValue(request.rawHeaders, name);
}
