/**
 * The hostile-request corpus (fixtures/hostile/corpus.ts) over TLS: every
 * malformed or smuggling request gets the same status over HTTPS as in clear
 * text, one answer and then the connection closes, and no hidden request ever
 * reaches the application; with http2 on too (ALPN picks http/1.1 here), and
 * h2c's preface sniffing in front of clear text changes nothing either.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect } from "node:tls";
import { HOSTILE } from "../../fixtures/hostile/corpus.js";
import type { ServerOptions } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { needs } from "../helpers/peers.js";
import {
  exchange,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

/** Send `data` in one write over TLS (ALPN http/1.1), half-close, and return all the server sent. */
async function tlsExchange(port: number, data: string): Promise<Buffer> {
  const socket = connect({
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    ALPNProtocols: ["http/1.1"],
  });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => {
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
  socket.once("secureConnect", () => socket.end(Buffer.from(data, "latin1")));
  await closed;
  return Buffer.concat(chunks);
}

function recorder(seen: string[]): WSGIApplication {
  return (environ, startResponse) => {
    seen.push(environ.PATH_INFO as string);
    environ["wsgi.input"]?.read();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from("ok")];
  };
}

describe("WSGIServer and hostile requests over TLS and beside h2c", {
  skip: needs("openssl"),
}, () => {
  let cert: Certificate;
  const servers: Array<{ name: string; running: Running; seen: string[]; tls: boolean }> = [];

  before(async () => {
    cert = await makeCertificate();
    const tls = { cert: cert.cert, key: cert.key };
    const variants: Array<[string, ServerOptions, boolean]> = [
      ["HTTPS", { tls }, true],
      ["HTTPS with http2", { tls, http2: true }, true],
      ["clear text with h2c", { http2: true }, false],
    ];
    for (const [name, options, isTls] of variants) {
      const seen: string[] = [];
      const running = await serve(recorder(seen), { maxBodySize: 1000, ...options });
      servers.push({ name, running, seen, tls: isTls });
    }
  });
  after(async () => {
    for (const { running } of servers) await running.close();
    await cert.remove();
  });

  it("answers every hostile request as in clear text, once, then serves a normal one", async () => {
    for (const { name, running, tls } of servers) {
      const send = (data: string) =>
        tls ? tlsExchange(running.port, data) : exchange(running.port, data);
      for (const hostile of HOSTILE) {
        const received = await send(hostile.request);
        if (!tls && hostile.request.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) {
          // With h2c on, the preface is HTTP/2, as asked: the server's first
          // frame is its SETTINGS (type 4), and what follows the preface, being
          // no HTTP/2 frame, ends the connection; no HTTP/1.1 answer at all.
          assert.equal(received[3], 0x04, `${name}: ${hostile.name}: a SETTINGS frame first`);
          assert.ok(!received.includes("HTTP/1.1"), `${name}: ${hostile.name}`);
          continue;
        }
        const responses = parseResponses(received);
        assert.equal(
          responses[0]?.status,
          hostile.status,
          `${name}: ${hostile.name}: ${hostile.rule}\n${received.toString("latin1")}`,
        );
        assert.equal(responses.length, 1, `${name}: ${hostile.name}: one answer, then close`);
      }
      const [normal] = parseResponses(await send(request("GET", "/normal", ["Connection: close"])));
      assert.equal(normal?.status, 200, name);
    }
  });

  it("never lets a request hidden inside a rejected one reach the application", () => {
    for (const { name, seen } of servers) {
      assert.ok(seen.includes("/normal"), name);
      assert.ok(!seen.includes("/smuggled"), `${name}: ${seen}`);
    }
  });
});
