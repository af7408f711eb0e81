/**
 * `wsgiref static` as a file server worth using (SPEC.md §11.7): conditional
 * requests (304), single byte ranges (206, 416) sent from the file's position
 * as a FileWrapper, dotfiles hidden, `file/` 404, nosniff, and redirects that
 * keep SCRIPT_NAME and the scheme. In process (the server's own errors read
 * back), through the command, and with curl as the client.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { staticApp } from "../../src/cli/static-app.js";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import { StringErrors } from "../../src/streams.js";
import type { ErrorStream } from "../../src/types.js";
import { needs } from "../helpers/peers.js";
import { collect, open, parseResponses, type Running, serve } from "../helpers/server-client.js";
import { fetchRaw, serveCli, stopAll, tempDir } from "./cli-process.js";

const run = promisify(execFile);

const site = tempDir({
  "page.html": "<p>page</p>",
  ".env": "SECRET=1",
  "a.txt": "0123456789",
  "empty.txt": "",
});
mkdirSync(join(site.dir, ".git"));
writeFileSync(join(site.dir, ".git", "config"), "[core]");
mkdirSync(join(site.dir, "docs"));
writeFileSync(join(site.dir, "docs", "index.html"), "<h1>docs</h1>");
// Bigger than the 1 MiB block of the server's fallback route and than a socket buffer.
const big = randomBytes(3 * 1024 * 1024 + 123);
writeFileSync(join(site.dir, "big.bin"), big);
// A fixed, whole-second time, so Last-Modified and If-Modified-Since compare exactly.
const mtime = new Date("2026-01-02T03:04:05Z");
utimesSync(join(site.dir, "a.txt"), mtime, mtime);

/** What the server wrote to wsgi.errors, across requests. */
const errors = new StringErrors();
class Handler extends WSGIRequestHandler {
  override getStderr(): ErrorStream {
    return errors;
  }
}
let server: Running;

before(async () => {
  server = await serve(staticApp(site.dir), {}, Handler);
});
after(async () => {
  await server.close();
  await stopAll();
  site.rm();
});

function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  return fetchRaw(server.port, path, { headers, method });
}

describe("wsgiref static: conditional requests", () => {
  it("sends Last-Modified, a strong ETag of size and time, and Accept-Ranges", async () => {
    const reply = await get("/a.txt");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["last-modified"], "Fri, 02 Jan 2026 03:04:05 GMT");
    const mtimeMs = Math.floor(statSync(join(site.dir, "a.txt")).mtimeMs);
    assert.equal(reply.headers.etag, `"a-${mtimeMs.toString(16)}"`);
    assert.equal(reply.headers["accept-ranges"], "bytes");
    assert.equal(reply.headers["x-content-type-options"], "nosniff");
  });

  it("answers 304 to a matching If-None-Match, weak or in a list, without a body or type", async () => {
    const { etag } = (await get("/a.txt")).headers;
    for (const value of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const reply = await get("/a.txt", { "If-None-Match": String(value) });
      assert.equal(reply.status, 304, String(value));
      assert.equal(reply.body.length, 0);
      assert.equal(reply.headers["content-type"], undefined);
      assert.equal(reply.headers.etag, etag);
    }
    assert.equal((await get("/a.txt", { "If-None-Match": '"other"' })).status, 200);
  });

  it("answers 304 to If-Modified-Since at or after the file's time, 200 before", async () => {
    assert.equal(
      (await get("/a.txt", { "If-Modified-Since": "Fri, 02 Jan 2026 03:04:05 GMT" })).status,
      304,
    );
    assert.equal(
      (await get("/a.txt", { "If-Modified-Since": "Sat, 03 Jan 2026 00:00:00 GMT" })).status,
      304,
    );
    assert.equal(
      (await get("/a.txt", { "If-Modified-Since": "Fri, 02 Jan 2026 03:04:04 GMT" })).status,
      200,
    );
    assert.equal((await get("/a.txt", { "If-Modified-Since": "not a date" })).status, 200);
  });

  it("lets If-None-Match decide over If-Modified-Since (RFC 9110 §13.2.2)", async () => {
    const reply = await get("/a.txt", {
      "If-None-Match": '"other"',
      "If-Modified-Since": "Sat, 03 Jan 2026 00:00:00 GMT",
    });
    assert.equal(reply.status, 200);
  });

  it("answers HEAD with 304 too", async () => {
    const { etag } = (await get("/a.txt")).headers;
    assert.equal((await get("/a.txt", { "If-None-Match": String(etag) }, "HEAD")).status, 304);
  });
});

describe("wsgiref static: ranges", () => {
  it("answers a single range with 206 and Content-Range", async () => {
    for (const [range, first, last] of [
      ["bytes=2-5", 2, 5],
      ["bytes=7-", 7, 9],
      ["bytes=-3", 7, 9],
      ["bytes=8-100", 8, 9],
      ["bytes=-100", 0, 9],
      ["BYTES=0-0", 0, 0],
    ] as const) {
      const reply = await get("/a.txt", { Range: range });
      assert.equal(reply.status, 206, range);
      assert.equal(reply.headers["content-range"], `bytes ${first}-${last}/10`, range);
      assert.equal(reply.headers["content-length"], String(last - first + 1), range);
      assert.equal(reply.body.toString(), "0123456789".slice(first, last + 1), range);
      assert.equal(reply.headers["accept-ranges"], "bytes");
    }
  });

  it("answers a range past the end with 416 and bytes */size", async () => {
    for (const [path, range, size] of [
      ["/a.txt", "bytes=10-", 10],
      ["/a.txt", "bytes=99-100", 10],
      ["/a.txt", "bytes=-0", 10],
      ["/empty.txt", "bytes=0-", 0],
      ["/empty.txt", "bytes=-5", 0],
    ] as const) {
      const reply = await get(path, { Range: range });
      assert.equal(reply.status, 416, `${path} ${range}`);
      assert.equal(reply.headers["content-range"], `bytes */${size}`);
    }
  });

  it("sends the whole file with 200 for several ranges or a malformed one", async () => {
    for (const range of [
      "bytes=0-1,4-5",
      "bytes=5-2",
      "bytes=x-1",
      "items=0-1",
      "bytes=-",
      "bytes=",
    ]) {
      const reply = await get("/a.txt", { Range: range });
      assert.equal(reply.status, 200, range);
      assert.equal(reply.body.toString(), "0123456789", range);
    }
  });

  it("ignores Range on HEAD and under an If-Range that does not match", async () => {
    const { etag } = (await get("/a.txt")).headers;
    assert.equal((await get("/a.txt", { Range: "bytes=0-1" }, "HEAD")).status, 200);
    const stale = await get("/a.txt", { Range: "bytes=0-1", "If-Range": '"old"' });
    assert.equal(stale.status, 200);
    const current = await get("/a.txt", { Range: "bytes=0-1", "If-Range": String(etag) });
    assert.equal(current.status, 206);
    const dated = await get("/a.txt", {
      Range: "bytes=0-1",
      "If-Range": "Fri, 02 Jan 2026 03:04:05 GMT",
    });
    assert.equal(dated.status, 206);
  });

  it("sends a range from the middle of a big file exactly, and keeps the connection", async () => {
    const before = errors.getValue();
    const first = 1_000_003;
    const last = 2_500_000;
    // Two requests on one connection: a range that ends before the file does is
    // not a body longer than its Content-Length (the server closed after one).
    const socket = await open(server.port);
    const received = collect(socket);
    const head = (range: string) =>
      `GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=${range}\r\n\r\n`;
    socket.write(head(`${first}-${last}`) + head("-10"));
    const chunks: Buffer[] = [];
    // Half-close once both responses are in.
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks);
      if (parseResponses(text).filter((r) => r.complete).length === 2) socket.end();
    });
    const [one, two] = parseResponses(await received);
    assert.equal(one?.status, 206);
    assert.equal(one?.complete, true);
    assert.equal(one?.body.length, last - first + 1);
    assert.ok(one?.body.equals(big.subarray(first, last + 1)), "the range's bytes");
    assert.equal(two?.status, 206);
    assert.ok(
      two?.body.equals(big.subarray(big.length - 10)),
      "the second range on the same connection",
    );
    assert.equal(errors.getValue(), before, "nothing logged");
  });

  it("sends the same bytes on the fallback route, without sendfile or seek", async () => {
    const dir = site.dir;
    const { child, port } = await serveCli(["static", dir, "--port", "0", "--quiet"], {
      env: { WSGIREF_SENDFILE: "0" },
    });
    const reply = await fetchRaw(port, "/big.bin", { headers: { Range: "bytes=1048570-2097160" } });
    assert.equal(reply.status, 206);
    assert.ok(reply.body.equals(big.subarray(1048570, 2097161)));
    const whole = await fetchRaw(port, "/big.bin");
    assert.ok(whole.body.equals(big));
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "");
  });
});

describe("wsgiref static: what it hides", () => {
  it("answers 404 for any path segment starting with a dot", async () => {
    for (const path of [
      "/.env",
      "/.git/config",
      "/.git/",
      "/docs/.hidden",
      "/%2Eenv",
      "/./a.txt",
    ]) {
      const reply = await get(path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers["x-content-type-options"], "nosniff", path);
    }
  });

  it("answers 404 for a file asked for with a trailing slash", async () => {
    assert.equal((await get("/a.txt/")).status, 404);
    assert.equal((await get("/page.html/")).status, 404);
    assert.equal((await get("/docs/")).status, 200);
  });
});

describe("wsgiref static: redirects behind a proxy", () => {
  it("keeps --root-path and the forwarded scheme and host in Location", async () => {
    const { child, port } = await serveCli([
      "static",
      site.dir,
      "--port",
      "0",
      "--quiet",
      "--root-path",
      "/files",
      "--proxy-headers",
    ]);
    const reply = await fetchRaw(port, "/files/docs?x=1", {
      headers: {
        Host: "internal:8000",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "www.example.com",
      },
    });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, "https://www.example.com/files/docs/?x=1");
    // Without a proxy's headers: the Host the client sent, plain http.
    const direct = await fetchRaw(port, "/files/docs", { headers: { Host: "localhost:1234" } });
    assert.equal(direct.headers.location, "http://localhost:1234/files/docs/");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("takes the prefix from X-Forwarded-Prefix", async () => {
    const { child, port } = await serveCli([
      "static",
      site.dir,
      "--port",
      "0",
      "--quiet",
      "--proxy-headers",
    ]);
    const reply = await fetchRaw(port, "/docs", {
      headers: { Host: "example.org", "X-Forwarded-Prefix": "/static" },
    });
    assert.equal(reply.headers.location, "http://example.org/static/docs/");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });
});

describe("wsgiref static with curl", { skip: needs("curl") }, () => {
  it("answers curl -r with the bytes asked for", async () => {
    const url = `http://127.0.0.1:${server.port}/big.bin`;
    const { stdout } = await run("curl", ["-sS", "-r", "100-199", url], {
      encoding: "buffer",
      maxBuffer: 1 << 20,
    });
    assert.ok(stdout.equals(big.subarray(100, 200)));
    const { stdout: status } = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-r",
      "99999999-",
      url,
    ]);
    assert.equal(status, "416");
  });

  it("answers curl -z with 304 when the file is not newer", async () => {
    const url = `http://127.0.0.1:${server.port}/a.txt`;
    const file = join(site.dir, "stamp");
    writeFileSync(file, "");
    utimesSync(file, mtime, mtime);
    // -z FILE: If-Modified-Since the file's time.
    const { stdout } = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-z",
      file,
      url,
    ]);
    assert.equal(stdout, "304");
    const { stdout: newer } = await run("curl", [
      "-sS",
      "-w",
      "%{http_code}",
      "-z",
      "Jan 1 2020",
      url,
    ]);
    assert.equal(newer, "0123456789200");
  });

  it("answers curl --etag-save/--etag-compare with 304 the second time", async () => {
    const url = `http://127.0.0.1:${server.port}/page.html`;
    const etags = join(site.dir, "etags");
    const first = await run("curl", ["-sS", "-w", "%{http_code}", "--etag-save", etags, url]);
    assert.equal(first.stdout, "<p>page</p>200");
    const second = await run("curl", ["-sS", "-w", "%{http_code}", "--etag-compare", etags, url]);
    assert.equal(second.stdout, "304");
  });
});
