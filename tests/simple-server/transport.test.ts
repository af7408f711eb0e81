/**
 * The connection front of HTTPS and HTTP/2 (`transport.ts`): what it reads of a
 * connection before node:http has it, and node:http's own timeouts for the
 * connections it hands over. Real sockets on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { connect as connectTcp, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect as connectTls } from "node:tls";
import type { ServerOptions } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { serve } from "../helpers/server-client.js";

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hello")];
};

/** Everything `socket` receives until it closes, and how long that took (ms). */
function untilClosed(socket: Socket, limitMs: number): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`the connection was still open after ${limitMs} ms: ${JSON.stringify(text)}`),
      );
    }, limitMs);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - started });
    });
  });
}

/** Open a connection to the server, over TLS when `cert` is given. */
function open(port: number, cert: Certificate | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      cert === undefined
        ? connectTcp(port, "127.0.0.1", () => resolve(socket))
        : connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("the HTTPS and HTTP/2 front", () => {
  let cert: Certificate;
  before(async () => {
    cert = await makeCertificate();
  });
  after(async () => {
    await cert.remove();
  });

  const fronts: Array<[string, () => ServerOptions, boolean]> = [
    ["h2c (clear text, http2)", () => ({ http2: true }), false],
    ["HTTPS", () => ({ tls: { cert: cert.cert, key: cert.key } }), true],
    [
      "HTTPS with http2 (ALPN http/1.1)",
      () => ({ http2: true, tls: { cert: cert.cert, key: cert.key } }),
      true,
    ],
  ];

  for (const [name, options, overTls] of fronts) {
    it(`answers a request line with no HTTP version at once (505, as HTTP/0.9) and closes: ${name}`, async () => {
      const server = await serve(hello, { ...options(), headersTimeout: 20_000 });
      try {
        const socket = await open(server.port, overTls ? cert : undefined);
        const closed = untilClosed(socket, 5000);
        socket.write("GET /echo\r\n");
        const { text, ms } = await closed;
        assert.match(text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(ms < 5000, `answered after ${ms} ms`);
        // A well-formed request after it, on a new connection, is served.
        const next = await open(server.port, overTls ? cert : undefined);
        const answer = untilClosed(next, 5000);
        next.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert.match((await answer).text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*hello$/);
      } finally {
        await server.close();
      }
    });

    it(`closes a connection whose header section does not end within headersTimeout: ${name}`, async () => {
      const server = await serve(hello, { ...options(), headersTimeout: 300, requestTimeout: 600 });
      try {
        const socket = await open(server.port, overTls ? cert : undefined);
        const closed = untilClosed(socket, 5000);
        socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
        const { text } = await closed;
        // node:http's own answer to a head that took too long.
        assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      } finally {
        await server.close();
      }
    });
  }

  it("serves a request whose first line comes in pieces, and one after empty lines", async () => {
    const server = await serve(hello, { http2: true });
    try {
      const socket = await open(server.port, undefined);
      const answer = untilClosed(socket, 5000);
      socket.write("\r\nGET / HT");
      await new Promise((resolve) => setImmediate(resolve));
      socket.write("TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match((await answer).text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*hello$/);
    } finally {
      await server.close();
    }
  });
});
