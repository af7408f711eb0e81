/**
 * `wsgiref/lambda`: a WSGI application as an AWS Lambda handler for the HTTP
 * events of API Gateway (REST and HTTP APIs), Application Load Balancers and
 * function URLs.
 *
 * No Python counterpart in `wsgiref`; serverless-wsgi and Mangum play this
 * part for Python.
 *
 * @module wsgiref/lambda
 */

export type { LambdaHttpEvent } from "./lambda/event.js";
export type { LambdaHttpResult } from "./lambda/result.js";
export type { LambdaHandlerOptions, LambdaHttpHandler } from "./lambda/to-lambda-handler.js";
export { toLambdaHandler } from "./lambda/to-lambda-handler.js";
