/**
 * A WSGI application as an AWS Lambda handler: deploy this module with the
 * handler `handler.handler` behind API Gateway, an ALB or a function URL.
 *
 * Run locally: npx lambda-local -l build/examples/lambda/handler.js -h handler -e event.json
 */
import { toLambdaHandler } from "wsgiref/lambda";
import type { WSGIApplication } from "wsgiref/types";

/** Greets by path, and says which stage (`SCRIPT_NAME`) and client it served. */
export const app: WSGIApplication = (environ, startResponse) => {
  const body = JSON.stringify({
    hello: environ.PATH_INFO,
    stage: environ.SCRIPT_NAME,
    from: environ.REMOTE_ADDR,
  });
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [new TextEncoder().encode(body)];
};

export const handler = toLambdaHandler(app);
