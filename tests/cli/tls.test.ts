/**
 * `wsgiref serve --certfile --keyfile [--http2]`: HTTPS and HTTP/2 from the
 * command line, with a certificate made by openssl as docs/server.md shows; the
 * serving line says HTTPS, curl gets HTTP/2 over TLS, and bad flags are one line.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { needs } from "../helpers/peers.js";
import { Child, CLI, runCli, stopAll } from "./cli-process.js";

const run = promisify(execFile);

const HTTPS_LINE =
  /^Serving HTTPS on (\S+) port (\d+) \(https:\/\/(?:\S+):\2\/(?:, (\d+) workers?)?\) \.\.\.$/;

describe("wsgiref serve over HTTPS", { skip: needs("openssl", "curl") }, () => {
  let cert: Certificate;
  before(async () => {
    cert = await makeCertificate();
  });
  after(async () => {
    await stopAll();
    await cert.remove();
  });

  it("serves HTTPS and HTTP/2 with --certfile, --keyfile and --http2", async () => {
    const child = new Child([
      CLI,
      "serve",
      "--port",
      "0",
      "--quiet",
      "--certfile",
      cert.certFile,
      "--keyfile",
      cert.keyFile,
      "--http2",
    ]);
    const match = await child.waitFor(HTTPS_LINE);
    const port = Number(match[2]);
    const { stdout } = await run(
      "curl",
      ["--silent", "--insecure", "--http2", "--include", `https://127.0.0.1:${port}/`],
      { timeout: 20_000 },
    );
    assert.match(stdout, /^HTTP\/2 200/);
    assert.match(stdout, /SERVER_PROTOCOL = 'HTTP\/2'/);
    assert.match(stdout, /wsgi\.url_scheme = 'https'/);
    assert.match(stdout, /HTTPS = 'on'/);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("refuses --certfile without --keyfile, and a file it cannot read, in one line", async () => {
    const alone = await runCli(["serve", "--port", "0", "--certfile", cert.certFile]);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, "wsgiref: --certfile needs --keyfile\n");
    const missing = await runCli([
      "serve",
      "--port",
      "0",
      "--certfile",
      "/nonexistent/cert.pem",
      "--keyfile",
      cert.keyFile,
    ]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^wsgiref: cannot read --certfile \/nonexistent\/cert\.pem: .*ENOENT.*\n$/,
    );
  });
});
