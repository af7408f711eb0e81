/**
 * `wsgiref static`: files with guessed MIME types, index.html for directories,
 * 404 otherwise, and no way out of the served directory.
 */

import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { guessType } from "../../src/cli/static-app.js";
import { fetchRaw, type Served, serveCli, stopAll, tempDir } from "./cli-process.js";

// outside/secret.txt must never be served; site/ is the served directory.
const tree = tempDir({ "secret.txt": "the secret" });
const site = join(tree.dir, "site");
let served: Served;

before(async () => {
  mkdirSync(join(site, "docs", "empty"), { recursive: true });
  writeFileSync(join(site, "index.html"), "<h1>home</h1>");
  writeFileSync(join(site, "style.css"), "h1 { color: red }");
  writeFileSync(join(site, "data.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(site, "docs", "index.html"), "<h1>docs</h1>");
  writeFileSync(join(site, "docs", "caf\u00e9.txt"), "coffee");
  symlinkSync(join(tree.dir, "secret.txt"), join(site, "escape.txt"));
  symlinkSync(tree.dir, join(site, "up"));
  symlinkSync(join(site, "style.css"), join(site, "alias.css"));
  served = await serveCli(["static", site, "--port", "0", "--quiet"]);
});
after(async () => {
  try {
    await stopAll();
  } finally {
    tree.rm();
  }
});

async function get(path: string, method = "GET") {
  const reply = await fetchRaw(served.port, path, { method });
  return {
    status: reply.status,
    type: reply.headers["content-type"],
    body: reply.body.toString("latin1"),
  };
}

describe("wsgiref static", { concurrency: true }, () => {
  it("serves a file with its MIME type and length", async () => {
    const reply = await fetchRaw(served.port, "/style.css");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-type"], "text/css; charset=utf-8");
    assert.equal(reply.headers["content-length"], "17");
    assert.equal(reply.body.toString(), "h1 { color: red }");
  });

  it("sends unknown types as application/octet-stream, byte for byte", async () => {
    const reply = await fetchRaw(served.port, "/data.bin");
    assert.equal(reply.headers["content-type"], "application/octet-stream");
    assert.deepEqual([...reply.body], [0, 1, 2, 255]);
  });

  it("answers HEAD with headers only", async () => {
    const reply = await fetchRaw(served.port, "/style.css", { method: "HEAD" });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-length"], "17");
    assert.equal(reply.body.length, 0);
  });

  it("serves index.html for a directory", async () => {
    assert.deepEqual(await get("/"), {
      status: 200,
      type: "text/html; charset=utf-8",
      body: "<h1>home</h1>",
    });
    assert.equal((await get("/docs/")).body, "<h1>docs</h1>");
  });

  it("redirects a directory without its trailing slash", async () => {
    const reply = await fetchRaw(served.port, "/docs?x=1");
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, `http://127.0.0.1:${served.port}/docs/?x=1`);
  });

  it("decodes percent-encoded UTF-8 names", async () => {
    assert.equal((await get("/docs/caf%C3%A9.txt")).body, "coffee");
  });

  it("answers 404 for what is not there", async () => {
    assert.equal((await get("/missing.html")).status, 404);
    assert.equal((await get("/docs/empty/")).status, 404, "a directory without index.html");
    assert.equal((await get("/style.css/x")).status, 404, "a file used as a directory");
  });

  it("refuses methods other than GET and HEAD", async () => {
    const reply = await fetchRaw(served.port, "/style.css", { method: "POST" });
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.allow, "GET, HEAD");
  });

  it("follows a symbolic link that stays inside", async () => {
    assert.equal((await get("/alias.css")).body, "h1 { color: red }");
  });

  it("never serves a file outside the directory", async () => {
    const attempts: Array<[string, number]> = [
      ["/../secret.txt", 400],
      ["/docs/../../secret.txt", 400],
      ["/%2e%2e/secret.txt", 400],
      ["/%2E%2E%2Fsecret.txt", 400],
      ["/docs/..%2f..%2fsecret.txt", 400],
      ["/style.css%00.html", 400],
      ["/escape.txt", 404],
      ["/up/secret.txt", 404],
      ["//secret.txt", 404],
    ];
    for (const [path, status] of attempts) {
      const reply = await get(path);
      assert.equal(reply.status, status, path);
      assert.doesNotMatch(reply.body, /the secret/, path);
    }
  });
});

describe("guessType", () => {
  it("guesses from the extension, in any case", () => {
    assert.equal(guessType("a/b/photo.JPG"), "image/jpeg");
    assert.equal(guessType("app.mjs"), "text/javascript; charset=utf-8");
    assert.equal(guessType("x.wasm"), "application/wasm");
    assert.equal(guessType("Makefile"), "application/octet-stream");
  });
});
