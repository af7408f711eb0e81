/**
 * A response as the result each event shape expects back: its status, headers
 * in the shape the service reads (single- or multi-valued; `cookies` in 2.0),
 * and its body as text or base64.
 */

import type { Buffer } from "node:buffer";
import type {
  ALBResult,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import type { ErrorStream } from "../types.js";
import type { LambdaRequest } from "./event.js";

/** The result of an HTTP invocation, in the shape its event's service reads. */
export type LambdaHttpResult =
  | APIGatewayProxyResult
  | APIGatewayProxyStructuredResultV2
  | ALBResult;

/** A response ready to be shaped. */
export interface LambdaResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

// The media types sent as text (the rest go as base64): text/*, JSON,
// JavaScript and XML, and the +json and +xml suffixes (RFC 6839).
const TEXT_TYPE =
  /^(?:text\/[^;]+|application\/(?:json|javascript|xml|[^;]*\+json|[^;]*\+xml)|[^/;]+\/[^;]*\+(?:json|xml))$/;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as the result carries it: text when the type is a text type, it is
 * not compressed (`Content-Encoding`) and its bytes are UTF-8, unless
 * `binary`; otherwise base64.
 */
function encodeBody(
  body: Buffer,
  headers: LambdaResponse["headers"],
  binary: boolean,
): { body: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: "", isBase64Encoded: false };
  let type = "";
  let encoding = "";
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "content-type") type = value.split(";")[0]!.trim().toLowerCase();
    else if (lower === "content-encoding") encoding = value.trim().toLowerCase();
  }
  if (!binary && TEXT_TYPE.test(type) && (encoding === "" || encoding === "identity")) {
    try {
      return { body: UTF8.decode(body), isBase64Encoded: false };
    } catch {
      // Not UTF-8 (a latin-1 page): base64 keeps its bytes.
    }
  }
  return { body: body.toString("base64"), isBase64Encoded: true };
}

/** Header fields grouped by name (as first written), in order. */
function grouped(
  headers: LambdaResponse["headers"],
  except?: string,
): Map<string, { name: string; values: string[] }> {
  const groups = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (key === except) continue;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { name, values: [value] });
    else group.values.push(value);
  }
  return groups;
}

function multiValueHeaders(headers: LambdaResponse["headers"]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { name, values } of grouped(headers).values()) out[name] = values;
  return out;
}

/**
 * Single-valued headers: repeated fields joined with `, ` (RFC 9110 §5.3),
 * except `Set-Cookie`, which cannot be joined (`except` leaves it out).
 */
function singleHeaders(
  headers: LambdaResponse["headers"],
  except?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, values } of grouped(headers, except).values()) out[name] = values.join(", ");
  return out;
}

/**
 * Shape `response` for the service `request` came from. An ALB target without
 * multi-value headers can pass one `Set-Cookie` only: the last is kept and the
 * loss written to `errors`.
 */
export function shapeResult(
  request: LambdaRequest,
  response: LambdaResponse,
  binary: boolean,
  errors: ErrorStream,
): LambdaHttpResult {
  const body = encodeBody(response.body, response.headers, binary);
  switch (request.source) {
    case "http-v2":
    case "function-url": {
      const cookies = response.headers
        .filter(([name]) => name.toLowerCase() === "set-cookie")
        .map(([, value]) => value);
      const result: APIGatewayProxyStructuredResultV2 = {
        statusCode: response.status,
        headers: singleHeaders(response.headers, "set-cookie"),
        ...body,
      };
      if (cookies.length > 0) result.cookies = cookies;
      return result;
    }
    case "rest":
    case "http-v1":
      return {
        statusCode: response.status,
        multiValueHeaders: multiValueHeaders(response.headers),
        ...body,
      };
    case "alb": {
      const statusDescription = `${response.status} ${response.reason}`;
      if (request.multiValue) {
        return {
          statusCode: response.status,
          statusDescription,
          multiValueHeaders: multiValueHeaders(response.headers),
          ...body,
        };
      }
      const headers = singleHeaders(response.headers, "set-cookie");
      const cookies = response.headers.filter(([name]) => name.toLowerCase() === "set-cookie");
      const last = cookies.at(-1);
      if (last !== undefined) headers[last[0]] = last[1];
      if (cookies.length > 1) {
        errors.write(
          `${cookies.length - 1} of ${cookies.length} Set-Cookie fields were dropped: ` +
            "the target group does not have multi-value headers on\n",
        );
        errors.flush();
      }
      return { statusCode: response.status, statusDescription, headers, ...body };
    }
  }
}
