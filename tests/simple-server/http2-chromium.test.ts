/**
 * HTTPS and HTTP/2 in a real browser: headless Chromium (Debian's, driven by
 * playwright-core, `--ignore-certificate-errors` for the certificate the test
 * makes with openssl) loads a page with a stylesheet, a script, an image and a
 * fetch() from simple-server over TLS with ALPN h2. The page renders, and every
 * resource arrives over h2, as the browser's Resource Timing and the server's
 * environ both say.
 */

import assert from "node:assert/strict";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";
import type { WSGIApplication } from "../../src/types.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { needs } from "../helpers/peers.js";
import { type Running, serve } from "../helpers/server-client.js";

const CHROMIUM = "/usr/bin/chromium";

function skipReason(): string | false {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return needs("openssl");
  } catch {
    // Under CI a missing browser is a failure (.ci/run installs chromium).
    return process.env.CI === "true"
      ? false
      : "chromium is not installed (Debian: apt-get install chromium); set CI=true to make this a failure";
  }
}

const FILES: Record<string, [string, string]> = {
  "/": [
    "text/html; charset=utf-8",
    '<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head>' +
      '<body><h1 id="title">loading</h1><img id="img" src="/dot.svg" alt="dot">' +
      '<script src="/app.js"></script></body></html>',
  ],
  "/style.css": ["text/css", "h1 { color: rgb(1, 2, 3); }"],
  "/app.js": [
    "text/javascript",
    'fetch("/data.json").then((r) => r.json()).then((d) => { document.getElementById("title").textContent = d.title; });',
  ],
  "/dot.svg": [
    "image/svg+xml",
    '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
  ],
  "/data.json": ["application/json", '{"title": "rendered over h2"}'],
};

describe("WSGIServer over HTTPS/h2 in Chromium", { skip: skipReason() }, () => {
  const profile = mkdtempSync(join(tmpdir(), "wsgiref-chromium-"));
  const protocols = new Map<string, string>();
  let cert: Certificate;
  let server: Running;
  let browser: BrowserContext;

  const app: WSGIApplication = (environ, startResponse) => {
    const path = environ.PATH_INFO ?? "";
    protocols.set(path, String(environ.SERVER_PROTOCOL));
    const file = FILES[path];
    if (file === undefined) {
      startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
      return [Buffer.from("not found\n")];
    }
    startResponse("200 OK", [["Content-Type", file[0]]]);
    return [Buffer.from(file[1])];
  };

  before(async () => {
    cert = await makeCertificate();
    server = await serve(app, { tls: { cert: cert.cert, key: cert.key }, http2: true });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--ignore-certificate-errors",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await cert?.remove();
    rmSync(profile, { recursive: true, force: true });
  });

  it("renders a page whose every resource arrives over h2", async () => {
    const page = await browser.newPage();
    await page.goto(`https://localhost:${server.port}/`);
    await page.waitForFunction(
      `document.getElementById("title").textContent === "rendered over h2"`,
    );
    const seen = (await page.evaluate(`(() => ({
      color: getComputedStyle(document.getElementById("title")).color,
      imageWidth: document.getElementById("img").naturalWidth,
      navigation: performance.getEntriesByType("navigation")[0].nextHopProtocol,
      resources: performance.getEntriesByType("resource").map((e) => [new URL(e.name).pathname, e.nextHopProtocol]),
    }))()`)) as {
      color: string;
      imageWidth: number;
      navigation: string;
      resources: Array<[string, string]>;
    };
    assert.equal(seen.color, "rgb(1, 2, 3)");
    assert.equal(seen.imageWidth, 8);
    assert.equal(seen.navigation, "h2");
    // The browser may ask for /favicon.ico as well (a 404 here).
    const paths = seen.resources.map(([path]) => path);
    for (const path of ["/app.js", "/data.json", "/dot.svg", "/style.css"]) {
      assert.ok(paths.includes(path), `${path} was loaded`);
    }
    for (const [path, protocol] of seen.resources) assert.equal(protocol, "h2", path);
    for (const path of Object.keys(FILES)) assert.equal(protocols.get(path), "HTTP/2", path);
    await page.close();
  });
});
