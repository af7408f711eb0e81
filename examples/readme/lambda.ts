/**
 * The README's `wsgiref/lambda` example: the first app as an AWS Lambda handler,
 * called with a function URL event as AWS sends it. Checks itself.
 *
 * Run: node build/examples/readme/lambda.js
 */
import assert from "node:assert/strict";

import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { toLambdaHandler } from "wsgiref/lambda";
import { app } from "./hello.js";

// API Gateway (REST or HTTP API), an ALB or a function URL: the event says which.
export const handler = toLambdaHandler(app);

const event = {
  version: "2.0",
  rawPath: "/you",
  rawQueryString: "",
  headers: { host: "abc.lambda-url.us-east-1.on.aws" },
  requestContext: {
    domainName: "abc.lambda-url.us-east-1.on.aws",
    http: { method: "GET", sourceIp: "192.0.2.1" },
  },
  isBase64Encoded: false,
} as unknown as LambdaFunctionURLEvent; // AWS's events carry more fields

const result = await handler(event, {} as Context);

assert.deepEqual(result, {
  statusCode: 200,
  headers: { "Content-Type": "text/plain; charset=utf-8", "Content-Length": "13" },
  body: "Hello, /you!\n",
  isBase64Encoded: false,
});
