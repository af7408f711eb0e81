/**
 * The request stage: the environ a request becomes (Python's get_environ, plus
 * REQUEST_URI, REMOTE_PORT and the underscore rule), its pieces one by one, and
 * the request checks.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  refusalStatus,
  requestEnviron,
  requestFacts,
  SERVER_BASE_KEYS,
  splitTarget,
  unquotePath,
} from "../../src/gateway/request-head.js";
import { WSGIServer } from "../../src/simple-server.js";
import type { PartialEnvironment, WSGIApplication } from "../../src/types.js";
import { FileWrapper } from "../../src/util.js";
import { validator } from "../../src/validate.js";
import {
  exchange,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

describe("unquotePath", () => {
  it("percent-decodes to bytes read as latin-1, as Python's unquote(path, 'iso-8859-1')", () => {
    assert.equal(unquotePath("/a%2Fb"), "/a/b");
    assert.equal(unquotePath("/sp%E4m"), "/sp\u00e4m");
    assert.equal(unquotePath("/%C3%A4"), "/\u00c3\u00a4");
    assert.equal(unquotePath("/%2f%2F"), "///");
  });

  it("leaves a % that is not an escape as it is", () => {
    assert.equal(unquotePath("/100%"), "/100%");
    assert.equal(unquotePath("/%zz/%4"), "/%zz/%4");
    assert.equal(unquotePath("/plain"), "/plain");
  });
});

describe("splitTarget", () => {
  it("splits origin-form at the first ?", () => {
    assert.deepEqual(splitTarget("/p?x=1?y"), ["/p", "x=1?y"]);
    assert.deepEqual(splitTarget("/p"), ["/p", ""]);
    assert.deepEqual(splitTarget("*"), ["*", ""]);
  });

  it("reduces absolute-form to its path", () => {
    assert.deepEqual(splitTarget("http://example.com:8080/p/q?x=1"), ["/p/q", "x=1"]);
    assert.deepEqual(splitTarget("https://example.com"), ["/", ""]);
    assert.deepEqual(splitTarget("http://example.com?x"), ["/", "x"]);
  });
});

describe("requestEnviron over a base", () => {
  /** A stand-in for what requestEnviron reads of a request. */
  function target(rawHeaders: string[]): IncomingMessage {
    return {
      url: "/p%41?q",
      method: "POST",
      httpVersion: "1.1",
      socket: { remoteAddress: "10.0.0.9", remotePort: 4321 },
      rawHeaders,
    } as unknown as IncomingMessage;
  }
  const serverBase = (): PartialEnvironment => ({
    SERVER_NAME: "h",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PORT: "80",
    REMOTE_HOST: "",
    CONTENT_LENGTH: "",
    SCRIPT_NAME: "/s",
    "wsgi.input_terminated": true,
  });
  const headers = [
    "Content-Type",
    "text/x",
    "Content-Length",
    "3",
    "Host",
    "h",
    ...Array.from({ length: 20 }, (_, i) => [`X-H${i}`, `v${i}`]).flat(),
  ];

  it("keeps WSGIServer's baseEnviron keys, so the server's own base takes the literal", () => {
    // Not bound: setupEnviron() only reads the address fields.
    const httpd = new WSGIServer(["127.0.0.1", 0]);
    httpd.setupEnviron();
    assert.deepEqual(Object.keys(httpd.baseEnviron), SERVER_BASE_KEYS);
    assert.deepEqual(Object.keys(serverBase()), SERVER_BASE_KEYS);
  });

  it("names a field's key the same in any case, common name or not, however many names came before", () => {
    const names = ["User-Agent", "X-Real-IP", "Sec-CH-UA", "X-Made-Up", "TE", "Dnt"];
    const expected = {
      HTTP_USER_AGENT: "v0",
      HTTP_X_REAL_IP: "v1",
      HTTP_SEC_CH_UA: "v2",
      HTTP_X_MADE_UP: "v3",
      HTTP_TE: "v4",
      HTTP_DNT: "v5",
    };
    const keysFor = (spell: (name: string) => string): Record<string, unknown> => {
      const raw = names.flatMap((name, i) => [spell(name), `v${i}`]);
      const env = requestEnviron(target(raw), serverBase());
      return Object.fromEntries(Object.keys(expected).map((key) => [key, env[key]]));
    };
    const flip = (name: string): string =>
      [...name].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join("");
    // A client that sends many made-up names first changes nothing for later requests.
    const flood = Array.from({ length: 3000 }, (_, i) => [`X-Junk-${i}`, "j"]).flat();
    requestEnviron(target(flood), serverBase());
    for (const spell of [
      (n: string) => n,
      (n: string) => n.toLowerCase(),
      (n: string) => n.toUpperCase(),
      flip,
    ]) {
      assert.deepEqual(keysFor(spell), expected);
    }
  });

  it("gives the same keys, order and values whatever the base's shape", () => {
    const fast = requestEnviron(target(headers), serverBase());
    // A key before the server's takes the general path; without it, the two must agree.
    const general = requestEnviron(target(headers), { EXTRA: "x", ...serverBase() });
    delete general.EXTRA;
    assert.deepEqual(Object.entries(fast), Object.entries(general));
    assert.deepEqual(Object.keys(fast).slice(0, 15), [
      ...SERVER_BASE_KEYS,
      "SERVER_PROTOCOL",
      "REQUEST_METHOD",
      "PATH_INFO",
      "QUERY_STRING",
      "REQUEST_URI",
      "REMOTE_ADDR",
      "REMOTE_PORT",
      "CONTENT_TYPE",
    ]);
    assert.equal(fast.PATH_INFO, "/pA");
    assert.equal(fast.CONTENT_TYPE, "text/x");
    assert.equal(fast.CONTENT_LENGTH, "3");
    assert.equal(fast.SCRIPT_NAME, "/s");
    assert.equal(fast.HTTP_X_H19, "v19");
  });

  it("keeps keys a base has after the server's (HTTPS), the request's own winning", () => {
    const base = { ...serverBase(), HTTPS: "on", REQUEST_METHOD: "BASE", SERVER_SOFTWARE: "s" };
    const env = requestEnviron(target(headers), base);
    assert.equal(env.HTTPS, "on");
    assert.equal(env.SERVER_SOFTWARE, "s");
    assert.equal(env.REQUEST_METHOD, "POST");
    const general = requestEnviron(target(headers), { EXTRA: "x", ...base });
    delete general.EXTRA;
    assert.deepEqual(
      Object.fromEntries(Object.entries(env)),
      Object.fromEntries(Object.entries(general)),
    );
  });

  it("copies any other base as it is: its order, extra keys, symbols, a value changed", () => {
    const tag = Symbol("tag");
    const reordered = { SCRIPT_NAME: "/r", ...serverBase() };
    const base: PartialEnvironment = Object.assign(reordered, { [tag]: 1 });
    const env = requestEnviron(target([]), base);
    assert.equal(Object.keys(env)[0], "SCRIPT_NAME");
    assert.equal((env as Record<symbol, unknown>)[tag], 1);
    const missing = serverBase();
    delete missing.REMOTE_HOST;
    assert.equal("REMOTE_HOST" in requestEnviron(target([]), missing), false);
    const changed = serverBase();
    changed.SERVER_NAME = "other";
    assert.equal(requestEnviron(target([]), changed).SERVER_NAME, "other");
  });

  it("copies a base that departs from the server's keys at its last one (a Lambda's)", () => {
    // The server's first six keys, then another before `wsgi.input_terminated`.
    const { "wsgi.input_terminated": terminated, ...firstSix } = serverBase();
    const base = {
      ...firstSix,
      SERVER_SOFTWARE: "s",
      "wsgi.input_terminated": terminated,
      HTTPS: "on",
    };
    const env = requestEnviron(target([]), base);
    assert.equal(env.HTTPS, "on");
    assert.equal(env.SERVER_SOFTWARE, "s");
    assert.deepEqual(Object.keys(env).slice(0, 8), Object.keys(base).slice(0, 8));
  });
});

/** A stand-in for what refusalStatus and requestFacts read of a request. */
function fakeRequest(rawHeaders: string[], version = "1.1"): IncomingMessage {
  const [major, minor] = version.split(".").map(Number);
  return { rawHeaders, httpVersionMajor: major, httpVersionMinor: minor } as IncomingMessage;
}

describe("requestFacts", () => {
  it("reads Host, Content-Length, Transfer-Encoding and Expect in any case", () => {
    const facts = requestFacts(
      fakeRequest([
        "HOST",
        "a",
        "host",
        "b",
        "content-length",
        "3",
        "Transfer-Encoding",
        "gzip",
        "transfer-encoding",
        "chunked",
        "Expect",
        "100-Continue",
      ]),
    );
    assert.deepEqual(facts, {
      hosts: 2,
      host: "a",
      contentLength: "3",
      transferEncoding: "gzip,chunked",
      expectContinue: true,
      expect: "100-Continue",
      upgrade: false,
    });
  });

  it("reads an upgrade as llhttp does: an Upgrade field and the upgrade connection option", () => {
    const upgrade = (headers: string[]): boolean => requestFacts(fakeRequest(headers)).upgrade;
    assert.equal(upgrade(["Connection", "Upgrade", "Upgrade", "h2c"]), true);
    assert.equal(upgrade(["connection", "keep-alive, upgrade", "UPGRADE", "websocket"]), true);
    assert.equal(
      upgrade(["Connection", "keep-alive", "Connection", " upgrade ", "Upgrade", "x"]),
      true,
    );
    assert.equal(upgrade(["Upgrade", "h2c"]), false);
    assert.equal(upgrade(["Connection", "Upgrade"]), false);
    assert.equal(upgrade(["Connection", "upgraded", "Upgrade", "h2c"]), false);
  });
});

describe("refusalStatus", () => {
  const limits = { maxBodySize: 10, spoolThreshold: 5, maxHeaders: 3 };
  const status = (headers: string[], version = "1.1"): number => {
    const req = fakeRequest(headers, version);
    return refusalStatus(req, requestFacts(req), limits);
  };

  it("accepts a plain request", () => {
    assert.equal(status(["Host", "example.com:80"]), 0);
    assert.equal(status(["Host", "[::1]:8000"]), 0);
    assert.equal(status(["Host", ""]), 0);
    assert.equal(status([], "1.0"), 0);
  });

  it("refuses versions, Host, framing and sizes with their statuses", () => {
    assert.equal(status(["Host", "a"], "2.0"), 505);
    // No version at all: malformed, not a version the server lacks.
    assert.equal(status(["Host", "a"], "0.9"), 400);
    assert.equal(status([]), 400);
    assert.equal(status(["Host", "a", "Host", "a"]), 400);
    assert.equal(status(["Host", "a b"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", "gzip"]), 400);
    // RFC 9112 §6.1: a coding the server does not understand is 501 (it reached
    // the application still applied: a gzip body as the body).
    assert.equal(status(["Host", "a", "Transfer-Encoding", "gzip, chunked"]), 501);
    // Every coding is checked: chunked only once and last, each a token (found by
    // the network fuzzer: these were served, and a request pipelined after them).
    assert.equal(
      status(["Host", "a", "Transfer-Encoding", "chunke\xa3", "Transfer-Encoding", "chunked"]),
      400,
    );
    assert.equal(status(["Host", "a", "Transfer-Encoding", "\xa0chunked, chunked"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", "chunked\xa0"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", "chunked;q=1, chunked"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", "a: chunked, chunked"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", ", chunked"]), 400);
    assert.equal(status(["Host", "a", "Transfer-Encoding", "gzip;level=1 , chunked"]), 501);
    assert.equal(
      status(["Host", "a", "Transfer-Encoding", "gzip", "Transfer-Encoding", "chunked"]),
      501,
    );
    assert.equal(status(["Host", "a", "Transfer-Encoding", "Chunked"]), 0);
    assert.equal(status(["Transfer-Encoding", "gzip, chunked"], "1.0"), 400);
    assert.equal(status(["Host", "a", "Content-Length", "11"]), 413);
    assert.equal(status(["Host", "a", "Content-Length", "10"]), 0);
    assert.equal(status(["Host", "a", "B", "1", "C", "2", "D", "3"]), 431);
  });

  it("refuses a target that is no URI of this server: asterisk-form but for OPTIONS, bad absolute-form", () => {
    const targeted = (method: string, url: string, headers = ["Host", "b.example"]): number => {
      const req = Object.assign(fakeRequest(headers), { method, url });
      return refusalStatus(req, requestFacts(req), limits);
    };
    assert.equal(targeted("GET", "/x"), 0);
    assert.equal(targeted("OPTIONS", "*"), 0);
    assert.equal(targeted("GET", "*"), 400);
    assert.equal(targeted("POST", "*"), 400);
    assert.equal(targeted("GET", "http://a.example/x"), 0);
    assert.equal(targeted("GET", "HTTPS://a.example:8443"), 0);
    assert.equal(targeted("GET", "http://[::1]:8080/x"), 0);
    assert.equal(targeted("GET", "http://a.example:/x"), 0);
    // RFC 9110 §4.2.1: no host; §4.2.4: userinfo is an error; §4.2: not http(s).
    assert.equal(targeted("GET", "http:///x"), 400);
    assert.equal(targeted("GET", "http://:80/x"), 400);
    assert.equal(targeted("GET", "http://user@a.example/x"), 400);
    assert.equal(targeted("GET", "http://user:pw@a.example/x"), 400);
    assert.equal(targeted("GET", "http://a.example:8o/x"), 400);
    assert.equal(targeted("GET", "http://[::1/x"), 400);
    assert.equal(targeted("GET", "ftp://a.example/x"), 400);
    assert.equal(targeted("GET", "a:b"), 400);
    // Host is still required in HTTP/1.1 (RFC 9112 §3.2), whatever the target says.
    assert.equal(targeted("GET", "http://a.example/x", []), 400);
  });

  it("refuses an HTTP/1.1 expectation other than 100-continue with 417, and ignores HTTP/1.0's", () => {
    assert.equal(status(["Host", "a", "Expect", "teapot"]), 417);
    assert.equal(status(["Host", "a", "Expect", "100-continue"]), 0);
    // An empty list asks for nothing (RFC 9110 §5.6.1), so it is no reason to refuse.
    assert.equal(status(["Host", "a", "Expect", ""]), 0);
    assert.equal(status(["Host", "a", "Expect", " , "]), 0);
    assert.equal(status(["Expect", "teapot"], "1.0"), 0);
  });
});

describe("requestEnviron", () => {
  let captured: PartialEnvironment = {};
  let server: Running;
  const app: WSGIApplication = validator(
    (environ, startResponse) => {
      captured = environ;
      const body = environ["wsgi.input"]!.read(1_000_000);
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [body];
    },
    { readRequiresSize: true },
  );
  before(async () => {
    server = await serve(app);
  });
  after(() => server.close());

  /** Send `data`; return the environ the application saw. */
  async function environOf(data: string): Promise<PartialEnvironment> {
    const [response] = parseResponses(await exchange(server.port, data));
    assert.equal(response?.status, 200);
    return captured;
  }

  it("holds Python's CGI keys and the wsgi.* keys", async () => {
    const socket = await open(server.port);
    const localPort = socket.localPort;
    const received = exchangeOn(socket, request("GET", "/x?y=1", ["Connection: close"]));
    await received;
    const env = captured;
    const cgi = Object.fromEntries(Object.entries(env).filter(([k]) => !k.includes("."))) as Record<
      string,
      unknown
    >;
    assert.deepEqual(cgi, {
      SERVER_NAME: "127.0.0.1",
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PORT: String(server.port),
      REMOTE_HOST: "",
      CONTENT_LENGTH: "",
      SCRIPT_NAME: "",
      SERVER_PROTOCOL: "HTTP/1.1",
      REQUEST_METHOD: "GET",
      PATH_INFO: "/x",
      QUERY_STRING: "y=1",
      REQUEST_URI: "/x?y=1",
      REMOTE_ADDR: "127.0.0.1",
      REMOTE_PORT: String(localPort),
      CONTENT_TYPE: "",
      HTTP_HOST: "localhost",
      HTTP_CONNECTION: "close",
      SERVER_SOFTWARE: cgi.SERVER_SOFTWARE,
    });
    assert.match(String(cgi.SERVER_SOFTWARE), /^WSGIServer\/\d+\.\d+\.\d+$/);
    assert.deepEqual(env["wsgi.version"], [1, 0]);
    assert.equal(env["wsgi.url_scheme"], "http");
    assert.equal(env["wsgi.multithread"], false);
    assert.equal(env["wsgi.multiprocess"], false);
    assert.equal(env["wsgi.run_once"], false);
    assert.equal(env["wsgi.input_terminated"], true);
    assert.equal(env["wsgi.file_wrapper"], FileWrapper);
  });

  it("percent-decodes PATH_INFO as latin-1 and keeps REQUEST_URI raw", async () => {
    const env = await environOf(
      request("GET", "/a%2Fb/sp%E4m/%C3%A4?q=%2F%20", ["Connection: close"]),
    );
    assert.equal(env.PATH_INFO, "/a/b/sp\u00e4m/\u00c3\u00a4");
    assert.equal(env.QUERY_STRING, "q=%2F%20");
    assert.equal(env.REQUEST_URI, "/a%2Fb/sp%E4m/%C3%A4?q=%2F%20");
  });

  it("reduces an absolute-form target to its path", async () => {
    const env = await environOf(
      request("GET", "http://example.com:8080/p/q%20r?x=1", ["Connection: close"]),
    );
    assert.equal(env.PATH_INFO, "/p/q r");
    assert.equal(env.QUERY_STRING, "x=1");
    assert.equal(env.REQUEST_URI, "http://example.com:8080/p/q%20r?x=1");
  });

  it("takes HTTP_HOST, SERVER_NAME and SERVER_PORT from an absolute-form target, not Host", async () => {
    // RFC 9112 §3.2.2: the target's authority wins over the Host field.
    const raw = "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n";
    let env = await environOf(raw);
    assert.equal(env.HTTP_HOST, "a.example");
    assert.equal(env.SERVER_NAME, "a.example");
    assert.equal(env.SERVER_PORT, String(server.port), "no port in the target: the server's");
    assert.equal(env.PATH_INFO, "/x");
    env = await environOf(
      "GET http://[::1]:8080/y HTTP/1.1\r\nHost: b.example:9\r\nConnection: close\r\n\r\n",
    );
    assert.equal(env.HTTP_HOST, "[::1]:8080");
    assert.equal(env.SERVER_NAME, "[::1]");
    assert.equal(env.SERVER_PORT, "8080");
    // HTTP/1.0 needs no Host: the target gives it.
    env = await environOf("GET https://c.example:8443 HTTP/1.0\r\n\r\n");
    assert.equal(env.HTTP_HOST, "c.example:8443");
    assert.equal(env.SERVER_NAME, "c.example");
    assert.equal(env.SERVER_PORT, "8443");
    assert.equal(env.PATH_INFO, "/");
  });

  it("answers 400 to an absolute-form target with userinfo or no host, and serves nothing after it", async () => {
    for (const target of ["http://user@a.example/x", "http:///x", "ftp://a.example/x"]) {
      const before = captured;
      const received = await exchange(
        server.port,
        `GET ${target} HTTP/1.1\r\nHost: b.example\r\n\r\n${request("GET", "/after")}`,
      );
      assert.deepEqual(
        parseResponses(received).map((r) => r.status),
        [400],
        target,
      );
      assert.equal(captured, before, "the application saw nothing");
    }
  });

  it("answers 400 to a request line without a version after a first request, and serves nothing after it", async () => {
    const received = await exchange(
      server.port,
      `${request("GET", "/first")}GET /echo\r\n\r\n${request("GET", "/after")}`,
    );
    assert.deepEqual(
      parseResponses(received).map((r) => r.status),
      [200, 400],
    );
    assert.equal(captured.PATH_INFO, "/first", "the application saw the first request only");
  });

  it("answers 501 to a transfer coding other than chunked, and serves nothing after it", async () => {
    const before = captured;
    const received = await exchange(
      server.port,
      request(
        "POST",
        "/gzip",
        ["Transfer-Encoding: gzip, chunked"],
        `3\r\nabc\r\n0\r\n\r\n${request("GET", "/after")}`,
      ),
    );
    const responses = parseResponses(received);
    assert.deepEqual(
      responses.map((r) => r.status),
      [501],
    );
    assert.equal(captured, before, "the application saw nothing");
  });

  it("joins repeated headers with a comma and drops names with an underscore", async () => {
    const env = await environOf(
      request("GET", "/", [
        "X-Forwarded-For: 10.0.0.1",
        "X_Forwarded_For: 6.6.6.6",
        "Accept: a",
        "accept: b",
        "ACCEPT: c",
        "Server-Name: evil",
        "Connection: close",
      ]),
    );
    assert.equal(env.HTTP_X_FORWARDED_FOR, "10.0.0.1");
    assert.equal(env.HTTP_ACCEPT, "a,b,c");
    // As Python: a header whose CGI name is already a key does not override it.
    assert.equal(env.SERVER_NAME, "127.0.0.1");
    assert.equal(env.HTTP_SERVER_NAME, undefined);
  });

  it("puts Content-Type and Content-Length in CONTENT_TYPE and CONTENT_LENGTH only", async () => {
    const env = await environOf(
      request(
        "POST",
        "/",
        ["Content-Type: text/x; a=b", "Content-Length: 4", "Connection: close"],
        "body",
      ),
    );
    assert.equal(env.CONTENT_TYPE, "text/x; a=b");
    assert.equal(env.CONTENT_LENGTH, "4");
    assert.equal(env.HTTP_CONTENT_TYPE, undefined);
    assert.equal(env.HTTP_CONTENT_LENGTH, undefined);
  });

  it("sets CONTENT_LENGTH of a chunked body to its length, de-chunked", async () => {
    const received = await exchange(
      server.port,
      request(
        "POST",
        "/",
        ["Transfer-Encoding: chunked", "Connection: close"],
        "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n",
      ),
    );
    const [response] = parseResponses(received);
    assert.equal(response?.body.toString(), "abcdefg");
    assert.equal(captured.CONTENT_LENGTH, "7");
    assert.equal(captured.HTTP_TRANSFER_ENCODING, "chunked");
  });

  it("gives SERVER_PROTOCOL of an HTTP/1.0 request", async () => {
    const env = await environOf("GET /old HTTP/1.0\r\n\r\n");
    assert.equal(env.SERVER_PROTOCOL, "HTTP/1.0");
    assert.equal(env.HTTP_HOST, undefined);
  });
});

/** Send `data` on an open socket after half-closing; resolve with all received. */
async function exchangeOn(socket: import("node:net").Socket, data: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.end(data);
  await once(socket, "close");
  return Buffer.concat(chunks);
}
