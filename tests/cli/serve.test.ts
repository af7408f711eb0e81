/**
 * `wsgiref serve` in one process: the demo app, JavaScript and TypeScript
 * modules (no build step), the limit flags, and a graceful stop on signals.
 */

import assert from "node:assert/strict";
import { get } from "node:http";
import { connect } from "node:net";
import { after, describe, it } from "node:test";
import { setTimeout } from "node:timers/promises";
import { fetchRaw, serveCli, stopAll, tempDir } from "./cli-process.js";

// A directory without package.json: .js is CommonJS there, and the .ts modules
// are loaded in that mode too, as a user's loose script would be.
const loose = tempDir({
  "app.ts": [
    'import type { WSGIApplication } from "wsgiref";',
    'import { greeting } from "./greeting.ts";',
    "",
    "const encoder: TextEncoder = new TextEncoder();",
    "export const app: WSGIApplication = (environ, startResponse) => {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return [encoder.encode(greeting(String(environ.PATH_INFO)))];",
    "};",
    "",
  ].join("\n"),
  "greeting.ts":
    'export const greeting = (path: string): string => "hello from TypeScript at " + path;\n',
  "default.ts": [
    "export default function (_environ: unknown, startResponse: (s: string, h: [string, string][]) => void) {",
    '  startResponse("200 OK", []);',
    '  return [new TextEncoder().encode("default export")];',
    "}",
    "",
  ].join("\n"),
});

const esm = tempDir({
  "package.json": '{ "type": "module" }',
  "apps.js": [
    "const text = (s) => new TextEncoder().encode(s);",
    'export function app(environ, startResponse) { startResponse("200 OK", []); return [text("app")]; }',
    'export function other(environ, startResponse) { startResponse("200 OK", []); return [text("other")]; }',
    "",
  ].join("\n"),
  // Reads its body without a size: fine for the server, an error for validator().
  "reads.js": [
    "export function app(environ, startResponse) {",
    '  const body = environ["wsgi.input"].read();',
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return [body];",
    "}",
    "",
  ].join("\n"),
  // Sends one chunk, then never finishes.
  "hangs.js": [
    "export function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return (async function* () {",
    '    yield new TextEncoder().encode("forever");',
    "    await new Promise(() => {});",
    "  })();",
    "}",
    "",
  ].join("\n"),
  // The first chunk goes out at once; the second waits for the SIGTERM that
  // stops the server, so the response is in flight when the signal arrives.
  "slow.js": [
    "let release;",
    "const released = new Promise((resolve) => { release = resolve; });",
    'process.once("SIGTERM", () => release());',
    "export async function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return (async function* () {",
    '    yield new TextEncoder().encode("first, ");',
    "    await released;",
    '    yield new TextEncoder().encode("last");',
    "  })();",
    "}",
    "",
  ].join("\n"),
});

/** Resolve once a connection to `port` is refused: the server has stopped listening. */
async function waitUntilRefused(port: number): Promise<void> {
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    if (refused) return;
    await setTimeout(10);
  }
}

// Reads its body; or, for /endless, answers with 64 KiB chunks until the client goes.
const timeouts = tempDir({
  "package.json": '{ "type": "module" }',
  "timeouts.js": [
    "export function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    '  if (environ.PATH_INFO !== "/endless") return [environ["wsgi.input"].read()];',
    "  return (function* () {",
    "    for (;;) yield new Uint8Array(65536);",
    "  })();",
    "}",
    "",
  ].join("\n"),
});

after(async () => {
  try {
    await stopAll();
  } finally {
    loose.rm();
    esm.rm();
    timeouts.rm();
  }
});

describe("wsgiref serve", { concurrency: 2 }, () => {
  it("serves demoApp on 127.0.0.1 and exits 0 on SIGINT", async () => {
    const { child, host, port } = await serveCli(["serve", "--port", "0"]);
    assert.equal(host, "127.0.0.1");
    assert.notEqual(port, 0);
    const reply = await fetchRaw(port, "/demo?x=1");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["content-type"], "text/plain; charset=utf-8");
    const body = reply.body.toString();
    assert.match(body, /^Hello world!\n\n/);
    assert.match(body, /PATH_INFO = '\/demo'\n/);
    assert.match(body, /QUERY_STRING = 'x=1'\n/);
    child.process.kill("SIGINT");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.match(outcome.stderr, /"GET \/demo\?x=1 HTTP\/1\.1" 200/, "access log");
  });

  it("loads a TypeScript module and what it imports, without a build step", async () => {
    const { child, port } = await serveCli(["serve", "app.ts", "--port", "0"], { cwd: loose.dir });
    const reply = await fetchRaw(port, "/there");
    assert.equal(reply.body.toString(), "hello from TypeScript at /there");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("falls back to the default export", async () => {
    const { child, port } = await serveCli(["serve", `${loose.dir}/default.ts`, "--port", "0"]);
    assert.equal((await fetchRaw(port, "/")).body.toString(), "default export");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("serves the export named after the colon", async () => {
    const { child, port } = await serveCli(["serve", "apps.js:other", "--port", "0", "--quiet"], {
      cwd: esm.dir,
    });
    assert.equal((await fetchRaw(port, "/")).body.toString(), "other");
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "", "--quiet: no access log");
  });

  it("passes the limit flags to the server", async () => {
    const { child, port } = await serveCli(
      ["serve", "apps.js", "--port", "0", "--max-body-size", "10"],
      {
        cwd: esm.dir,
      },
    );
    assert.equal(
      (await fetchRaw(port, "/", { method: "POST", body: Buffer.alloc(10) })).body.toString(),
      "app",
    );
    assert.equal(
      (await fetchRaw(port, "/", { method: "POST", body: Buffer.alloc(11) })).status,
      413,
    );
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("passes --body-timeout and --send-timeout to the server", async () => {
    const { child, port } = await serveCli(
      ["serve", "timeouts.js", "--port", "0", "--body-timeout", "200", "--send-timeout", "200"],
      { cwd: timeouts.dir },
    );
    // A body that stops after 2 of its 10 bytes: 408 once bodyTimeout has passed.
    const stopped = connect(port, "127.0.0.1");
    let answer = "";
    stopped.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    stopped.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    await new Promise((resolve) => stopped.once("close", resolve));
    assert.match(answer, /^HTTP\/1\.1 408 /);
    // A client that reads nothing of an endless body: dropped once sendTimeout has
    // passed. Paused, it cannot see the close; reading again, it gets what the
    // kernel holds, then the end (an endless body otherwise).
    const stalled = connect(port, "127.0.0.1");
    stalled.on("error", () => undefined);
    stalled.write("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((resolve) => stalled.once("data", resolve));
    stalled.pause();
    await setTimeout(1000);
    stalled.on("data", () => undefined);
    stalled.resume();
    await new Promise((resolve) => stalled.once("close", resolve));
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("wraps the app in validator() with --validate", async () => {
    const plain = await serveCli(["serve", "reads.js", "--port", "0"], { cwd: esm.dir });
    const checked = await serveCli(["serve", "reads.js", "--port", "0", "--validate"], {
      cwd: esm.dir,
    });
    const post = { method: "POST", body: Buffer.from("abc") };
    assert.equal((await fetchRaw(plain.port, "/", post)).body.toString(), "abc");
    assert.equal((await fetchRaw(checked.port, "/", post)).status, 500);
    for (const { child } of [plain, checked]) child.process.kill("SIGTERM");
    assert.equal((await plain.child.outcome).code, 0);
    const outcome = await checked.child.outcome;
    assert.equal(outcome.code, 0);
    assert.match(outcome.stderr, /AssertionError/);
  });

  it("exits 1 at once on a second signal while a request hangs", async () => {
    const { child, port } = await serveCli(["serve", "hangs.js", "--port", "0"], { cwd: esm.dir });
    await new Promise<void>((resolve, reject) => {
      get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        res.once("data", () => resolve());
        res.on("error", () => undefined);
      }).on("error", reject);
    });
    child.process.kill("SIGTERM");
    // Signals are not queued: send the second only once the first has closed the port.
    await waitUntilRefused(port);
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /^wsgiref: SIGTERM again; exiting without waiting$/m);
  });

  it("finishes a request in flight on SIGTERM, then exits 0", async () => {
    const { child, port } = await serveCli(["serve", "slow.js", "--port", "0"], { cwd: esm.dir });
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          // The first chunk proves the request is in flight: now stop the server.
          if (text === "") child.process.kill("SIGTERM");
          text += chunk;
        });
        res.on("end", () => resolve(text));
        res.on("error", reject);
      }).on("error", reject);
    });
    assert.equal(body, "first, last");
    assert.equal((await child.outcome).code, 0);
  });
});
