/**
 * toLambdaHandler run by lambda-local, a Lambda emulator from npm: it loads the
 * example handler module (examples/lambda/handler.ts) by path as the Node
 * runtime does, with a Lambda context, a timeout and the AWS environment
 * variables (in this process: hence a file of its own), for each event shape.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyResult } from "aws-lambda";
import lambdaLocal from "lambda-local";
import { fixture } from "../helpers/lambda-fixtures.js";

describe("toLambdaHandler under lambda-local", () => {
  it("runs the example handler module as Lambda loads it, for each event shape", async () => {
    const lambdaPath = fileURLToPath(new URL("../../examples/lambda/handler.js", import.meta.url));
    const events = {
      "apigw-request": { hello: "/hello/world", stage: "", from: "192.168.196.186" },
      "http-api-v1-request": { hello: "/my/path", stage: "", from: "192.0.2.1" },
      "apigw-v2-request-no-authorizer": { hello: "/", stage: "", from: "1.2.3.4" },
      "alb-lambda-target-request-headers-only": { hello: "/", stage: "", from: "25.12.198.67" },
      "alb-lambda-target-request-multivalue-headers": {
        hello: "/",
        stage: "",
        from: "72.21.198.67",
      },
      "lambda-urls-request": { hello: "/my/path", stage: "", from: "123.123.123.123" },
    };
    for (const [name, expected] of Object.entries(events)) {
      const result = (await lambdaLocal.execute({
        event: fixture(name),
        lambdaPath,
        lambdaHandler: "handler",
        esm: true,
        timeoutMs: 10_000,
        verboseLevel: 0,
      })) as APIGatewayProxyResult;
      assert.equal(result.statusCode, 200, name);
      assert.deepEqual(JSON.parse(result.body), expected, name);
    }
  });
});
