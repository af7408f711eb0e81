/**
 * proxyFix (SPEC.md §11.5) in process: each X-Forwarded-* header trusted only
 * as many values from the right as configured, malformed and over-long values
 * never trusted, the originals kept. The CLI's peer check and a real nginx in
 * front are tested in tests/cli/proxy-headers.test.ts and
 * tests/middleware/nginx.test.ts.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ProxyFixOptions, proxyFix } from "wsgiref/middleware";
import type { PartialEnvironment, WSGIEnvironment } from "wsgiref/types";
import { applicationUri, requestUri, setupTestingDefaults } from "wsgiref/util";
import { validator } from "wsgiref/validate";

/** The environ the wrapped app sees for a request with `headers` (as HTTP_* keys). */
function seen(headers: Record<string, string>, options?: ProxyFixOptions): WSGIEnvironment {
  const environ: PartialEnvironment = {
    REMOTE_ADDR: "127.0.0.1",
    SERVER_NAME: "127.0.0.1",
    SERVER_PORT: "8000",
    HTTP_HOST: "127.0.0.1:8000",
    SCRIPT_NAME: "",
    PATH_INFO: "/page",
    QUERY_STRING: "",
    ...headers,
  };
  setupTestingDefaults(environ);
  let got: WSGIEnvironment | undefined;
  const app = proxyFix((env, startResponse) => {
    got = { ...env };
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  }, options);
  const body = app(environ, () => () => undefined);
  assert.ok(Array.isArray(body));
  assert.ok(got !== undefined);
  return got;
}

const ALL: ProxyFixOptions = { xFor: 1, xProto: 1, xHost: 1, xPort: 1, xPrefix: 1 };

describe("proxyFix", () => {
  it("takes the client address and scheme from one proxy by default", () => {
    const env = seen({ HTTP_X_FORWARDED_FOR: "203.0.113.7", HTTP_X_FORWARDED_PROTO: "https" });
    assert.equal(env.REMOTE_ADDR, "203.0.113.7");
    assert.equal(env["wsgi.url_scheme"], "https");
    // Host, port and prefix are not trusted unless asked for.
    assert.equal(env.HTTP_HOST, "127.0.0.1:8000");
  });

  it("ignores host, port and prefix headers by default", () => {
    const env = seen({
      HTTP_X_FORWARDED_HOST: "evil.example",
      HTTP_X_FORWARDED_PORT: "444",
      HTTP_X_FORWARDED_PREFIX: "/evil",
    });
    assert.equal(env.HTTP_HOST, "127.0.0.1:8000");
    assert.equal(env.SERVER_NAME, "127.0.0.1");
    assert.equal(env.SERVER_PORT, "8000");
    assert.equal(env.SCRIPT_NAME, "");
  });

  it("sets every key with all five trusted, so URLs are the client's", () => {
    const env = seen(
      {
        HTTP_X_FORWARDED_FOR: "2001:db8::1",
        HTTP_X_FORWARDED_PROTO: "https",
        HTTP_X_FORWARDED_HOST: "www.example.com",
        HTTP_X_FORWARDED_PORT: "8443",
        HTTP_X_FORWARDED_PREFIX: "/app",
      },
      ALL,
    );
    assert.equal(env.REMOTE_ADDR, "2001:db8::1");
    assert.equal(env.HTTP_HOST, "www.example.com:8443");
    assert.equal(env.SERVER_NAME, "www.example.com");
    assert.equal(env.SERVER_PORT, "8443");
    assert.equal(env.SCRIPT_NAME, "/app");
    assert.equal(requestUri(env), "https://www.example.com:8443/app/page");
  });

  it("keeps the values it replaced under wsgiref.proxy_fix.orig", () => {
    const env = seen({ HTTP_X_FORWARDED_FOR: "203.0.113.7", HTTP_X_FORWARDED_PREFIX: "/p" }, ALL);
    assert.deepEqual(env["wsgiref.proxy_fix.orig"], {
      REMOTE_ADDR: "127.0.0.1",
      "wsgi.url_scheme": "http",
      HTTP_HOST: "127.0.0.1:8000",
      SERVER_NAME: "127.0.0.1",
      SERVER_PORT: "8000",
      SCRIPT_NAME: "",
    });
  });

  it("trusts the value a proxy appended, not the one the client wrote before it", () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; nginx appended the real peer.
    const env = seen({ HTTP_X_FORWARDED_FOR: "6.6.6.6, 198.51.100.2" });
    assert.equal(env.REMOTE_ADDR, "198.51.100.2");
  });

  it("counts hops from the right: two proxies, xFor 2", () => {
    const env = seen({ HTTP_X_FORWARDED_FOR: "6.6.6.6,198.51.100.2, 10.0.0.5" }, { xFor: 2 });
    assert.equal(env.REMOTE_ADDR, "198.51.100.2");
  });

  it("trusts nothing when the header has fewer values than proxies configured", () => {
    // With two proxies, a single value can only have come from the client.
    const env = seen(
      { HTTP_X_FORWARDED_FOR: "6.6.6.6", HTTP_X_FORWARDED_PROTO: "https" },
      {
        xFor: 2,
        xProto: 2,
      },
    );
    assert.equal(env.REMOTE_ADDR, "127.0.0.1");
    assert.equal(env["wsgi.url_scheme"], "http");
    assert.equal(seen({ HTTP_X_FORWARDED_FOR: ",1.2.3.4" }, { xFor: 3 }).REMOTE_ADDR, "127.0.0.1");
    assert.equal(seen({ HTTP_X_FORWARDED_FOR: "," }, { xFor: 2 }).REMOTE_ADDR, "127.0.0.1");
  });

  it("ignores an X-Forwarded-For that is not an IP address", () => {
    for (const value of [
      "unknown",
      "1.2.3.4:5678",
      "[::1]",
      "1.2.3",
      "256.1.1.1",
      "1.2.3.4 5.6.7.8",
      "<script>",
      "",
      " ",
      "1.2.3.4\r\nX-Evil: 1",
    ]) {
      assert.equal(seen({ HTTP_X_FORWARDED_FOR: value }).REMOTE_ADDR, "127.0.0.1", value);
    }
  });

  it("ignores a proto other than http or https, and lower-cases the scheme", () => {
    for (const value of ["ftp", "javascript", "https:", "https, ", "h ttps", "wss"]) {
      assert.equal(seen({ HTTP_X_FORWARDED_PROTO: value })["wsgi.url_scheme"], "http", value);
    }
    assert.equal(seen({ HTTP_X_FORWARDED_PROTO: "HTTPS" })["wsgi.url_scheme"], "https");
  });

  it("ignores a host that fails the Host grammar", () => {
    for (const value of [
      "evil.example/path",
      "evil.example:0",
      "evil.example:65536",
      "evil.example:80x",
      "evil.example:",
      "a b",
      "user@evil.example",
      "[not-ipv6]",
      "[::1",
      "::1",
      `${"a".repeat(254)}`,
      "evil.example\\x",
    ]) {
      const env = seen({ HTTP_X_FORWARDED_HOST: value }, { xHost: 1 });
      assert.equal(env.HTTP_HOST, "127.0.0.1:8000", value);
      assert.equal(env.SERVER_NAME, "127.0.0.1", value);
      assert.equal(env.SERVER_PORT, "8000", value);
    }
  });

  it("takes a host with or without a port, IPv6 literals included", () => {
    const withPort = seen({ HTTP_X_FORWARDED_HOST: "[2001:db8::2]:8080" }, { xHost: 1 });
    assert.equal(withPort.HTTP_HOST, "[2001:db8::2]:8080");
    assert.equal(withPort.SERVER_NAME, "[2001:db8::2]");
    assert.equal(withPort.SERVER_PORT, "8080");
    // Without a port: the scheme's default, so SERVER_NAME:SERVER_PORT is the host.
    const https = seen(
      { HTTP_X_FORWARDED_HOST: "example.com", HTTP_X_FORWARDED_PROTO: "https" },
      { xHost: 1 },
    );
    assert.equal(https.HTTP_HOST, "example.com");
    assert.equal(https.SERVER_PORT, "443");
    assert.equal(applicationUri(https), "https://example.com/");
    assert.equal(seen({ HTTP_X_FORWARDED_HOST: "example.com" }, { xHost: 1 }).SERVER_PORT, "80");
  });

  it("ignores a port outside 1-65535 or not a number", () => {
    for (const value of ["0", "65536", "99999", "-1", "443a", "", "1e3", "123456", " 80 80"]) {
      const env = seen({ HTTP_X_FORWARDED_PORT: value }, { xPort: 1 });
      assert.equal(env.SERVER_PORT, "8000", value);
      assert.equal(env.HTTP_HOST, "127.0.0.1:8000", value);
    }
    const env = seen({ HTTP_X_FORWARDED_PORT: "443" }, { xPort: 1 });
    assert.equal(env.SERVER_PORT, "443");
    assert.equal(env.HTTP_HOST, "127.0.0.1:443");
  });

  it("puts the forwarded port on the forwarded host", () => {
    const env = seen(
      { HTTP_X_FORWARDED_HOST: "example.com:80", HTTP_X_FORWARDED_PORT: "8443" },
      { xHost: 1, xPort: 1 },
    );
    assert.equal(env.HTTP_HOST, "example.com:8443");
    assert.equal(env.SERVER_NAME, "example.com");
    assert.equal(env.SERVER_PORT, "8443");
  });

  it("takes a prefix as an absolute path, decoded and without a trailing slash", () => {
    assert.equal(seen({ HTTP_X_FORWARDED_PREFIX: "/app/" }, ALL).SCRIPT_NAME, "/app");
    assert.equal(seen({ HTTP_X_FORWARDED_PREFIX: "/" }, ALL).SCRIPT_NAME, "");
    assert.equal(seen({ HTTP_X_FORWARDED_PREFIX: "/sp%E4m" }, ALL).SCRIPT_NAME, "/sp\xe4m");
    for (const value of [
      "app",
      "/a/../b",
      "/a/./b",
      "/%2E%2E/x",
      "/a b",
      "/a?b",
      "/a#b",
      "//evil.example",
      "/a//b",
      "https://evil.example/",
      `/${"a".repeat(1024)}`,
    ]) {
      assert.equal(seen({ HTTP_X_FORWARDED_PREFIX: value }, ALL).SCRIPT_NAME, "", value);
    }
  });

  it("reads only the last values of an over-long header", () => {
    // 60 KiB of client-written values before the proxy's: only the last is read.
    const spoofed = Array.from({ length: 5000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(",");
    const env = seen({ HTTP_X_FORWARDED_FOR: `${spoofed}, 198.51.100.9` });
    assert.equal(env.REMOTE_ADDR, "198.51.100.9");
    // One over-long value is malformed.
    const long = seen({ HTTP_X_FORWARDED_HOST: `${"a".repeat(70_000)}.example` }, ALL);
    assert.equal(long.SERVER_NAME, "127.0.0.1");
  });

  it("passes a validator() in front and behind", () => {
    const inner = validator((environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from(String(environ.REMOTE_ADDR))];
    });
    const app = validator(proxyFix(inner));
    const environ: PartialEnvironment = { HTTP_X_FORWARDED_FOR: "192.0.2.1", QUERY_STRING: "" };
    setupTestingDefaults(environ);
    const body = app(environ, () => () => undefined) as Iterable<Uint8Array> & { close(): void };
    assert.equal(Buffer.concat([...body]).toString(), "192.0.2.1");
    body.close();
  });

  it("refuses options of the wrong kind", () => {
    const app = () => [];
    assert.throws(() => proxyFix("app" as never), {
      name: "TypeError",
      message: "app must be a function: 'app'",
    });
    assert.throws(() => proxyFix(app, null as never), TypeError);
    assert.throws(() => proxyFix(app, { xFor: "1" } as never), {
      name: "TypeError",
      message: "options.xFor must be a number: '1'",
    });
    assert.throws(() => proxyFix(app, { x_for: 1 } as never), {
      name: "TypeError",
      message: "options has an unknown key: 'x_for'",
    });
    for (const value of [-1, 1.5, 33, Number.NaN]) {
      assert.throws(() => proxyFix(app, { xHost: value }), {
        name: "RangeError",
        message: /^options.xHost must be an integer from 0 to 32: /,
      });
    }
  });
});
