/**
 * hostPeer: the client's address from what each runtime passes a Fetch handler.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostPeer } from "../../src/fetch/host-peer.js";

const request = new Request("http://h/");

describe("hostPeer", () => {
  it("reads @hono/node-server's incoming message (Hono's c.env)", () => {
    const env = { incoming: { socket: { remoteAddress: "::1", remotePort: 5000 } }, outgoing: {} };
    assert.deepEqual(hostPeer(request, env), { remoteAddress: "::1", remotePort: 5000 });
  });

  it("reads Deno's ServeHandlerInfo", () => {
    const info = { remoteAddr: { transport: "tcp", hostname: "10.1.2.3", port: 41000 } };
    assert.deepEqual(hostPeer(request, info), { remoteAddress: "10.1.2.3", remotePort: 41000 });
  });

  it("asks Bun's Server for the request's address", () => {
    const asked: Request[] = [];
    const server = {
      requestIP(this: unknown, of: Request) {
        assert.equal(this, server);
        asked.push(of);
        return { address: "192.0.2.8", family: "IPv4", port: 6000 };
      },
    };
    assert.deepEqual(hostPeer(request, server), { remoteAddress: "192.0.2.8", remotePort: 6000 });
    assert.deepEqual(asked, [request]);
    const unknown = { requestIP: () => null };
    assert.equal(hostPeer(request, unknown), undefined);
  });

  it("says nothing for a context that tells no address, and drops a port that is none", () => {
    for (const context of [undefined, null, 7, "x", {}, { incoming: null }, { remoteAddr: 1 }]) {
      assert.equal(hostPeer(request, context), undefined, String(context));
    }
    const env = { incoming: { socket: { remoteAddress: "127.0.0.1", remotePort: "80" } } };
    assert.deepEqual(hostPeer(request, env), { remoteAddress: "127.0.0.1", remotePort: undefined });
  });
});
