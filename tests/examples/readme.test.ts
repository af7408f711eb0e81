/**
 * Runs the README's code as a user would: its apps under examples/readme/ served
 * by `wsgiref serve` from their TypeScript source, its test-author snippet and
 * docs/testing.md's tests with `node --test`, each module's example as a script
 * that checks itself; and checks that every TypeScript block of the README and
 * of docs/testing.md is the text of one of those files, which the build
 * type-checks, so neither page can drift from what works.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Child, fetchRaw, serveCli, stopAll } from "../cli/cli-process.js";
import { exchange } from "../helpers/server-client.js";

const run = promisify(execFile);
const source = fileURLToPath(new URL("../../../examples/readme/", import.meta.url));
const built = fileURLToPath(new URL("../../examples/readme/", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
after(() => stopAll());

/** The ```ts blocks of a Markdown file, as written. */
async function typeScriptBlocks(file: string): Promise<string[]> {
  const text = await readFile(join(root, file), "utf8");
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A process's environment for `node --test` run as a user would: on its own. */
function standalone(): NodeJS.ProcessEnv {
  // A test process tells the test processes it starts to report to it
  // (NODE_TEST_CONTEXT); these run as a user's would, on their own.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

describe("README examples", { concurrency: true }, () => {
  it("the first app answers Hello under wsgiref serve, from its .ts source", async () => {
    const { child, port } = await serveCli([
      "serve",
      `${source}hello.ts`,
      "--port",
      "0",
      "--quiet",
    ]);
    const reply = await fetchRaw(port, "/world");
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), "Hello, /world!\n");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("the validating test passes under node --test", async () => {
    const env = standalone();
    const { stdout } = await run(process.execPath, ["--test", `${built}hello.test.js`], { env });
    assert.match(stdout, /# pass 1\n/);
    assert.match(stdout, /# fail 0\n/);
  });

  it("the response handler sets its cookie, and sends the broken bytes exactly", async () => {
    const { child, port } = await serveCli([
      "serve",
      `${source}cookie-or-broken.ts`,
      "--port",
      "0",
      "--quiet",
    ]);
    const reply = await fetchRaw(port, "/");
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body.toString()), { hello: "stranger" });
    assert.deepEqual(reply.headers["set-cookie"], [
      "seen=1; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax",
    ]);

    const raw = await exchange(port, "GET /?broken HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(raw.toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("every TypeScript block of README.md is the text of a file under examples/readme/", async () => {
    const files = ["hello", "hello.test", "types", "util", "headers", "streams", "cgi", "serve"];
    files.push("validate", "cookie-or-broken", "middleware", "testing", "fetch", "lambda", "node");
    const sources = await Promise.all(files.map((f) => readFile(`${source}${f}.ts`, "utf8")));
    const blocks = await typeScriptBlocks("README.md");
    assert.ok(blocks.length >= 10, `${blocks.length} blocks`);
    for (const block of blocks) {
      assert.ok(
        sources.some((text) => text.includes(block)),
        `README block not found in examples/readme/: ${block.slice(0, 80)}`,
      );
    }
  });

  it("every TypeScript block of docs/testing.md is the text of examples/testing/app.test.ts", async () => {
    const text = await readFile(join(root, "examples/testing/app.test.ts"), "utf8");
    const blocks = await typeScriptBlocks("docs/testing.md");
    assert.equal(blocks.length, 3);
    for (const block of blocks) assert.ok(text.includes(block), block.slice(0, 80));
  });

  it("every TypeScript block of docs/adapters.md is the text of examples/fetch/mount-in-hono.ts", async () => {
    const text = await readFile(join(root, "examples/fetch/mount-in-hono.ts"), "utf8");
    const blocks = await typeScriptBlocks("docs/adapters.md");
    assert.equal(blocks.length, 1);
    for (const block of blocks) assert.ok(text.includes(block), block.slice(0, 80));
  });

  for (const name of [
    "types",
    "util",
    "headers",
    "streams",
    "validate",
    "middleware",
    "testing",
    "fetch",
    "lambda",
    "node",
  ]) {
    it(`the ${name} module example runs and its checks pass`, async () => {
      const { stdout, stderr } = await run(process.execPath, [`${built}${name}.js`]);
      assert.equal(stdout, "");
      assert.equal(stderr, "");
    });
  }

  it("the CGI example answers a CGI request, once, on stdout", async () => {
    const env = {
      ...process.env,
      REQUEST_METHOD: "GET",
      SERVER_NAME: "example",
      SERVER_PORT: "80",
      SERVER_PROTOCOL: "HTTP/1.1",
      SCRIPT_NAME: "/app",
      PATH_INFO: "/cgi",
      QUERY_STRING: "",
    };
    const child = new Child([`${built}cgi.js`], { env, input: new Uint8Array() });
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(
      outcome.stdout,
      "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, /cgi!\n",
    );
  });

  it("the simple-server example serves the first app on the port it is given", async () => {
    const child = new Child([`${built}serve.js`, "0"]);
    const match = await child.waitFor(/^Serving on port (\d+)$/);
    const reply = await fetchRaw(Number(match[1]), "/from-code");
    assert.equal(reply.body.toString(), "Hello, /from-code!\n");
    child.process.kill("SIGTERM");
    await child.outcome;
  });

  it("docs/testing.md's tests pass under node --test", async () => {
    const test = fileURLToPath(new URL("../../examples/testing/app.test.js", import.meta.url));
    const { stdout } = await run(process.execPath, ["--test", test], { env: standalone() });
    assert.match(stdout, /# pass 4\n/);
    assert.match(stdout, /# fail 0\n/);
  });
});
