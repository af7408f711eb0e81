/**
 * simple-server over HTTPS and HTTP/2 (ServerOptions.tls, ServerOptions.http2),
 * with real clients: curl (--http2 over TLS, --http2-prior-knowledge in clear
 * text), Python's ssl + http.client, h2load (many streams on one connection)
 * and node:http2's client for what the others cannot do on purpose (reset a
 * stream, never open a window, flood resets, send too many or too large
 * headers).
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { type ClientHttp2Session, connect, constants } from "node:http2";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { staticApp } from "../../src/cli/static-app.js";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { FileWrapper, openFile } from "../../src/util.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { H2Client, h2Header } from "../helpers/h2-client.js";
import { needs } from "../helpers/peers.js";
import { expectResponse, infoHeader, pythonRequest } from "../helpers/python-client.js";
import { type Running, serve } from "../helpers/server-client.js";

const run = promisify(execFile);

/** The environ keys a test looks at, as JSON. */
const KEYS = [
  "SERVER_PROTOCOL",
  "HTTP_HOST",
  "HTTPS",
  "wsgi.url_scheme",
  "REQUEST_METHOD",
  "PATH_INFO",
  "QUERY_STRING",
  "CONTENT_LENGTH",
  "HTTP_COOKIE",
];

describe("WSGIServer with tls and http2", { skip: needs("openssl", "curl", "python3") }, () => {
  let cert: Certificate;
  let tls: Running;
  let clear: Running;
  let closes = 0;
  let filePath: string;
  /** 300,000 bytes, byte i being i % 251: an offset shows in the bytes. */
  let patternPath: string;
  const pattern = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
  const resetSeen: Array<() => void> = [];

  const app: WSGIApplication = (environ: WSGIEnvironment, startResponse) => {
    const path = environ.PATH_INFO;
    if (path === "/environ") {
      const body = (environ["wsgi.input"] as { read(): Uint8Array }).read();
      const seen: Record<string, unknown> = { body: Buffer.from(body).toString() };
      for (const key of KEYS) seen[key] = environ[key];
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [Buffer.from(JSON.stringify(seen))];
    }
    if (path === "/fail") {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return (async function* () {
        yield Buffer.from("partial");
        throw new Error("the application fails mid-body");
      })();
    }
    if (path === "/file") {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return new FileWrapper(openFile(filePath));
    }
    if (path === "/file-seeked") {
      // A file read 1000 bytes into: its body is the rest, from the position.
      const file = openFile(patternPath);
      file.read(1000);
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return new FileWrapper(file);
    }
    if (path === "/fifo") {
      // A pipe (not a regular file), fed by a child process the test started.
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return new FileWrapper(openFile(join(patternPath, "..", "fifo")));
    }
    if (path === "/endless") {
      // A body that goes on until the client resets the stream; close() counts.
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      let n = 0;
      const block = Buffer.alloc(16 * 1024, 0x61);
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          n += 1;
          if (n === 2) for (const notify of resetSeen.splice(0)) notify();
          await new Promise((resolve) => setImmediate(resolve));
          return { done: false, value: block };
        },
        close() {
          closes += 1;
        },
      } as unknown as Iterable<Uint8Array>;
    }
    if (path === "/sized") {
      // Its one chunk completes the Content-Length: it goes out with the end.
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["Content-Length", "6"],
      ]);
      return [Buffer.from("sized\n")];
    }
    if (path === "/write-then-file") {
      // The write() callable first, then a file: the file follows what was written.
      const write = startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      write(Buffer.from("head:"));
      return new FileWrapper(openFile(filePath));
    }
    if (path === "/big") {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return [Buffer.alloc(4 * 1024 * 1024, 0x62)];
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from("hello\n")];
  };

  before(async () => {
    cert = await makeCertificate();
    filePath = join(cert.certFile, "..", "file.bin");
    await writeFile(filePath, Buffer.alloc(300_000, 0x7a));
    patternPath = join(cert.certFile, "..", "pattern.bin");
    await writeFile(patternPath, pattern);
    const options = { maxBodySize: 1000, maxHeaders: 20, sendTimeout: 500 };
    tls = await serve(app, { ...options, tls: { cert: cert.cert, key: cert.key }, http2: true });
    clear = await serve(app, { ...options, http2: true });
  });
  after(async () => {
    await tls.close();
    await clear.close();
    await cert.remove();
  });

  const curlJson = async (args: string[]): Promise<Record<string, unknown>> => {
    const { stdout } = await run("curl", ["--silent", "--show-error", "--insecure", ...args], {
      timeout: 20_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it("serves curl --http2 over TLS as HTTP/2, HTTPS on", async () => {
    const seen = await curlJson([
      "--http2",
      "-H",
      "Cookie: a=1",
      "-H",
      "Cookie: b=2",
      "--data-binary",
      "payload",
      `https://localhost:${tls.port}/environ?q=1`,
    ]);
    assert.deepEqual(seen, {
      body: "payload",
      SERVER_PROTOCOL: "HTTP/2",
      HTTP_HOST: `localhost:${tls.port}`,
      HTTPS: "on",
      "wsgi.url_scheme": "https",
      REQUEST_METHOD: "POST",
      PATH_INFO: "/environ",
      QUERY_STRING: "q=1",
      CONTENT_LENGTH: "7",
      // RFC 9113 §8.2.3: cookie fields are joined with "; ".
      HTTP_COOKIE: "a=1; b=2",
    });
  });

  it("serves curl --http1.1 over TLS on the same port as HTTPS/1.1", async () => {
    const seen = await curlJson(["--http1.1", `https://127.0.0.1:${tls.port}/environ`]);
    assert.equal(seen.SERVER_PROTOCOL, "HTTP/1.1");
    assert.equal(seen["wsgi.url_scheme"], "https");
    assert.equal(seen.HTTPS, "on");
  });

  it("serves curl --http2-prior-knowledge in clear text as h2c, and HTTP/1.1 beside it", async () => {
    const h2c = await curlJson([
      "--http2-prior-knowledge",
      `http://127.0.0.1:${clear.port}/environ`,
    ]);
    assert.equal(h2c.SERVER_PROTOCOL, "HTTP/2");
    assert.equal(h2c["wsgi.url_scheme"], "http");
    assert.equal(h2c.HTTPS, undefined);
    const h1 = await curlJson(["--http1.1", `http://127.0.0.1:${clear.port}/environ`]);
    assert.equal(h1.SERVER_PROTOCOL, "HTTP/1.1");
  });

  it("serves Python's ssl + http.client over HTTPS", async () => {
    const resp = expectResponse(
      await pythonRequest(tls.port, "/environ", { method: "POST", body: "from python", tls: true }),
    );
    assert.equal(resp.status, 200);
    assert.match(resp.tls ?? "", /^TLSv1\.[23]$/);
    const seen = JSON.parse(resp.body.toString()) as Record<string, unknown>;
    assert.equal(seen.body, "from python");
    assert.equal(seen["wsgi.url_scheme"], "https");
    assert.ok(infoHeader(resp, "Server")?.startsWith("WSGIServer/"));
  });

  it("serves h2load's 200 requests, 10 streams at a time, on one connection", {
    skip: needs("h2load"),
  }, async () => {
    const { stdout } = await run(
      "h2load",
      ["-n", "200", "-c", "1", "-m", "10", `https://127.0.0.1:${tls.port}/`],
      { timeout: 30_000 },
    );
    assert.match(stdout, /Application protocol: h2/);
    assert.match(stdout, /requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed/);
    assert.match(stdout, /status codes: 200 2xx/);
  });

  it("sends a FileWrapper body whole (respondWithFD)", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const resp = await client.request("/file");
      assert.equal(resp.status, 200);
      assert.equal(resp.body.length, 300_000);
      assert.ok(resp.body.every((b) => b === 0x7a));
    } finally {
      await client.close();
    }
  });

  it("sends a body that completes its Content-Length with the end of the stream", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const resp = await client.request("/sized");
      assert.equal(resp.status, 200);
      assert.equal(resp.rstCode, 0);
      assert.deepEqual(
        resp.headers.find(([name]) => name === "content-length"),
        ["content-length", "6"],
      );
      assert.equal(resp.body.toString(), "sized\n");
    } finally {
      await client.close();
    }
  });

  it("sends a FileWrapper after what the write() callable wrote", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const resp = await client.request("/write-then-file");
      assert.equal(resp.status, 200);
      assert.equal(resp.rstCode, 0);
      assert.equal(resp.body.length, 5 + 300_000);
      assert.equal(resp.body.subarray(0, 5).toString(), "head:");
      assert.ok(resp.body.subarray(5).every((b) => b === 0x7a));
    } finally {
      await client.close();
    }
  });

  it("sends a FileWrapper body from the file's position, not its start", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const resp = await client.request("/file-seeked");
      assert.equal(resp.status, 200);
      assert.equal(resp.body.length, pattern.length - 1000);
      assert.ok(resp.body.equals(pattern.subarray(1000)));
    } finally {
      await client.close();
    }
  });

  it("sends a FileWrapper over a pipe whole, read through JavaScript", async () => {
    const fifo = join(patternPath, "..", "fifo");
    await run("mkfifo", [fifo]);
    // The writer opens the pipe while the application's open waits for it.
    const writer = run("sh", ["-c", 'cat "$0" > "$1"', patternPath, fifo], { timeout: 20_000 });
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const resp = await client.request("/fifo");
      assert.equal(resp.status, 200);
      assert.ok(resp.body.equals(pattern));
    } finally {
      await writer;
      await client.close();
    }
  });

  it("answers wsgiref static's Range requests with the range's bytes (206)", async () => {
    const files = await serve(staticApp(join(cert.certFile, "..")), { http2: true });
    const client = new H2Client(`http://127.0.0.1:${files.port}`);
    try {
      const resp = await client.request("/pattern.bin", { range: "bytes=1000-200999" });
      assert.equal(resp.status, 206);
      assert.equal(h2Header(resp, "content-range"), `bytes 1000-200999/${pattern.length}`);
      assert.ok(resp.body.equals(pattern.subarray(1000, 201_000)));
      const tail = await client.request("/pattern.bin", { range: "bytes=-500" });
      assert.equal(tail.status, 206);
      assert.ok(tail.body.equals(pattern.subarray(pattern.length - 500)));
    } finally {
      await client.close();
      await files.close();
    }
  });

  it("resets a stream whose application fails mid-body (INTERNAL_ERROR); the others carry on", async () => {
    const client = new H2Client(`https://127.0.0.1:${tls.port}`);
    try {
      const [failed, fine] = await Promise.all([client.request("/fail"), client.request("/")]);
      assert.equal(failed.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
      assert.equal(fine.status, 200);
      assert.equal(fine.body.toString(), "hello\n");
      assert.equal((await client.request("/")).status, 200);
    } finally {
      await client.close();
    }
  });

  it("calls close() exactly once when the client resets the stream", async () => {
    const before = closes;
    const session = connect(`http://127.0.0.1:${clear.port}`);
    session.on("error", () => undefined);
    try {
      const started = new Promise<void>((resolve) => resetSeen.push(resolve));
      const stream = session.request({ ":path": "/endless" });
      stream.on("error", () => undefined);
      stream.resume();
      await started;
      stream.close(constants.NGHTTP2_CANCEL);
      // The server sees the reset at its next write; wait for the session to
      // carry a request after it, then for close() to have run.
      const probe = new H2Client(`http://127.0.0.1:${clear.port}`);
      assert.equal((await probe.request("/")).status, 200);
      await probe.close();
      for (let i = 0; i < 200 && closes === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(closes - before, 1);
    } finally {
      session.destroy();
    }
  });

  it("refuses a body past maxBodySize (413) and too many header fields (431)", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const big = await client.request(
        "/environ",
        { ":method": "POST", "content-length": "5000" },
        Buffer.alloc(5000),
      );
      assert.equal(big.status, 413);
      const unsized = await client.request("/environ", { ":method": "POST" }, Buffer.alloc(5000));
      assert.equal(unsized.status, 413);
      const headers: Record<string, string> = {};
      for (let i = 0; i < 30; i++) headers[`x-h${i}`] = "v";
      assert.equal((await client.request("/", headers)).status, 431);
      assert.equal((await client.request("/")).status, 200);
    } finally {
      await client.close();
    }
  });

  it("refuses a header list larger than maxHeaderSize, and keeps serving", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const huge = await client.request("/", { "x-huge": "a".repeat(100 * 1024) });
      assert.notEqual(huge.status, 200);
      const after = new H2Client(`http://127.0.0.1:${clear.port}`);
      assert.equal((await after.request("/")).status, 200);
      await after.close();
    } finally {
      client.session.destroy();
    }
  });

  it("advertises maxConcurrentStreams (100), which nghttp2 holds clients to", async () => {
    const session = connect(`http://127.0.0.1:${clear.port}`);
    session.on("error", () => undefined);
    try {
      await once(session, "remoteSettings");
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100);
    } finally {
      session.destroy();
    }
  });

  it("survives a rapid-reset flood (CVE-2023-44487) and serves the next client", async () => {
    const session = connect(`http://127.0.0.1:${clear.port}`);
    session.on("error", () => undefined);
    await once(session, "connect");
    for (let i = 0; i < 2000 && !session.destroyed; i++) {
      const stream = session.request({ ":path": "/" });
      stream.on("error", () => undefined);
      stream.close(constants.NGHTTP2_CANCEL);
    }
    const closed = session.destroyed ? Promise.resolve() : once(session, "close");
    // The server either serves the resets cheaply or ends the session
    // (nghttp2's and Node's limits); either way it stays up for others.
    session.close();
    await closed;
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    assert.equal((await client.request("/")).status, 200);
    await client.close();
  });

  for (const [what, path] of [
    ["a small response", "/sized"],
    ["a response", "/big"],
  ]) {
    it(`cancels ${what} the client never opens a window for (sendTimeout)`, async () => {
      const session = connect(`http://127.0.0.1:${clear.port}`, {
        settings: { initialWindowSize: 0 },
      });
      session.on("error", () => undefined);
      try {
        const stream = session.request({ ":path": path });
        stream.on("error", () => undefined);
        const started = Date.now();
        await new Promise<void>((resolve) => stream.once("close", () => resolve()));
        assert.equal(stream.rstCode, constants.NGHTTP2_CANCEL);
        assert.ok(Date.now() - started < 10_000);
      } finally {
        session.destroy();
      }
    });
  }
});

describe("WSGIServer with http2: idle sessions (keepAliveTimeout)", () => {
  let clear: Running;
  const app: WSGIApplication = (environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (environ.PATH_INFO === "/slow") {
      // Nothing is sent for 600 ms, past keepAliveTimeout: the stream is being served all along.
      return (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 600));
        yield Buffer.from("slow\n");
      })();
    }
    return [Buffer.from("hello\n")];
  };

  before(async () => {
    clear = await serve(app, { http2: true, keepAliveTimeout: 200 });
  });
  after(async () => {
    await clear.close();
  });

  /** A session to the server, and when its GOAWAY came (0: not yet). */
  function watchedSession(): { session: ClientHttp2Session; goawayAt: () => number } {
    const session = connect(`http://127.0.0.1:${clear.port}`);
    session.on("error", () => undefined);
    let at = 0;
    session.once("goaway", () => {
      at = Date.now();
    });
    return { session, goawayAt: () => at };
  }

  it("closes a session with no stream being served for keepAliveTimeout (GOAWAY)", async () => {
    const session = connect(`http://127.0.0.1:${clear.port}`);
    session.on("error", () => undefined);
    try {
      const stream = session.request({ ":path": "/" });
      stream.resume();
      await once(stream, "end");
      const answered = Date.now();
      await once(session, "goaway");
      const idle = Date.now() - answered;
      assert.ok(idle >= 150 && idle < 5_000, `GOAWAY came ${idle} ms after the response`);
    } finally {
      session.destroy();
    }
  });

  it("counts keepAliveTimeout from the last stream's end: a session asked again sooner stays open", async () => {
    const { session, goawayAt } = watchedSession();
    try {
      const opened = Date.now();
      let answered = opened;
      // Five requests 60 ms apart: 300 ms in all, past keepAliveTimeout (200
      // ms), never quiet for that long.
      for (let i = 0; i < 5; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 60));
        const stream = session.request({ ":path": "/" });
        stream.resume();
        await once(stream, "end");
        answered = Date.now();
        assert.equal(
          goawayAt(),
          0,
          `GOAWAY came ${goawayAt() - opened} ms after the session opened`,
        );
      }
      assert.ok(answered - opened >= 240, `the requests took ${answered - opened} ms`);
      if (goawayAt() === 0) await once(session, "goaway");
      const idle = goawayAt() - answered;
      assert.ok(idle >= 150 && idle < 5_000, `GOAWAY came ${idle} ms after the last response`);
    } finally {
      session.destroy();
    }
  });

  it("keeps a session open while a stream is served past keepAliveTimeout", async () => {
    const { session, goawayAt } = watchedSession();
    try {
      const stream = session.request({ ":path": "/slow" });
      let body = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        body += chunk;
      });
      await once(stream, "end");
      const ended = Date.now();
      assert.equal(body, "slow\n");
      assert.equal(goawayAt(), 0, `GOAWAY came ${ended - goawayAt()} ms before the response ended`);
    } finally {
      session.destroy();
    }
  });
});

describe("WSGIServer with http2: a request handler class that throws", () => {
  let clear: Running;
  let closed = false;
  let release: () => void = () => undefined;
  let held: () => void = () => undefined;
  const heldStarted = new Promise<void>((resolve) => {
    held = resolve;
  });
  const app: WSGIApplication = (environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    if (environ.PATH_INFO === "/held") {
      // Answered only when the test says: a stream still served when the server closes.
      return (async function* () {
        await new Promise<void>((resolve) => {
          release = resolve;
          held();
        });
        yield Buffer.from("held\n");
      })();
    }
    return [Buffer.from("hello\n")];
  };
  /** Its constructor throws for `/boom`: the server must reset that stream, not crash. */
  class Throwing extends WSGIRequestHandler {
    constructor(...args: ConstructorParameters<typeof WSGIRequestHandler>) {
      super(...args);
      if (this.path === "/boom") throw new Error("the request handler fails");
    }
  }

  before(async () => {
    clear = await serve(app, { http2: true }, Throwing);
  });
  after(async () => {
    if (!closed) await clear.close();
  });

  it("resets the stream (INTERNAL_ERROR) and serves the session's next one", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    try {
      const boom = await client.request("/boom");
      assert.equal(boom.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
      const next = await client.request("/");
      assert.equal(next.status, 200);
      assert.equal(next.body.toString(), "hello\n");
    } finally {
      await client.close();
    }
  });

  it("closes once the stream it is serving is done", async () => {
    const client = new H2Client(`http://127.0.0.1:${clear.port}`);
    const answer = client.request("/held");
    await heldStarted;
    closed = true;
    const closing = clear.close();
    release();
    const result = await answer;
    await closing;
    assert.equal(result.status, 200);
    assert.equal(result.body.toString(), "held\n");
    await client.close();
  });
});
