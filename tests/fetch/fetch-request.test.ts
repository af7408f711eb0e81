/**
 * urlBaseEnviron and fetchHead: the server's part of a Fetch request's environ
 * from its URL, and its head in the request stage's shape.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fetchHead, urlBaseEnviron } from "../../src/fetch/fetch-request.js";

describe("urlBaseEnviron", () => {
  it("takes SERVER_NAME and SERVER_PORT from the URL, the scheme's port when it has none", () => {
    const plain = urlBaseEnviron(new URL("http://example.com/x"));
    assert.equal(plain.SERVER_NAME, "example.com");
    assert.equal(plain.SERVER_PORT, "80");
    assert.equal("HTTPS" in plain, false);
    const secure = urlBaseEnviron(new URL("https://example.com/x"));
    assert.equal(secure.SERVER_PORT, "443");
    assert.equal(secure.HTTPS, "on");
    assert.equal(urlBaseEnviron(new URL("https://example.com:8443/")).SERVER_PORT, "8443");
  });

  it("gives an IPv6 literal without its brackets, as a socket address reads", () => {
    const env = urlBaseEnviron(new URL("http://[::1]:8080/"));
    assert.equal(env.SERVER_NAME, "::1");
    assert.equal(env.SERVER_PORT, "8080");
  });
});

describe("fetchHead", () => {
  it("adds Host from the URL when the request has none, and keeps the peer", () => {
    const peer = { remoteAddress: "192.0.2.1", remotePort: 1234 };
    const head = fetchHead(new Request("http://h:81/p?q"), new URL("http://h:81/p?q"), peer);
    assert.deepEqual(head.rawHeaders, ["host", "h:81"]);
    assert.equal(head.url, "/p?q");
    assert.equal(head.socket, peer);
    const given = new Request("http://h/", { headers: { Host: "other" } });
    assert.deepEqual(fetchHead(given, new URL(given.url), peer).rawHeaders, ["host", "other"]);
  });
});
