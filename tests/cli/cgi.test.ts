/**
 * `wsgiref cgi MODULE`: one request from the CGI environment and stdin, one
 * response on stdout, as a CGI host runs a script.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { runCli, stopAll, tempDir } from "./cli-process.js";

const modules = tempDir({
  "echo.ts": [
    'import type { WSGIApplication } from "wsgiref";',
    "",
    "export const echo: WSGIApplication = (environ, startResponse) => {",
    '  const body = environ["wsgi.input"]?.read() ?? new Uint8Array();',
    '  startResponse("201 Created", [["Content-Type", "text/plain"], ["X-Path", String(environ.PATH_INFO)]]);',
    "  return [",
    '    new TextEncoder().encode(environ.REQUEST_METHOD + " " + environ.HTTP_X_TOKEN + " run_once=" + environ["wsgi.run_once"] + " "),',
    "    body,",
    "  ];",
    "};",
    "",
  ].join("\n"),
  "fails.js": 'exports.app = () => { throw new Error("database down"); };\n',
  // What an HTTP client set up when the module loads would take for its proxy.
  "proxy.js": [
    'const atLoad = process.env.HTTP_PROXY ?? "none";',
    "exports.app = (environ, startResponse) => {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    '  return [Buffer.from(atLoad + " " + (environ.HTTP_PROXY ?? "none"))];',
    "};",
    "",
  ].join("\n"),
});

/** A CGI host's environment for a request, without this test's own variables leaking in. */
const cgiEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  GATEWAY_INTERFACE: "CGI/1.1",
  SERVER_PROTOCOL: "HTTP/1.1",
  SERVER_NAME: "example.org",
  SERVER_PORT: "80",
  SCRIPT_NAME: "/cgi-bin/app",
  ...extra,
});

after(async () => {
  try {
    await stopAll();
  } finally {
    modules.rm();
  }
});

describe("wsgiref cgi", { concurrency: true }, () => {
  it("runs the app once on the CGI request and writes a CGI response", async () => {
    const outcome = await runCli(["cgi", "echo.ts:echo"], {
      cwd: modules.dir,
      input: Buffer.from("hello, body"),
      env: cgiEnv({
        REQUEST_METHOD: "POST",
        PATH_INFO: "/items",
        CONTENT_LENGTH: "11",
        CONTENT_TYPE: "text/plain",
        HTTP_X_TOKEN: "t0k",
      }),
    });
    assert.equal(outcome.code, 0);
    assert.equal(outcome.stderr, "");
    const [head, body] = outcome.stdout.split("\r\n\r\n");
    const lines = head?.split("\r\n") ?? [];
    assert.equal(lines[0], "Status: 201 Created");
    assert.ok(lines.includes("Content-Type: text/plain"));
    assert.ok(lines.includes("X-Path: /items"));
    assert.equal(body, "POST t0k run_once=true hello, body");
  });

  it("drops HTTP_PROXY, made from a request's Proxy: header, before the app is loaded (httpoxy)", async () => {
    const outcome = await runCli(["cgi", "proxy.js"], {
      cwd: modules.dir,
      env: cgiEnv({ REQUEST_METHOD: "GET", PATH_INFO: "/", HTTP_PROXY: "http://attacker:8080" }),
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout.split("\r\n\r\n")[1], "none none");
  });

  it("answers 500 when the app throws, with the stack on stderr", async () => {
    const outcome = await runCli(["cgi", "fails.js"], {
      cwd: modules.dir,
      env: cgiEnv({ REQUEST_METHOD: "GET", PATH_INFO: "/" }),
    });
    assert.equal(outcome.code, 0);
    assert.match(outcome.stdout, /^Status: 500 Internal Server Error\r\n/);
    assert.match(outcome.stderr, /Error: database down\n\s+at /);
  });
});
