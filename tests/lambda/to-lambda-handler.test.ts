/**
 * toLambdaHandler against the event and result shapes AWS documents
 * (tests/fixtures/lambda/, sources in its README): REST and HTTP APIs, ALB
 * targets with and without multi-value headers, function URLs; paths decoded
 * exactly once, stages, cookies, base64 both ways, errors and limits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  ALBResult,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { type LambdaHttpEvent, type LambdaHttpResult, toLambdaHandler } from "../../src/lambda.js";
import { StringErrors } from "../../src/streams.js";
import type { WSGIApplication } from "../../src/types.js";
import { validator } from "../../src/validate.js";
import { fixture } from "../helpers/lambda-fixtures.js";

const context = {
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  functionName: "wsgi",
  getRemainingTimeInMillis: () => 3000,
} as unknown as Context;

const KEYS = [
  "REQUEST_METHOD",
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "REQUEST_URI",
  "SERVER_NAME",
  "SERVER_PORT",
  "SERVER_PROTOCOL",
  "REMOTE_ADDR",
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "HTTP_COOKIE",
  "wsgi.url_scheme",
];

/** Answers the environ's CGI keys and the body it read, as JSON; remembers the environ. */
function environApp() {
  const seen: { environ?: Record<string, unknown> } = {};
  const app: WSGIApplication = (environ, startResponse) => {
    seen.environ = environ;
    const out: Record<string, unknown> = {};
    for (const key of KEYS) if (key in environ) out[key] = environ[key];
    out.body = Buffer.from(environ["wsgi.input"].read(1 << 20)).toString("latin1");
    startResponse("200 OK", [
      ["Content-Type", "application/json"],
      ["Set-Cookie", "a=1; Path=/"],
      ["Set-Cookie", "b=2; Path=/"],
      ["X-Twice", "1"],
      ["X-Twice", "2"],
    ]);
    return [new TextEncoder().encode(JSON.stringify(out))];
  };
  return { app, seen };
}

async function call(event: unknown, app: WSGIApplication, options = {}) {
  const errors = new StringErrors();
  const handler = toLambdaHandler(validator(app), { errors, ...options });
  const result = await handler(event as LambdaHttpEvent, context);
  return { result, errors };
}

function bodyJson(result: LambdaHttpResult): Record<string, unknown> {
  const r = result as APIGatewayProxyResult;
  assert.equal(r.isBase64Encoded, false);
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** The names and value types of a result, to compare with AWS's example's. */
function shape(result: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(result).map(([k, v]) => [k, Array.isArray(v) ? "array" : typeof v]),
  );
}

describe("toLambdaHandler", () => {
  it("serves an API Gateway REST event (payload 1.0) and answers its result shape", async () => {
    const event = fixture("apigw-request");
    const { app, seen } = environApp();
    const { result, errors } = await call(event, app);
    assert.equal(errors.getValue(), "");
    assert.deepEqual(bodyJson(result), {
      REQUEST_METHOD: "POST",
      SCRIPT_NAME: "",
      PATH_INFO: "/hello/world",
      QUERY_STRING: "name=me",
      REQUEST_URI: "/hello/world?name=me",
      SERVER_NAME: "gy415nuibc.execute-api.us-east-1.amazonaws.com",
      SERVER_PORT: "443",
      SERVER_PROTOCOL: "HTTP/1.1",
      REMOTE_ADDR: "192.168.196.186",
      CONTENT_TYPE: "application/json",
      CONTENT_LENGTH: "13",
      "wsgi.url_scheme": "https",
      body: '{\r\n\t"a": 1\r\n}',
    });
    assert.equal(seen.environ?.HTTP_HEADERNAME, "headerValue");
    assert.equal(seen.environ?.["lambda.event"], event);
    assert.equal(seen.environ?.["lambda.context"], context);
    const r = result as APIGatewayProxyResult;
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.multiValueHeaders?.["Set-Cookie"], ["a=1; Path=/", "b=2; Path=/"]);
    assert.deepEqual(r.multiValueHeaders?.["X-Twice"], ["1", "2"]);
    // AWS's example result has headers too; a result with only multiValueHeaders is one AWS reads.
    const example = shape(fixture("apigw-response"));
    delete example.headers;
    assert.deepEqual(shape(result), { ...example, isBase64Encoded: "boolean" });
  });

  it("takes a REST API's stage on its default endpoint as SCRIPT_NAME", async () => {
    const event = fixture<{ requestContext: { path: string } }>("apigw-request");
    event.requestContext.path = "/testStage/hello/world";
    const json = bodyJson((await call(event, environApp().app)).result);
    assert.equal(json.SCRIPT_NAME, "/testStage");
    assert.equal(json.PATH_INFO, "/hello/world");
    assert.equal(json.REQUEST_URI, "/testStage/hello/world?name=me");
  });

  it("decodes a REST path once: it arrives as the client sent it", async () => {
    const event = fixture<{ path: string; requestContext: { path: string } }>("apigw-request");
    event.path = "/caf%C3%A9/a%2Fb/100%2541";
    event.requestContext.path = event.path;
    const json = bodyJson((await call(event, environApp().app)).result);
    assert.equal(json.PATH_INFO, "/caf\xc3\xa9/a/b/100%41");
    assert.equal(json.REQUEST_URI, "/caf%C3%A9/a%2Fb/100%2541?name=me");
  });

  it("serves an HTTP API event (payload 1.0), whose path arrives decoded, without decoding it again", async () => {
    const event = fixture<{ path: string }>("http-api-v1-request");
    event.path = "/café/100%41";
    const { app, seen } = environApp();
    const json = bodyJson((await call(event, app)).result);
    assert.equal(json.PATH_INFO, "/caf\xc3\xa9/100%41");
    assert.equal(json.QUERY_STRING, "parameter1=value1&parameter1=value2&parameter2=value");
    assert.equal(json.REMOTE_ADDR, "192.0.2.1");
    assert.equal(seen.environ?.HTTP_HEADER2, "value1,value2");
  });

  it("serves an HTTP API event (payload 2.0) and answers cookies apart from headers", async () => {
    const event = fixture<{ rawPath: string; cookies?: string[] }>(
      "apigw-v2-request-no-authorizer",
    );
    event.rawPath = "/a b/100%";
    event.cookies = ["s=1", "t=2"];
    const { result, errors } = await call(event, environApp().app);
    assert.equal(errors.getValue(), "");
    const json = bodyJson(result);
    assert.equal(json.PATH_INFO, "/a b/100%");
    assert.equal(json.REQUEST_URI, "/a%20b/100%25");
    assert.equal(json.HTTP_COOKIE, "s=1; t=2");
    assert.equal(json.REMOTE_ADDR, "1.2.3.4");
    const r = result as APIGatewayProxyStructuredResultV2;
    assert.deepEqual(r.cookies, ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(r.headers?.["X-Twice"], "1, 2");
    assert.equal(r.headers?.["Set-Cookie"], undefined);
  });

  it("takes an HTTP API's named stage on its default endpoint as SCRIPT_NAME, and scriptName over it", async () => {
    const event = fixture<{ rawPath: string; requestContext: { stage: string } }>(
      "apigw-v2-request-no-authorizer",
    );
    event.rawPath = "/dev/items";
    event.requestContext.stage = "dev";
    let json = bodyJson((await call(event, environApp().app)).result);
    assert.equal(json.SCRIPT_NAME, "/dev");
    assert.equal(json.PATH_INFO, "/items");
    event.rawPath = "/api/items";
    json = bodyJson((await call(event, environApp().app, { scriptName: "/api" })).result);
    assert.equal(json.SCRIPT_NAME, "/api");
    assert.equal(json.PATH_INFO, "/items");
  });

  it("serves a function URL event, whose path arrives encoded, and answers AWS's result shape", async () => {
    const event = fixture<{ rawPath: string }>("lambda-urls-request");
    event.rawPath = "/my/caf%C3%A9%2F";
    const { result } = await call(event, environApp().app);
    const json = bodyJson(result);
    assert.equal(json.PATH_INFO, "/my/caf\xc3\xa9/");
    assert.equal(json.QUERY_STRING, "parameter1=value1&parameter1=value2&parameter2=value");
    assert.equal(json.HTTP_COOKIE, "cookie1; cookie2");
    assert.equal(json.body, "Hello from client!");
    assert.equal(json.SERVER_NAME, "abcdefghij.lambda-url.us-west-2.on.aws");
    assert.deepEqual(shape(result), shape(fixture("lambda-urls-response")));
  });

  it("serves an ALB event with and without multi-value headers, in the matching result shape", async () => {
    const single = fixture<{ queryStringParameters: Record<string, string> }>(
      "alb-lambda-target-request-headers-only",
    );
    // An ALB passes query parameters as sent.
    single.queryStringParameters = { key: "a%20b" };
    const plain = await call(single, environApp().app);
    const json = bodyJson(plain.result);
    assert.equal(json.QUERY_STRING, "key=a%20b");
    assert.equal(json.REMOTE_ADDR, "25.12.198.67");
    assert.equal(json.SERVER_PORT, "80");
    assert.equal(json["wsgi.url_scheme"], "http");
    const r = plain.result as ALBResult;
    assert.equal(r.statusDescription, "200 OK");
    assert.equal(r.headers?.["Set-Cookie"], "b=2; Path=/");
    assert.equal(r.multiValueHeaders, undefined);
    assert.match(plain.errors.getValue(), /1 of 2 Set-Cookie fields were dropped/);

    const multi = await call(
      fixture("alb-lambda-target-request-multivalue-headers"),
      environApp().app,
    );
    const m = multi.result as ALBResult;
    assert.deepEqual(m.multiValueHeaders?.["Set-Cookie"], ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(m.headers, undefined);
    const example = shape(fixture("alb-lambda-target-response"));
    delete example.headers;
    assert.deepEqual(shape(m), example);
  });

  it("round-trips binary bodies through base64, and sends text types as text", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const event = fixture<{
      body: string;
      isBase64Encoded: boolean;
      headers: Record<string, string>;
    }>("lambda-urls-request");
    event.body = bytes.toString("base64");
    event.isBase64Encoded = true;
    const types: Record<string, string> = {
      "/bin": "application/octet-stream",
      "/json": "application/json",
      "/svg": "image/svg+xml",
      "/problem": "application/problem+json",
      "/text": "text/plain; charset=utf-8",
    };
    const app: WSGIApplication = (environ, startResponse) => {
      const body = environ["wsgi.input"].read(1000);
      const path = environ.PATH_INFO;
      const headers: Array<[string, string]> = [["Content-Type", types[path] ?? "text/plain"]];
      if (path === "/gzip") headers.push(["Content-Encoding", "gzip"]);
      startResponse("200 OK", headers);
      if (path === "/bin") return [body];
      if (path === "/latin1") return [Buffer.from("caf\xe9", "latin1")];
      return [Buffer.from(`${body.length} bytes`)];
    };
    const at = async (path: string, options = {}) => {
      const e = { ...event, rawPath: path };
      return (await call(e, app, options)).result as APIGatewayProxyStructuredResultV2;
    };
    const bin = await at("/bin");
    assert.equal(bin.isBase64Encoded, true);
    assert.deepEqual(Buffer.from(bin.body as string, "base64"), bytes);
    for (const path of ["/json", "/svg", "/problem", "/text"]) {
      const r = await at(path);
      assert.equal(r.isBase64Encoded, false, path);
      assert.equal(r.body, "256 bytes");
    }
    // Text types that cannot be sent as text: compressed, or not UTF-8.
    assert.equal((await at("/gzip")).isBase64Encoded, true);
    const latin1 = await at("/latin1");
    assert.equal(latin1.isBase64Encoded, true);
    assert.equal(Buffer.from(latin1.body as string, "base64").toString("latin1"), "caf\xe9");
    const forced = await at("/json", { binary: true });
    assert.equal(Buffer.from(forced.body as string, "base64").toString(), "256 bytes");
  });

  it("answers 500 for an application error, before or after the headers, and 413 past maxBodySize", async () => {
    const event = fixture("lambda-urls-request");
    const early = await call(event, () => {
      throw new Error("early");
    });
    assert.equal((early.result as APIGatewayProxyStructuredResultV2).statusCode, 500);
    assert.equal(
      (early.result as APIGatewayProxyStructuredResultV2).body,
      "A server error occurred.  Please contact the administrator.",
    );
    assert.match(early.errors.getValue(), /Error: early/);
    let closes = 0;
    const late = await call(event, (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      const body = (function* () {
        yield Buffer.from("partial");
        throw new Error("late");
      })();
      return Object.assign(body, { close: () => void closes++ });
    });
    assert.equal((late.result as APIGatewayProxyStructuredResultV2).statusCode, 500);
    assert.equal(closes, 1);
    assert.match(late.errors.getValue(), /Error: late/);
    let called = false;
    const big = await call(
      event,
      () => {
        called = true;
        return [];
      },
      { maxBodySize: 5 },
    );
    assert.equal((big.result as APIGatewayProxyStructuredResultV2).statusCode, 413);
    assert.equal(called, false);
  });

  it("answers HEAD without a body and rejects an event that is not an HTTP one", async () => {
    const event = fixture<{ requestContext: { http: { method: string } } }>(
      "apigw-v2-request-no-authorizer",
    );
    event.requestContext.http.method = "HEAD";
    let closes = 0;
    const { result } = await call(event, (_environ, startResponse) => {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["Content-Length", "5"],
      ]);
      return Object.assign([Buffer.from("hello")], { close: () => void closes++ });
    });
    assert.equal((result as APIGatewayProxyStructuredResultV2).body, "");
    assert.equal((result as APIGatewayProxyStructuredResultV2).headers?.["Content-Length"], "5");
    assert.equal(closes, 1);
    const handler = toLambdaHandler(environApp().app);
    await assert.rejects(
      handler({ Records: [] } as unknown as LambdaHttpEvent, context),
      /event is not an HTTP event from API Gateway, an ALB or a function URL/,
    );
    assert.throws(
      () => toLambdaHandler(environApp().app, { binary: "yes" as unknown as boolean }),
      /binary must be a boolean/,
    );
  });

  it("answers 500 when even logging the app's error fails, and refuses an object that is no HTTP event", async () => {
    const brokenLog = {
      write() {
        throw new Error("log down");
      },
      writelines() {},
      flush() {},
    };
    const handler = toLambdaHandler(
      () => {
        throw new Error("app down");
      },
      { errors: brokenLog },
    );
    const result = (await handler(
      fixture("lambda-urls-request"),
      context,
    )) as APIGatewayProxyStructuredResultV2;
    assert.equal(result.statusCode, 500);
    await assert.rejects(
      handler({ requestContext: {} } as unknown as LambdaHttpEvent, context),
      /event is not an HTTP event/,
    );
  });
});
