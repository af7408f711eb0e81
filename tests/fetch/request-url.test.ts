/**
 * RequestUrlReader: whichever way it takes, the parts are the WHATWG parser's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestUrlReader } from "../../src/fetch/request-url.js";

/** `href` read by a reader that has read nothing before. */
function parseRequestUrl(href: string): ReturnType<RequestUrlReader["read"]> {
  return new RequestUrlReader().read(href);
}

const PARTS = ["protocol", "host", "hostname", "port", "pathname", "search"] as const;

/** What `new URL(href)` says of each part. */
function parts(url: { [K in (typeof PARTS)[number]]: string }): Record<string, string> {
  return Object.fromEntries(PARTS.map((key) => [key, url[key]]));
}

const HOSTS = [
  "127.0.0.1",
  "127.0.0.1:8080",
  "localhost:80",
  "example.com:443",
  "Example.COM",
  "a.b-c.example",
  "127.1",
  "0x7f.0.0.1",
  "a.0x1f",
  "a.0X1F",
  "a.123",
  "1.2.3.04",
  "256.1.1.1",
  "a..b",
  "a.b.",
  "xn--nxasmq6b.example",
  "xn--a.example",
  "user@example.com",
  "[::1]:8080",
  "[0:0::1]",
  "h:0080",
  "h:65535",
  "h:65536",
  "h:",
  "-.example",
  "é.example",
];
const TARGETS = [
  "/",
  "/a/b?c=d&e",
  "/a/./b",
  "/a/../b",
  "/a/.",
  "/a/..",
  "/a/%2e/b",
  "/a/.%2E/b",
  "/a/.b/..c",
  "/%zz/%41",
  "/a b",
  "/a\\b",
  '/a"b',
  "/a`b{c}",
  "/a[b]^|",
  "/é",
  "/?",
  "/?a'b",
  "/?a b",
  '/?a"b<c>',
  "/?a?b/c\\d`{}|^",
  "/?é",
  "/#frag",
  "/?q#frag",
  "/~user/!$&'()*+,;=:@",
];

describe("RequestUrlReader, reading its first URL", () => {
  it("gives the parts new URL() gives, for every host and target tried", () => {
    let tried = 0;
    for (const scheme of ["http", "https"]) {
      for (const host of HOSTS) {
        for (const target of TARGETS) {
          const href = `${scheme}://${host}${target}`;
          let expected: Record<string, string> | undefined;
          try {
            expected = parts(new URL(href));
          } catch {
            expected = undefined;
          }
          if (expected === undefined) {
            assert.throws(() => parseRequestUrl(href), TypeError, href);
          } else {
            assert.deepEqual(parts(parseRequestUrl(href)), expected, href);
          }
          tried += 1;
        }
      }
    }
    assert.equal(tried, 2 * HOSTS.length * TARGETS.length);
  });

  it("takes other schemes and a URL with no path through the parser", () => {
    assert.deepEqual(parts(parseRequestUrl("ftp://h/x")), parts(new URL("ftp://h/x")));
    assert.deepEqual(parts(parseRequestUrl("http://h")), parts(new URL("http://h")));
  });

  it("splits a plain URL without the parser", () => {
    // The speed path: what @hono/node-server and a Request give for a plain request.
    for (const href of ["http://127.0.0.1:8080/x?y=1", "https://example.com/a/b"]) {
      assert.equal(parseRequestUrl(href) instanceof URL, false, href);
    }
  });
});

describe("RequestUrlReader", () => {
  it("gives the parts new URL() gives, whatever origin it read before", () => {
    const reader = new RequestUrlReader();
    // Each host's targets in a row (the origin kept), hosts that share a prefix
    // with the one before (`h:0080` after `h:`, `a.b.` after `a..b`), then one
    // URL twice in a row, and again after others.
    const hrefs: string[] = [];
    for (const scheme of ["http", "https"]) {
      for (const host of HOSTS)
        for (const target of TARGETS) hrefs.push(`${scheme}://${host}${target}`);
    }
    hrefs.push(
      "http://h/x",
      "http://h/x",
      "http://h:8080/x",
      "http://h.example/x",
      "http://h/x",
      "http://h/y",
      "http://h",
      "http://h",
    );
    for (const href of hrefs) {
      let expected: Record<string, string> | undefined;
      try {
        expected = parts(new URL(href));
      } catch {
        expected = undefined;
      }
      if (expected === undefined) assert.throws(() => reader.read(href), TypeError, href);
      else assert.deepEqual(parts(reader.read(href)), expected, href);
    }
  });
});
