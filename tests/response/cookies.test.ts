/**
 * wsgiref/response: cookies. Response.setCookie/unsetCookie/deleteCookie on the
 * wire (Set-Cookie parsed back, by us and by curl's cookie jar), the checks that
 * keep a caller's data from splitting a header (CVE-2026-0672), and the Cookie
 * request header as Request.cookies reads it.
 */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatSetCookie, parseCookieHeader } from "../../src/response/cookies.js";
import { needs } from "../helpers/peers.js";
import { curl, fetchNode, parseSetCookie, serveRoutes } from "../helpers/response-server.js";
import type { Running } from "../helpers/server-client.js";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

describe("formatSetCookie", () => {
  it("writes the attributes in the order of Python's Morsel.OutputString", () => {
    assert.equal(
      formatSetCookie(
        "id",
        "a1",
        {
          comment: "c",
          domain: "example.com",
          expires: new Date(NOW),
          httpOnly: true,
          maxAge: 60,
          path: "/p",
          sameSite: "strict",
          secure: true,
        },
        NOW,
      ),
      "id=a1; Comment=c; Domain=example.com; expires=Fri, 02 Jan 2026 03:04:05 GMT; HttpOnly; Max-Age=60; Path=/p; SameSite=Strict; Secure",
    );
  });

  it("defaults the path to / and omits it for null", () => {
    assert.equal(formatSetCookie("a", "b"), "a=b; Path=/");
    assert.equal(formatSetCookie("a", "b", { path: null }), "a=b");
  });

  it("takes maxAge as seconds (truncated) or a Duration", () => {
    assert.equal(formatSetCookie("a", "", { maxAge: 1.9, path: null }), "a=; Max-Age=1");
    assert.equal(
      formatSetCookie("a", "", {
        maxAge: { days: 1, hours: 1, minutes: 1, seconds: 1 },
        path: null,
      }),
      "a=; Max-Age=90061",
    );
    assert.equal(
      formatSetCookie("a", "", { maxAge: { milliseconds: 2500 }, path: null }),
      "a=; Max-Age=2",
    );
  });

  it("takes expires as a Date, seconds from now or a Duration from now", () => {
    assert.equal(
      formatSetCookie("a", "", { expires: 3600, path: null }, NOW),
      "a=; expires=Fri, 02 Jan 2026 04:04:05 GMT",
    );
    assert.equal(
      formatSetCookie("a", "", { expires: { days: -1 }, path: null }, NOW),
      "a=; expires=Thu, 01 Jan 2026 03:04:05 GMT",
    );
  });

  it("accepts a quoted value and every cookie-octet", () => {
    const octets = "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~";
    assert.equal(formatSetCookie("a", `"${octets}"`, { path: null }), `a="${octets}"`);
  });

  // CVE-2026-0672: CPython's http.cookies let control characters and ';' through.
  const refused: Array<[string, () => string]> = [
    ["a name with a space", () => formatSetCookie("a b", "v")],
    ["a name with '='", () => formatSetCookie("a=b", "v")],
    ["a name with ';'", () => formatSetCookie("a;", "v")],
    ["an empty name", () => formatSetCookie("", "v")],
    ["a value with CR LF", () => formatSetCookie("a", "v\r\nSet-Cookie: evil=1")],
    ["a value with ';'", () => formatSetCookie("a", "v; Domain=evil.example")],
    ["a value with ','", () => formatSetCookie("a", "v,w")],
    ["a value with a space", () => formatSetCookie("a", "v w")],
    ["a value with a NUL", () => formatSetCookie("a", "v\0")],
    ["a value past U+007E", () => formatSetCookie("a", "é")],
    ["a value with one quote", () => formatSetCookie("a", '"v')],
    ["a path with ';'", () => formatSetCookie("a", "v", { path: "/; Secure" })],
    ["a path with LF", () => formatSetCookie("a", "v", { path: "/\n" })],
    ["a domain with ';'", () => formatSetCookie("a", "v", { domain: "a.example; Path=/" })],
    ["a domain with a space", () => formatSetCookie("a", "v", { domain: "a .example" })],
    ["a comment with CR", () => formatSetCookie("a", "v", { comment: "x\ry" })],
    ["an unknown sameSite", () => formatSetCookie("a", "v", { sameSite: "Lax; Secure" })],
    ["a non-number maxAge", () => formatSetCookie("a", "v", { maxAge: "1" as unknown as number })],
    ["a NaN Duration field", () => formatSetCookie("a", "v", { maxAge: { days: Number.NaN } })],
  ];
  for (const [what, call] of refused) {
    it(`refuses ${what} with a TypeError`, () => {
      assert.throws(call, TypeError);
    });
  }

  it("refuses an invalid Date with a RangeError", () => {
    assert.throws(() => formatSetCookie("a", "v", { expires: new Date(Number.NaN) }), RangeError);
  });

  // Found by the cookies fuzz target: 5.31e12 seconds from now is the year 170237,
  // which Python writes and no browser reads (RFC 6265 §5.1.1: four digits, >= 1601).
  it("refuses an expires outside the years 1601 to 9999 with a RangeError", () => {
    const now = Date.UTC(2026, 11, 2, 3, 30, 0);
    for (const expires of [
      5.31e12,
      new Date(Date.UTC(1600, 11, 31, 23, 59, 59)),
      new Date(-1e14),
    ]) {
      assert.throws(
        () => formatSetCookie("a", "v", { expires }, now),
        (err: unknown) =>
          err instanceof RangeError &&
          /^cookie expires must fall in the years 1601 to 9999 /.test(err.message),
      );
    }
    const last = new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    assert.match(
      formatSetCookie("a", "v", { expires: last }),
      /expires=Fri, 31 Dec 9999 23:59:59 GMT/,
    );
    const first = new Date(Date.UTC(1601, 0, 1));
    assert.match(
      formatSetCookie("a", "v", { expires: first }),
      /expires=Mon, 01 Jan 1601 00:00:00 GMT/,
    );
  });

  it("refuses options that are not an object", () => {
    assert.throws(() => formatSetCookie("a", "v", null as unknown as object), TypeError);
  });

  // Found by the cookies fuzz target (reliability/fuzz/cookies.ts): String(1e300) is
  // "1e+300", which is no delta-seconds.
  it("writes a huge maxAge as digits, never in exponent notation", () => {
    const header = formatSetCookie("a", "v", { maxAge: 1e21 + 0.5, path: null });
    assert.equal(header, "a=v; Max-Age=1000000000000000000000");
    assert.match(formatSetCookie("a", "v", { maxAge: -1e300 }), /; Max-Age=-1\d{300}; /);
  });

  it("refuses a Duration too long to represent with a RangeError", () => {
    assert.throws(
      () => formatSetCookie("a", "v", { maxAge: { days: 1e305 } }),
      (err: unknown) =>
        err instanceof RangeError &&
        err.message === "cookie maxAge is too long to represent: { days: 1e+305 }",
    );
  });
});

describe("parseCookieHeader", () => {
  it("splits pairs on ';', trims them, drops quotes and skips pairs without a name", () => {
    assert.deepEqual(parseCookieHeader(' a=1; b = "two" ;c=;novalue; =x; d=e=f'), [
      ["a", "1"],
      ["b", "two"],
      ["c", ""],
      ["d", "e=f"],
    ]);
  });
});

describe("Response.setCookie", () => {
  let server: Running;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-cookies-"));
    server = await serveRoutes({
      "/set": (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.setCookie("plain", "1");
        response.setCookie("full", "v2", {
          path: "/",
          domain: "127.0.0.1",
          maxAge: { hours: 1 },
          expires: { days: 1 },
          httpOnly: true,
          sameSite: "Lax",
          comment: "hi",
        });
        response.setCookie("sec", "s", { secure: true, sameSite: "None", path: null });
        response.setCookie("gone", null, { path: "/x" });
        response.deleteCookie("old", { domain: "127.0.0.1" });
        response.setCookie("dropped", "x");
        response.unsetCookie("dropped");
        response.unsetCookie("never-set");
        response.content = "ok";
      },
      "/refused": (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        try {
          response.setCookie("a", "x\r\nX-Injected: 1");
          response.content = "accepted";
        } catch (err) {
          response.content = `${(err as Error).name}; headers: ${response.headers.items().length}`;
        }
      },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends one Set-Cookie per cookie, whose attributes parse back", async () => {
    const before = Date.now();
    const res = await fetchNode(server.port, "/set");
    const cookies = (res.headers["set-cookie"] ?? []).map(parseSetCookie);
    assert.deepEqual(
      cookies.map((c) => c.name),
      ["plain", "full", "sec", "gone", "old"],
    );
    assert.deepEqual(cookies[2], {
      name: "sec",
      value: "s",
      attributes: { samesite: "None", secure: true },
    });
    assert.deepEqual(cookies[0], { name: "plain", value: "1", attributes: { path: "/" } });
    const full = cookies[1]!;
    assert.equal(full.value, "v2");
    assert.deepEqual(
      { ...full.attributes, expires: undefined },
      {
        comment: "hi",
        domain: "127.0.0.1",
        expires: undefined,
        httponly: true,
        "max-age": "3600",
        path: "/",
        samesite: "Lax",
      },
    );
    const expires = Date.parse(full.attributes.expires as string);
    assert.ok(
      expires >= Math.floor(before / 1000) * 1000 + 86_400_000 &&
        expires <= Date.now() + 86_400_000,
    );
    for (const deleted of [cookies[3]!, cookies[4]!]) {
      assert.equal(deleted.value, "");
      assert.equal(deleted.attributes["max-age"], "0");
      assert.ok(Date.parse(deleted.attributes.expires as string) < Date.now());
    }
    assert.equal(cookies[3]!.attributes.path, "/x");
    assert.equal(cookies[4]!.attributes.domain, "127.0.0.1");
  });

  it("sets cookies a real client stores (curl's cookie jar)", { skip: needs("curl") }, async () => {
    const jar = join(dir, "jar.txt");
    await curl(["--cookie-jar", jar, `http://127.0.0.1:${server.port}/set`]);
    const lines = (await readFile(jar, "latin1"))
      .split("\n")
      .filter((l) => l && !l.startsWith("# "));
    // Netscape format: domain, subdomains, path, secure, expiry, name, value.
    const stored = new Map(lines.map((l) => l.split("\t")).map((f) => [f[5], f]));
    // Deleted cookies are not stored; a Secure one over plain HTTP depends on curl's version.
    assert.deepEqual([...stored.keys()].filter((name) => name !== "sec").sort(), ["full", "plain"]);
    const full = stored.get("full")!;
    assert.equal(full[0], "#HttpOnly_127.0.0.1");
    assert.equal(full[2], "/");
    assert.equal(full[6], "v2");
    // Max-Age wins over expires (RFC 6265 §5.3): an hour from now.
    const expiry = Number(full[4]);
    assert.ok(Math.abs(expiry - (Date.now() / 1000 + 3600)) < 60, `expiry ${expiry}`);
  });

  it("refuses a value that would inject a header, before any header changes", async () => {
    const res = await fetchNode(server.port, "/refused");
    assert.equal(res.body.toString(), "TypeError; headers: 1");
    assert.equal(res.headers["x-injected"], undefined);
    assert.equal(res.headers["set-cookie"], undefined);
  });
});
