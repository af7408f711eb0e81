/**
 * `Drain`, through `wsgiref serve` stopped by SIGTERM: a client that connected
 * before the signal and sends its request only after it still gets its answer
 * over HTTPS (its TLS handshake done or nearly so when the drain starts), over
 * HTTP/2 on TLS and over h2c (a session open, no stream yet); and a client that
 * connects and says nothing holds the drain up for a moment only.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as connectHttp2 } from "node:http2";
import { after, before, describe, it } from "node:test";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { Drain } from "../../src/cli/drain.js";
import { makeServer } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { needs } from "../helpers/peers.js";
import { collect, open, parseResponses, request } from "../helpers/server-client.js";
import { Child, CLI, stopAll } from "./cli-process.js";

const SERVING = /^Serving HTTPS? on \S+ port (\d+) /;
const STOPPING = /^Shutting down on SIGTERM/;

/** `wsgiref serve` (the demo app) with `args`, and its port once it serves. */
async function serve(args: string[]): Promise<{ child: Child; port: number }> {
  const child = new Child([CLI, "serve", "--port", "0", "--quiet", ...args]);
  const match = await child.waitFor(SERVING);
  return { child, port: Number(match[1]) };
}

/** SIGTERM `child` and wait until it says it drains. */
async function terminate(child: Child): Promise<void> {
  child.process.kill("SIGTERM");
  await child.waitFor(STOPPING);
}

/** Everything `socket` receives until the server closes it. */
async function readAll(socket: TLSSocket): Promise<string> {
  let text = "";
  socket.setEncoding("latin1");
  socket.on("data", (s: string) => {
    text += s;
  });
  await once(socket, "end");
  return text;
}

/** One HTTP/2 request for / on a session opened before the drain: its status and body. */
async function http2After(
  child: Child,
  authority: string,
): Promise<{ status: unknown; body: string }> {
  const session = connectHttp2(authority, { rejectUnauthorized: false });
  try {
    await once(session, "connect");
    await terminate(child);
    const stream = session.request({ ":path": "/" });
    stream.setEncoding("utf8");
    let body = "";
    stream.on("data", (s: string) => {
      body += s;
    });
    const [headers] = (await once(stream, "response")) as [Record<string, unknown>];
    await once(stream, "end");
    return { status: headers[":status"], body };
  } finally {
    session.destroy();
  }
}

describe("Drain", { skip: needs("openssl") }, () => {
  let cert: Certificate;
  let tlsFlags: string[];
  before(async () => {
    cert = await makeCertificate();
    tlsFlags = ["--certfile", cert.certFile, "--keyfile", cert.keyFile];
  });
  after(async () => {
    await stopAll();
    await cert.remove();
  });

  it("answers an HTTPS request sent after the drain began on a connection made before it", async () => {
    const { child, port } = await serve(tlsFlags);
    const socket = connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false });
    socket.on("error", () => undefined);
    // Under TLS 1.3 the client is done before the server has read its Finished:
    // the server may still be in the handshake when the signal comes.
    await once(socket, "secureConnect");
    await terminate(child);
    socket.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    const response = await readAll(socket);
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.match(response, /HTTPS = 'on'/);
    assert.equal((await child.outcome).code, 0);
  });

  it("answers an HTTP/2 stream opened after the drain began, on a TLS session made before it", async () => {
    const { child, port } = await serve([...tlsFlags, "--http2"]);
    const { status, body } = await http2After(child, `https://127.0.0.1:${port}`);
    assert.equal(status, 200);
    assert.match(body, /SERVER_PROTOCOL = 'HTTP\/2'/);
    assert.equal((await child.outcome).code, 0);
  });

  it("answers an HTTP/2 stream opened after the drain began, on an h2c session made before it", async () => {
    const { child, port } = await serve(["--http2"]);
    const { status, body } = await http2After(child, `http://127.0.0.1:${port}`);
    assert.equal(status, 200);
    assert.match(body, /wsgi\.url_scheme = 'http'/);
    assert.equal((await child.outcome).code, 0);
  });

  it("waits a moment only for a TLS connection that sends nothing", async () => {
    const { child, port } = await serve(tlsFlags);
    const socket = connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false });
    socket.on("error", () => undefined);
    await once(socket, "secureConnect");
    const started = Date.now();
    await terminate(child);
    assert.equal((await child.outcome).code, 0);
    // The quiet period is a second; a drain that waited for this client would
    // take until its header timeout.
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
    socket.destroy();
  });
});

describe("Drain over plain HTTP/1.1", () => {
  const hello: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from("hello")];
  };

  it("answers a connection accepted before it began, whose request comes after", async () => {
    const httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, { quiet: true });
    const served = httpd.serveForever();
    const drain = new Drain(httpd);
    try {
      const accepted = once(httpd.listener, "connection");
      const socket = await open(httpd.serverAddress[1]);
      await accepted;
      const received = collect(socket);
      // It stops accepting at once, then waits for the silent connection.
      const closing = drain.close();
      assert.equal(httpd.listener.listening, false);
      socket.write(request("GET", "/late"));
      const [response] = parseResponses(await received);
      assert.equal(response?.status, 200);
      assert.equal(response?.body.toString(), "hello");
      await closing;
      await served;
    } finally {
      await httpd.serverClose();
    }
  });
});
