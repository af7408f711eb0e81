/**
 * `--proxy-headers` and `--forwarded-allow-ips` (SPEC.md §11.5): the command
 * applies proxyFix only to connections from the listed peers; IPv4-mapped
 * addresses count as the IPv4 address they carry.
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { parseAllowedPeers, unmapped } from "../../src/cli/proxy-headers.js";
import { fetchRaw, runCli, serveCli, stopAll, tempDir } from "./cli-process.js";

const app = tempDir({
  "package.json": '{ "type": "module" }',
  "environ.js": [
    "const KEYS = ['REMOTE_ADDR', 'wsgi.url_scheme', 'HTTP_HOST', 'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO'];",
    "export function app(environ, startResponse) {",
    "  const seen = Object.fromEntries(KEYS.map((k) => [k, environ[k]]));",
    "  seen.orig = environ['wsgiref.proxy_fix.orig']?.REMOTE_ADDR;",
    "  startResponse('200 OK', [['Content-Type', 'application/json']]);",
    "  return [Buffer.from(JSON.stringify(seen))];",
    "}",
    "",
  ].join("\n"),
});
after(async () => {
  try {
    await stopAll();
  } finally {
    app.rm();
  }
});

const FORWARDED = {
  "X-Forwarded-For": "203.0.113.9",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": "www.example.com",
  "X-Forwarded-Port": "443",
  "X-Forwarded-Prefix": "/shop",
};

/** Serve environ.js with `flags` and return what the app saw for one forwarded request. */
async function environSeen(flags: string[], host = "127.0.0.1") {
  const { child, port } = await serveCli(
    ["serve", "environ.js", "--port", "0", "--quiet", "--host", host, ...flags],
    { cwd: app.dir },
  );
  try {
    const reply = await fetchRaw(port, "/x", { headers: FORWARDED });
    return JSON.parse(reply.body.toString()) as Record<string, string | undefined>;
  } finally {
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  }
}

/** Whether this machine can listen on `::` (dual stack). */
async function hasDualStack(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(0, "::", () => server.close(() => resolve(true)));
  });
}

describe("--proxy-headers", { concurrency: true }, () => {
  it("leaves X-Forwarded-* alone without it", async () => {
    const seen = await environSeen([]);
    assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
    assert.equal(seen["wsgi.url_scheme"], "http");
    assert.equal(seen.SCRIPT_NAME, "");
  });

  it("trusts every header one proxy deep from 127.0.0.1 by default", async () => {
    const seen = await environSeen(["--proxy-headers"]);
    assert.deepEqual(seen, {
      REMOTE_ADDR: "203.0.113.9",
      "wsgi.url_scheme": "https",
      HTTP_HOST: "www.example.com:443",
      SERVER_PORT: "443",
      SCRIPT_NAME: "/shop",
      PATH_INFO: "/x",
      orig: "127.0.0.1",
    });
  });

  it("ignores the headers of a peer not in --forwarded-allow-ips", async () => {
    const seen = await environSeen([
      "--proxy-headers",
      "--forwarded-allow-ips",
      "10.1.2.3,192.0.2.0/24",
    ]);
    assert.equal(seen.REMOTE_ADDR, "127.0.0.1");
    assert.equal(seen["wsgi.url_scheme"], "http");
    assert.equal(seen.orig, undefined, "proxyFix did not run");
  });

  it("trusts a listed network, and any peer with '*'", async () => {
    for (const list of ["127.0.0.0/8", "*", "10.0.0.1, 127.0.0.1"]) {
      const seen = await environSeen(["--proxy-headers", "--forwarded-allow-ips", list]);
      assert.equal(seen.REMOTE_ADDR, "203.0.113.9", list);
    }
  });

  it("counts an IPv4-mapped peer on a dual-stack socket as its IPv4 address", async (t) => {
    if (!(await hasDualStack())) {
      t.skip("this machine cannot listen on :: (no IPv6)");
      return;
    }
    const seen = await environSeen(["--proxy-headers"], "::");
    assert.equal(seen.orig, "::ffff:127.0.0.1", "the peer as the socket reports it");
    assert.equal(seen.REMOTE_ADDR, "203.0.113.9");
  });

  it("refuses a malformed list, and the list without --proxy-headers", async () => {
    const bad = await runCli([
      "serve",
      "--proxy-headers",
      "--forwarded-allow-ips",
      "127.0.0.1,localhost",
    ]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      "wsgiref: --forwarded-allow-ips must list IP addresses or networks (or be '*'): 'localhost'\n",
    );
    const alone = await runCli(["serve", "--forwarded-allow-ips", "127.0.0.1"]);
    assert.equal(alone.code, 2);
    assert.equal(alone.stderr, "wsgiref: --forwarded-allow-ips needs --proxy-headers\n");
  });
});

describe("parseAllowedPeers", () => {
  it("allows the default loopback peers, mapped or not", () => {
    const peers = parseAllowedPeers("127.0.0.1,::1");
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "::FFFF:127.0.0.1"]) {
      assert.equal(peers.allows(address), true, address);
    }
    for (const address of ["127.0.0.2", "::2", "::ffff:127.0.0.2", "10.0.0.1", "", "localhost"]) {
      assert.equal(peers.allows(address), false, address);
    }
  });

  it("allows networks", () => {
    const peers = parseAllowedPeers("10.0.0.0/8, 2001:db8::/32");
    assert.equal(peers.allows("10.200.3.4"), true);
    assert.equal(peers.allows("::ffff:10.1.1.1"), true);
    assert.equal(peers.allows("2001:db8:1::5"), true);
    assert.equal(peers.allows("11.0.0.1"), false);
  });

  it("refuses entries that are not addresses or networks", () => {
    for (const entry of [
      "localhost",
      "10.0.0.0/33",
      "::/129",
      "10.0.0.1/8/8",
      "1.2.3",
      "10.0.0.0/x",
    ]) {
      assert.throws(() => parseAllowedPeers(entry), {
        name: "CliError",
        message: `--forwarded-allow-ips must list IP addresses or networks (or be '*'): '${entry}'`,
      });
    }
  });
});

describe("unmapped", () => {
  it("turns an IPv4-mapped IPv6 address into IPv4 and leaves others", () => {
    assert.equal(unmapped("::ffff:192.0.2.1"), "192.0.2.1");
    assert.equal(unmapped("::ffff:c000:201"), "::ffff:c000:201");
    assert.equal(unmapped("2001:db8::1"), "2001:db8::1");
    assert.equal(unmapped("192.0.2.1"), "192.0.2.1");
  });
});
