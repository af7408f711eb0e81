/**
 * `wsgiref serve --proxy-headers` behind a real nginx, configured by
 * examples/deploy/nginx.conf (the config docs/deploying.md shows) with the
 * test's ports and a throwaway certificate: the app sees the scheme, client
 * address, host, port and prefix the client used; a spoofed X-Forwarded-For
 * does not win; nginx reuses its upstream connections; and nginx, whose idle
 * time is shorter than the server's keepAliveTimeout, is the one that closes an
 * idle connection (the other way round is the 502 race of Node issue 27363).
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type Served, serveCli, stopAll, tempDir } from "../cli/cli-process.js";
import { NginxServer, nginxSkipReason, reservePort } from "../helpers/nginx.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CONFIG = join(ROOT, "examples", "deploy", "nginx.conf");
const UTIL = pathToFileURL(join(ROOT, "build", "src", "util.js")).href;

/** nginx's idle time for upstream connections here, and the server's, in seconds. */
const NGINX_IDLE = 2;
const SERVER_IDLE = 4;

// The client's own loopback address, so that it differs from nginx's (127.0.0.1).
const CLIENT = "127.0.0.2";

const skip = nginxSkipReason();

describe("behind nginx", { skip, concurrency: false }, () => {
  const app = tempDir({
    "environ.mjs": [
      `import { requestUri } from ${JSON.stringify(UTIL)};`,
      "const KEYS = ['REMOTE_ADDR', 'REMOTE_PORT', 'wsgi.url_scheme', 'HTTP_HOST', 'SERVER_NAME',",
      "  'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING'];",
      "export function app(environ, startResponse) {",
      "  const seen = Object.fromEntries(KEYS.map((k) => [k, environ[k]]));",
      "  seen.url = requestUri(environ);",
      "  seen.peer = environ['wsgiref.proxy_fix.orig']?.REMOTE_ADDR;",
      "  startResponse('200 OK', [['Content-Type', 'application/json']]);",
      "  return [Buffer.from(JSON.stringify(seen))];",
      "}",
      "",
    ].join("\n"),
  });
  let served: Served;
  let nginx: NginxServer;
  let http: number;
  let https: number;

  before(async () => {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=shop.example",
      "-keyout",
      join(app.dir, "key.pem"),
      "-out",
      join(app.dir, "cert.pem"),
    ]);
    served = await serveCli(
      [
        "serve",
        "environ.mjs",
        "--port",
        "0",
        "--proxy-headers",
        "--keep-alive-timeout",
        String(SERVER_IDLE * 1000),
      ],
      { cwd: app.dir },
    );
    [http, https] = [await reservePort(), await reservePort()];
    const site = readFileSync(CONFIG, "utf8")
      .replace("server 127.0.0.1:8000;", `server 127.0.0.1:${served.port};`)
      .replace("keepalive_timeout 4s;", `keepalive_timeout ${NGINX_IDLE}s;`)
      .replace("listen 80;", `listen 127.0.0.1:${http};`)
      .replace("listen 443 ssl;", `listen 127.0.0.1:${https} ssl;`)
      .replace("/etc/ssl/certs/example.com.pem", join(app.dir, "cert.pem"))
      .replace("/etc/ssl/private/example.com.key", join(app.dir, "key.pem"));
    assert.ok(
      site.includes(String(served.port)) && site.includes(String(https)),
      "the config was adapted",
    );
    nginx = await NginxServer.start(site, http);
  });

  after(async () => {
    await nginx?.stop();
    served?.child.process.kill("SIGTERM");
    await served?.child.outcome;
    await stopAll();
    app.rm();
  });

  /** What the app saw for a curl request through nginx to `url` (as the client typed it). */
  async function viaCurl(url: string, headers: string[] = []): Promise<Record<string, string>> {
    const port = new URL(url).port;
    const { stdout } = await run("curl", [
      "-sS",
      "--fail",
      "--insecure",
      "--interface",
      CLIENT,
      "--resolve",
      `shop.example:${port}:127.0.0.1`,
      ...headers.flatMap((h) => ["-H", h]),
      url,
    ]);
    return JSON.parse(stdout) as Record<string, string>;
  }

  /** What the app saw for a plain request to nginx's http port, from CLIENT. */
  function viaNode(path: string): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: http,
          path,
          localAddress: CLIENT,
          agent: false,
          headers: { Host: "shop.example" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
            else resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>);
          });
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  it("gives the app the client's scheme, address, host, port and prefix over http", async () => {
    const seen = await viaCurl(`http://shop.example:${http}/app/items/7?q=1`);
    assert.equal(seen.REMOTE_ADDR, CLIENT);
    assert.equal(seen.peer, "127.0.0.1", "the connection came from nginx");
    assert.equal(seen["wsgi.url_scheme"], "http");
    assert.equal(seen.HTTP_HOST, `shop.example:${http}`);
    assert.equal(seen.SERVER_NAME, "shop.example");
    assert.equal(seen.SERVER_PORT, String(http));
    assert.equal(seen.SCRIPT_NAME, "/app");
    assert.equal(seen.PATH_INFO, "/items/7");
    assert.equal(seen.url, `http://shop.example:${http}/app/items/7?q=1`);
  });

  it("gives the app https when the client spoke TLS to nginx", async () => {
    const seen = await viaCurl(`https://shop.example:${https}/app/cart`);
    assert.equal(seen["wsgi.url_scheme"], "https");
    assert.equal(seen.REMOTE_ADDR, CLIENT);
    assert.equal(seen.SERVER_PORT, String(https));
    assert.equal(seen.url, `https://shop.example:${https}/app/cart`);
  });

  it("does not let a client's own X-Forwarded-* headers win", async () => {
    const seen = await viaCurl(`http://shop.example:${http}/app/`, [
      "X-Forwarded-For: 6.6.6.6",
      "X-Forwarded-Proto: https",
      "X-Forwarded-Host: evil.example",
      "X-Forwarded-Port: 1",
      "X-Forwarded-Prefix: /evil",
    ]);
    // nginx appended the real address after the spoofed one; the app took the last.
    assert.equal(seen.REMOTE_ADDR, CLIENT);
    assert.equal(seen["wsgi.url_scheme"], "http");
    assert.equal(seen.SERVER_NAME, "shop.example");
    assert.equal(seen.SERVER_PORT, String(http));
    assert.equal(seen.SCRIPT_NAME, "/app");
  });

  it("reuses one upstream connection for many requests, and nginx closes it when idle", async () => {
    const ports = new Set<string>();
    for (let i = 0; i < 6; i++) {
      ports.add(String((await viaNode(`/app/${i}`)).REMOTE_PORT));
    }
    assert.equal(ports.size, 1, `one upstream connection served all six: ${[...ports]}`);
    // Idle past nginx's keepalive_timeout, within the server's: the server keeps
    // the connection open for SERVER_IDLE seconds, so only nginx can have closed
    // it if the next request comes on a new one.
    await sleep(NGINX_IDLE * 1000 + 500);
    const after = await viaNode("/app/again");
    assert.ok(!ports.has(String(after.REMOTE_PORT)), "nginx opened a new upstream connection");
    assert.doesNotMatch(nginx.errorLog(), /upstream prematurely closed|502/);
  });
});
