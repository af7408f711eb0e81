/**
 * The network fuzzer in `npm test`: a small fixed-seed batch through the same
 * campaign and oracle as `npm run fuzz:net`, and regression tests for what the
 * fuzzer found in the server.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runCampaign } from "../../reliability/net-fuzz/campaign.js";
import { generate } from "../../reliability/net-fuzz/mutators.js";
import { frame } from "../../reliability/net-fuzz/reference.js";
import type { WSGIApplication } from "../../src/types.js";
import { exchange, parseResponses, type Running, serve } from "../helpers/server-client.js";

describe("network fuzzer", () => {
  it("finds no oracle failure in 400 inputs of seed 7", async () => {
    const result = await runCampaign({ seed: "7", iterations: 400, seconds: 30, concurrency: 4 });
    const failures = result.failures.map((f) => `input ${f.n}: ${f.failures.join("; ")}`);
    assert.deepEqual(failures, []);
    assert.equal(result.inputs, 400);
    assert.equal(result.smuggled, 0);
    assert.equal(result.leaks, 0);
    assert.equal(result.appCloses, result.appRequests);
    assert.ok((result.classes["2xx"] ?? 0) > 0, "some inputs are served");
    assert.ok((result.classes["4xx"] ?? 0) > 0, "some inputs are refused");
  });

  it("builds the same input from the same seed and number", () => {
    assert.deepEqual(generate("7", 123), generate("7", 123));
    assert.notDeepEqual(generate("7", 123).segments, generate("8", 123).segments);
  });

  it("frames a pipelined pair and stops at smuggling shapes", () => {
    const limits = { maxHeaders: 100, maxBodySize: 1000, maxHeaderSize: 16 * 1024 };
    const pair =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
    const framed = frame(pair, limits);
    assert.deepEqual(
      framed.requests.map((r) => [r.method, r.target, r.body]),
      [
        ["GET", "/a", ""],
        ["POST", "/b", "hi"],
      ],
    );
    assert.equal(framed.stop, "end");
    const clte =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert.equal(frame(clte, limits).stop, "Content-Length and Transfer-Encoding");
    const bareLf = "GET / HTTP/1.1\nHost: x\r\n\r\n";
    assert.equal(frame(bareLf, limits).stop, "bare LF in head");
  });
});

describe("WSGIServer (found by the network fuzzer)", () => {
  const seen: string[] = [];
  let server: Running;
  // A generator: the length is unknown, so an HTTP/1.0 response cannot be kept alive.
  const app: WSGIApplication = (environ, startResponse) => {
    seen.push(environ.PATH_INFO as string);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return (function* () {
      yield Buffer.from("ok");
    })();
  };
  before(async () => {
    server = await serve(app);
  });
  after(() => server.close());

  it("serves nothing pipelined after an HTTP/1.0 keep-alive response that closes the connection", async () => {
    // Enough header fields that llhttp has parsed the second request by the time
    // the first is answered.
    const fields = Array.from({ length: 60 }, (_, i) => `X-H${i}: v\r\n`).join("");
    seen.length = 0;
    const received = await exchange(
      server.port,
      `GET /first HTTP/1.0\r\nConnection: keep-alive\r\n${fields}\r\n` +
        "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    const responses = parseResponses(received);
    assert.equal(responses.length, 1);
    assert.equal(responses[0]?.status, 200);
    assert.deepEqual(seen, ["/first"]);
  });

  it("answers 417 to an unknown expectation, closes, and never serves the request after it", async () => {
    seen.length = 0;
    const received = await exchange(
      server.port,
      "GET / HTTP/1.1\r\nHost: localhost\r\nExpect: teapot\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    const responses = parseResponses(received);
    assert.deepEqual(
      responses.map((r) => r.status),
      [417],
    );
    assert.deepEqual(seen, []);
  });
  it("serves a request whose body is complete before bytes it cannot parse", async () => {
    // llhttp reads the body and the bad line after it in one go; the parse error
    // used to fail the body being received, so the POST was answered 501 (the
    // status of the line after it) and never reached the application.
    seen.length = 0;
    const received = await exchange(
      server.port,
      "POST /posted HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nxNOT-A-REQUEST\r\n\r\n",
    );
    const responses = parseResponses(received);
    assert.equal(responses[0]?.status, 200);
    assert.deepEqual(seen, ["/posted"]);
  });

  it("answers a 400 to a body cut by a bad chunk, and serves nothing after it", async () => {
    seen.length = 0;
    const received = await exchange(
      server.port,
      "POST /cut HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n" +
        "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert.deepEqual(
      parseResponses(received).map((r) => r.status),
      [400],
    );
    assert.deepEqual(seen, []);
  });

  it("serves a request whose Expect field is an empty list", async () => {
    // RFC 9110 §10.1.1: 417 is for an expectation other than 100-continue; an
    // empty list has none. It used to be answered 417.
    seen.length = 0;
    const received = await exchange(
      server.port,
      "GET /expect-nothing HTTP/1.1\r\nHost: localhost\r\nExpect: \r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(
      parseResponses(received).map((r) => r.status),
      [200],
    );
    assert.deepEqual(seen, ["/expect-nothing"]);
  });
});
