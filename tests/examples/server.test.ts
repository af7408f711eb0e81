/**
 * Runs the server examples of Python's wsgiref docs, translated under examples/,
 * as a user would (`node build/examples/x.js … 0`): each prints its port, answers
 * over HTTP, and stops on a signal.
 */

import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Child, fetchRaw, stopAll, tempDir } from "../cli/cli-process.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
const files = tempDir({ "secret.txt": "the secret" });
after(async () => {
  try {
    await stopAll();
  } finally {
    files.rm();
  }
});

/** Start an example and read the port from its serving line. */
async function start(name: string, args: string[], line: RegExp): Promise<[Child, number]> {
  const child = new Child([`${examples}${name}.js`, ...args]);
  const match = await child.waitFor(line);
  return [child, Number(match[1])];
}

describe("server examples", { concurrency: true }, () => {
  it("hello-world answers Hello World", async () => {
    const [child, port] = await start("hello-world", ["0"], /^Serving on port (\d+)\.\.\.$/);
    const reply = await fetchRaw(port, "/");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(reply.body.toString(), "Hello World");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).signal, "SIGTERM", "serves until killed, as Python's");
  });

  it("testing-defaults prints the environ, one key: value per line", async () => {
    const [child, port] = await start("testing-defaults", ["0"], /^Serving on port (\d+)\.\.\.$/);
    const lines = (await fetchRaw(port, "/x?y=1")).body.toString().split("\n");
    for (const line of [
      "REQUEST_METHOD: GET",
      "PATH_INFO: /x",
      "QUERY_STRING: y=1",
      `SERVER_PORT: ${port}`,
      "wsgi.url_scheme: http",
      "wsgi.run_once: false",
    ]) {
      assert.ok(lines.includes(line), line);
    }
    child.process.kill("SIGTERM");
    await child.outcome;
  });

  it("validator-demo answers 500 and reports the bare-bytes body on stderr, as in Python", async () => {
    const [child, port] = await start("validator-demo", ["0"], /^Listening on port (\d+)\.\.\.\.$/);
    const reply = await fetchRaw(port, "/");
    assert.equal(reply.status, 500);
    assert.doesNotMatch(reply.body.toString(), /AssertionError/, "the stack is not sent");
    // The access-log line is written once the response has gone; wait for it.
    await child.waitFor(/"GET \/ HTTP\/1\.1" 500 /);
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.match(
      outcome.stderr,
      /AssertionError.*You should not return a string as your application iterator/s,
      outcome.stderr,
    );
  });

  it("file-server serves files, index.html and 404, and shuts down on Ctrl-C", async () => {
    const site = join(files.dir, "site");
    mkdirSync(join(site, "sub"), { recursive: true });
    writeFileSync(join(site, "index.html"), "<p>home</p>");
    writeFileSync(join(site, "notes.txt"), "some notes");
    writeFileSync(join(site, "sub", "index.html"), "<p>sub</p>");
    symlinkSync(join(files.dir, "secret.txt"), join(site, "link.txt"));

    const [child, port] = await start(
      "file-server",
      [site, "0"],
      /^Serving .* on port (\d+), control-C to stop$/,
    );
    const get = async (path: string) => {
      const reply = await fetchRaw(port, path);
      return [reply.status, reply.headers["content-type"], reply.body.toString()];
    };
    assert.deepEqual(await get("/notes.txt"), [200, "text/plain", "some notes"]);
    assert.deepEqual(await get("/"), [200, "text/html", "<p>home</p>"]);
    assert.deepEqual(await get("/sub"), [200, "text/html", "<p>sub</p>"]);
    assert.deepEqual(await get("/missing.txt"), [404, "text/plain", "not found"]);
    assert.deepEqual(await get("/../secret.txt"), [404, "text/plain", "not found"]);
    assert.deepEqual(await get("/%2e%2e/secret.txt"), [404, "text/plain", "not found"]);
    assert.deepEqual(await get("/link.txt"), [404, "text/plain", "not found"]);

    child.process.kill("SIGINT");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.match(outcome.stdout, /\nShutting down\.\n$/);
  });
});
