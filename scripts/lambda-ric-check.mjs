#!/usr/bin/env node
// Runs examples/lambda/handler.ts (built) under AWS's own runtime interface client,
// aws-lambda-ric, the program a Lambda container image runs: a minimal Runtime API
// here plays the part of Lambda (or of AWS's runtime interface emulator), hands out
// AWS's example events (tests/fixtures/lambda/) one by one and prints the results.
// aws-lambda-ric compiles curl and aws-lambda-cpp at install (some 15 minutes here),
// so it is no devDependency; install it anywhere and pass its directory:
//
//   npm install --prefix /tmp/ric aws-lambda-ric && npm run build
//   node scripts/lambda-ric-check.mjs /tmp/ric/node_modules/aws-lambda-ric
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ric = process.argv[2];
if (ric === undefined) {
  console.error("usage: node scripts/lambda-ric-check.mjs PATH/TO/node_modules/aws-lambda-ric");
  process.exit(2);
}
const fixtures = resolve("tests/fixtures/lambda");
const names = [
  "apigw-request",
  "http-api-v1-request",
  "apigw-v2-request-no-authorizer",
  "alb-lambda-target-request-headers-only",
  "alb-lambda-target-request-multivalue-headers",
  "lambda-urls-request",
];
// AWS's function URL example has placeholders for its id, which no Host allows.
const events = names.map((name) =>
  JSON.parse(
    readFileSync(join(fixtures, `${name}.json`), "utf8").replaceAll(/<url-?id>/g, "abcdefghij"),
  ),
);
const task = mkdtempSync(join(tmpdir(), "wsgiref-ric-"));
const handler = pathToFileURL(resolve("build/examples/lambda/handler.js")).href;
writeFileSync(join(task, "handler.mjs"), `export { handler } from ${JSON.stringify(handler)};\n`);

let next = 0;
let failed = false;
const results = new Map();
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const url = req.url ?? "";
    if (req.method === "GET" && url.endsWith("/runtime/invocation/next")) {
      if (next >= events.length) return; // no more work: the client waits, as on Lambda
      const id = `request-${next}`;
      res.writeHead(200, {
        "Lambda-Runtime-Aws-Request-Id": id,
        "Lambda-Runtime-Deadline-Ms": String(Date.now() + 10_000),
        "Lambda-Runtime-Invoked-Function-Arn":
          "arn:aws:lambda:us-east-1:123456789012:function:wsgi",
        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        "Content-Type": "application/json",
      });
      res.end(JSON.stringify(events[next++]));
      return;
    }
    const done = /\/runtime\/invocation\/(request-\d+)\/(response|error)$/.exec(url);
    res.writeHead(202, { "Content-Type": "application/json" });
    res.end("{}");
    if (done === null) {
      console.log(`${req.method} ${url}: ${body}`);
      failed = true;
      return;
    }
    const index = Number(done[1].slice("request-".length));
    results.set(index, done[2]);
    const result = JSON.parse(body);
    console.log(`${names[index]}: ${done[2]} ${result.statusCode} ${result.body}`);
    if (done[2] !== "response" || result.statusCode !== 200) failed = true;
    if (results.size === events.length) child.kill("SIGTERM");
  });
});
let child;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  child = spawn(process.execPath, [join(ric, "index.mjs"), "handler.handler"], {
    cwd: task,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      LAMBDA_TASK_ROOT: task,
      _HANDLER: "handler.handler",
      AWS_LAMBDA_FUNCTION_NAME: "wsgi",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/wsgi",
      AWS_LAMBDA_LOG_STREAM_NAME: "local",
    },
  });
  child.on("exit", () => {
    server.close();
    rmSync(task, { recursive: true, force: true });
    const ok = !failed && results.size === events.length;
    console.log(ok ? `${events.length} events answered 200 by aws-lambda-ric` : "failed");
    process.exitCode = ok ? 0 : 1;
  });
});
setTimeout(() => {
  console.log(`timed out with ${results.size} of ${events.length} results`);
  failed = true;
  child?.kill("SIGTERM");
}, 30_000).unref();
