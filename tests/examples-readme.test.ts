/**
 * Runs the README's code as a user would: its apps under examples/readme/ served
 * by `wsgiref serve` from their TypeScript source, and its test-author snippet
 * with `node --test`, so the README cannot drift from what works.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fetchRaw, killAll, serveCli } from "./cli/cli-process.js";
import { exchange } from "./helpers/server-client.js";

const run = promisify(execFile);
const source = fileURLToPath(new URL("../../examples/readme/", import.meta.url));
const built = fileURLToPath(new URL("../examples/readme/", import.meta.url));
after(() => killAll());

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
    // A test process tells the test processes it starts to report to it
    // (NODE_TEST_CONTEXT); this one runs as a user's would, on its own.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
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
});
