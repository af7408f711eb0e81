/**
 * simple-server over HTTP/2 (h2c), the checks and bounds RFC 9113 and the
 * server's options put on a request: `Host` against `:authority`, `CONNECT`,
 * hop-by-hop and connection-specific fields both ways, the body and request
 * timeouts, a CONTINUATION flood and streams past `maxConcurrentStreams`.
 * node:http2's client where it will send the request; raw frames
 * (`tests/helpers/h2-frames.ts`) where it refuses to.
 */

import assert from "node:assert/strict";
import { connect, constants } from "node:http2";
import { after, before, describe, it } from "node:test";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { H2Client, h2Header, readStream } from "../helpers/h2-client.js";
import {
  errorCode,
  FrameType,
  frame,
  getFields,
  headerBlock,
  RawH2,
} from "../helpers/h2-frames.js";
import { type Running, serve } from "../helpers/server-client.js";

/** The most streams the server lets one session have open. */
const STREAMS = 5;

describe("WSGIServer with http2: request checks and bounds", () => {
  let server: Running;
  let calls = 0;
  let active = 0;
  let peak = 0;
  const held: Array<() => void> = [];
  /** Called each time a held application starts. */
  let onHold: () => void = () => undefined;

  const app: WSGIApplication = (environ: WSGIEnvironment, startResponse) => {
    calls += 1;
    const path = environ.PATH_INFO;
    if (path === "/hold") {
      // Held until the test lets it go: counts how many run at once.
      active += 1;
      peak = Math.max(peak, active);
      onHold();
      return (async function* () {
        await new Promise<void>((resolve) => held.push(resolve));
        active -= 1;
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        yield Buffer.from("held\n");
      })();
    }
    if (path === "/connection") {
      startResponse("200 OK", [["Connection", "close"]]);
      return [Buffer.from("never sent\n")];
    }
    if (path === "/transfer-encoding-late") {
      const headers: Array<[string, string]> = [["Content-Type", "text/plain"]];
      startResponse("200 OK", headers);
      // Added after startResponse's check: the output stage still refuses it.
      headers.push(["Transfer-Encoding", "chunked"]);
      return [Buffer.from("never sent\n")];
    }
    if (path === "/names") {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["Set-Cookie", "a=1"],
        ["set-cookie", "b=2"],
        ["Set-Cookie", "c=3"],
        ["__proto__", "p"],
        ["X-Twice", "1"],
        ["X-Twice", "2"],
      ]);
      return [Buffer.from("names\n")];
    }
    if (path === "/content-type-twice") {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["content-type", "text/html"],
      ]);
      return [Buffer.from("never sent\n")];
    }
    if (path === "/http2-settings") {
      startResponse("200 OK", [["HTTP2-Settings", "AAMAAABkAAQAoAAAAAIAAAAA"]]);
      return [Buffer.from("never sent\n")];
    }
    if (path === "/cookies") {
      startResponse("200 OK", [
        ["Set-Cookie", "a=1"],
        ["set-cookie", "b=2"],
      ]);
      return [Buffer.from("cookies\n")];
    }
    if (path === "/proxy-connection") {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["Proxy-Connection", "keep-alive"],
      ]);
      return [Buffer.from("sent\n")];
    }
    const body = Buffer.from((environ["wsgi.input"] as { read(): Uint8Array }).read());
    const seen = { HTTP_HOST: environ.HTTP_HOST, HTTP_TE: environ.HTTP_TE, body: body.length };
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [Buffer.from(JSON.stringify(seen))];
  };

  before(async () => {
    server = await serve(app, {
      http2: true,
      maxConcurrentStreams: STREAMS,
      bodyTimeout: 300,
      requestTimeout: 1500,
      headersTimeout: 1000,
    });
  });
  after(async () => {
    for (const release of held.splice(0)) release();
    await server.close();
  });

  const url = (): string => `http://127.0.0.1:${server.port}`;

  it("refuses a Host that names another authority than :authority (400)", async () => {
    const client = new H2Client(url());
    try {
      const before = calls;
      const other = await client.request("/", { ":authority": "a.example", host: "b.example" });
      assert.equal(other.status, 400);
      assert.equal(calls, before);
      const same = await client.request("/", { ":authority": "a.example", host: "a.example" });
      assert.equal(same.status, 200);
      assert.equal(JSON.parse(same.body.toString()).HTTP_HOST, "a.example");
    } finally {
      await client.close();
    }
  });

  it("answers CONNECT with 405, without running the application", async () => {
    const client = new H2Client(url());
    try {
      const before = calls;
      const stream = client.session.request({
        ":method": "CONNECT",
        ":authority": "a.example:443",
      });
      const resp = await readStream(stream);
      assert.equal(resp.status, 405);
      assert.equal(calls, before);
    } finally {
      client.session.destroy();
    }
  });

  it("never sends a hop-by-hop field from the application: 500 before the head", async () => {
    const client = new H2Client(url());
    try {
      for (const path of ["/connection", "/transfer-encoding-late"]) {
        const resp = await client.request(path);
        assert.equal(resp.status, 500, path);
        assert.equal(h2Header(resp, "connection"), undefined);
        assert.equal(h2Header(resp, "transfer-encoding"), undefined);
        assert.doesNotMatch(resp.body.toString(), /never sent/);
      }
      // Connection-specific in HTTP/2 though not hop-by-hop for PEP 3333: dropped.
      const proxy = await client.request("/proxy-connection");
      assert.equal(proxy.status, 200);
      assert.equal(h2Header(proxy, "proxy-connection"), undefined);
      assert.equal(proxy.body.toString(), "sent\n");
      // Names in any case, repeated, or one an object would take for its prototype: all sent.
      const names = await client.request("/names");
      assert.equal(names.status, 200);
      const values = (name: string): string[] =>
        names.headers.filter(([key]) => key === name).map(([, value]) => value);
      assert.deepEqual(values("set-cookie").sort(), ["a=1", "b=2", "c=3"]);
      assert.deepEqual(values("__proto__"), ["p"]);
      assert.deepEqual(values("x-twice").join(",").split(/, */).sort(), ["1", "2"]);
    } finally {
      await client.close();
    }
  });

  it("answers 500 to a response node:http2 refuses to send (a single-valued field twice, HTTP2-Settings) and serves on", async () => {
    const client = new H2Client(url());
    try {
      for (const path of ["/content-type-twice", "/http2-settings"]) {
        const resp = await client.request(path);
        assert.equal(resp.status, 500, path);
        assert.doesNotMatch(resp.body.toString(), /never sent/);
      }
      // A field that may repeat still does, in any case.
      const cookies = await client.request("/cookies");
      assert.equal(cookies.status, 200);
      const values = cookies.headers.filter(([key]) => key === "set-cookie").map(([, v]) => v);
      assert.deepEqual(values, ["a=1", "b=2"]);
    } finally {
      await client.close();
    }
  });

  it("resets a request with a connection-specific field (PROTOCOL_ERROR), the application never run; TE: trailers passes", async () => {
    const raw = await RawH2.open(server.port);
    try {
      const before = calls;
      const fields: Array<[string, string]> = [
        ["connection", "keep-alive"],
        ["keep-alive", "timeout=5"],
        ["proxy-connection", "keep-alive"],
        ["transfer-encoding", "chunked"],
        ["upgrade", "websocket"],
        ["te", "gzip"],
      ];
      let id = 1;
      for (const field of fields) {
        const stream = id;
        id += 2;
        await raw.write(raw.headers(stream, [...getFields("/"), field]));
        const answer = await raw.waitFor(
          (got) => got.stream === stream && got.type !== FrameType.WINDOW_UPDATE,
        );
        assert.equal(answer?.type, FrameType.RST_STREAM, field[0]);
        assert.equal(errorCode(answer), constants.NGHTTP2_PROTOCOL_ERROR, field[0]);
      }
      assert.equal(calls, before);
    } finally {
      raw.destroy();
    }
    const client = new H2Client(url());
    try {
      const resp = await client.request("/", { te: "trailers" });
      assert.equal(resp.status, 200);
      assert.equal(JSON.parse(resp.body.toString()).HTTP_TE, "trailers");
    } finally {
      await client.close();
    }
  });

  it("answers 408 when the body stops for bodyTimeout", async () => {
    const client = new H2Client(url());
    try {
      const started = Date.now();
      const stream = client.session.request(
        { ":path": "/", ":method": "POST" },
        { endStream: false },
      );
      const result = readStream(stream);
      stream.write(Buffer.alloc(10));
      const resp = await result;
      const took = Date.now() - started;
      assert.equal(resp.status, 408);
      // bodyTimeout (300 ms), well before requestTimeout (1500 ms).
      assert.ok(took >= 250 && took < 1400, `408 after ${took} ms`);
    } finally {
      client.session.destroy();
    }
  });

  it("answers 408 when a trickled body goes past requestTimeout", async () => {
    const client = new H2Client(url());
    const started = Date.now();
    const stream = client.session.request(
      { ":path": "/", ":method": "POST" },
      { endStream: false },
    );
    const trickle = setInterval(() => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(Buffer.alloc(1));
    }, 100);
    try {
      const resp = await readStream(stream);
      const took = Date.now() - started;
      assert.equal(resp.status, 408);
      // A byte every 100 ms keeps bodyTimeout (300 ms) from firing: requestTimeout does.
      assert.ok(took >= 1400 && took < 5000, `408 after ${took} ms`);
    } finally {
      clearInterval(trickle);
      client.session.destroy();
    }
  });

  it("takes a header block in 9 frames, and ends the session at a 10th (nghttp2's 8 CONTINUATIONs)", async () => {
    const block = headerBlock([["x-a", "b"]]);
    const fine = await RawH2.open(server.port);
    try {
      await fine.write(frame(FrameType.HEADERS, 0, 1, headerBlock(getFields("/"))));
      for (let i = 0; i < 7; i++) await fine.write(frame(FrameType.CONTINUATION, 0, 1, block));
      // END_STREAM was on no frame: a CONTINUATION cannot carry it, so the body is empty DATA.
      await fine.write(frame(FrameType.CONTINUATION, 0x4, 1, block));
      await fine.write(frame(FrameType.DATA, 0x1, 1, Buffer.alloc(0)));
      const answer = await fine.waitFor(
        (got) => got.stream === 1 && got.type === FrameType.HEADERS,
      );
      assert.ok(answer !== undefined, "the request in 9 frames is answered");
    } finally {
      fine.destroy();
    }
    const flood = await RawH2.open(server.port);
    try {
      await flood.write(frame(FrameType.HEADERS, 0, 1, headerBlock(getFields("/"))));
      for (let i = 0; i < 9; i++) await flood.write(frame(FrameType.CONTINUATION, 0, 1, block));
      const goaway = await flood.waitFor((got) => got.type === FrameType.GOAWAY);
      assert.ok(goaway !== undefined, "a GOAWAY ends the session");
      await flood.closed;
    } finally {
      flood.destroy();
    }
  });

  it("ends a CONTINUATION flood within bounded time and bytes, and serves the next client", async () => {
    const raw = await RawH2.open(server.port);
    // 100,000 frames of 1 KiB offered (about 100 MiB), with backpressure.
    const block = headerBlock([["x-a", "b".repeat(1000)]]);
    const continuation = frame(FrameType.CONTINUATION, 0, 1, block);
    const started = Date.now();
    let written = 0;
    try {
      await raw.write(frame(FrameType.HEADERS, 0, 1, headerBlock(getFields("/"))));
      for (let i = 0; i < 100_000 && raw.socket.writable; i++) {
        await raw.write(continuation);
        written += continuation.length;
      }
      await raw.closed;
      const took = Date.now() - started;
      assert.ok(raw.frames.some((got) => got.type === FrameType.GOAWAY));
      assert.ok(took < 5000, `closed after ${took} ms`);
      // What got written before the close sat in socket buffers, not in the server.
      assert.ok(written < 32 * 1024 * 1024, `${written} bytes written before the close`);
    } finally {
      raw.destroy();
    }
    const client = new H2Client(url());
    try {
      assert.equal((await client.request("/")).status, 200);
    } finally {
      await client.close();
    }
  });

  it("refuses streams past maxConcurrentStreams before its SETTINGS are acknowledged (REFUSED_STREAM), serving the rest", async () => {
    peak = 0;
    const raw = await RawH2.open(server.port);
    try {
      // Sent with the preface, before the server's SETTINGS can be acknowledged.
      const streams = Array.from({ length: STREAMS + 3 }, (_, i) => 1 + 2 * i);
      await raw.write(Buffer.concat(streams.map((id) => raw.headers(id, getFields("/hold")))));
      const refused = streams.slice(STREAMS);
      for (const id of refused) {
        const reset = await raw.waitFor(
          (got) => got.stream === id && got.type === FrameType.RST_STREAM,
        );
        assert.equal(
          reset === undefined ? undefined : errorCode(reset),
          constants.NGHTTP2_REFUSED_STREAM,
        );
      }
      if (active < STREAMS) {
        await new Promise<void>((resolve) => {
          onHold = () => {
            if (active === STREAMS) resolve();
          };
        });
      }
      assert.equal(active, STREAMS);
      for (const release of held.splice(0)) release();
      for (const id of streams.slice(0, STREAMS)) {
        const answer = await raw.waitFor(
          (got) => got.stream === id && got.type === FrameType.HEADERS,
        );
        assert.ok(answer !== undefined, `stream ${id} is answered`);
      }
      assert.equal(peak, STREAMS);
    } finally {
      raw.destroy();
    }
  });

  it("ends the session of a client that opens more than maxConcurrentStreams after acknowledging it (GOAWAY)", async () => {
    peak = 0;
    const raw = await RawH2.open(server.port);
    try {
      await raw.waitFor((got) => got.type === FrameType.SETTINGS && got.flags === 0);
      // The server's ACK of our SETTINGS comes after our ACK of its own was sent.
      await raw.waitFor((got) => got.type === FrameType.SETTINGS && got.flags === 1);
      const streams = Array.from({ length: STREAMS + 1 }, (_, i) => 1 + 2 * i);
      await raw.write(Buffer.concat(streams.map((id) => raw.headers(id, getFields("/hold")))));
      const goaway = await raw.waitFor((got) => got.type === FrameType.GOAWAY);
      assert.ok(goaway !== undefined, "a GOAWAY ends the session");
      await raw.closed;
      assert.ok(peak <= STREAMS, `${peak} applications at once`);
    } finally {
      for (const release of held.splice(0)) release();
      raw.destroy();
    }
    // A well-behaved client on another session is served as before.
    const session = connect(url());
    session.on("error", () => undefined);
    try {
      const resp = await readStream(session.request({ ":path": "/" }));
      assert.equal(resp.status, 200);
    } finally {
      session.destroy();
    }
  });
});
