/**
 * Responses ended with their turn of the event loop (src/simple-server/end-batch.ts):
 * the queue itself on a plain node:http server, ServerHandler's `deferEnd`, and
 * when WSGIServer uses it (serveForever) and when it does not (handleRequest, a
 * response after which the connection closes), with every queued response out
 * before the server closes its connections.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { endAfterTurn, endQueued, queuedEnds } from "../src/simple-server/end-batch.js";
import { makeServer, ServerHandler, WSGIRequestHandler } from "../src/simple-server.js";
import { BytesInput, StringErrors } from "../src/streams.js";
import type { WSGIApplication } from "../src/types.js";
import { exchange, open, parseResponses, request, serve } from "./helpers/server-client.js";

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hello")];
};

/** A plain node:http server whose listener is `listener`, on a free port. */
async function plainServer(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * Send one kept-alive request and return the bytes received up to `until`, then
 * close: no half-close, which Node would answer by closing after the response.
 */
async function fetchUntil(port: number, path: string, until: string): Promise<Buffer> {
  const socket = await open(port);
  const chunks: Buffer[] = [];
  try {
    socket.write(request("GET", path));
    for await (const chunk of socket) {
      chunks.push(chunk as Buffer);
      if (Buffer.concat(chunks).toString("latin1").endsWith(until)) break;
    }
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks);
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("endAfterTurn", () => {
  it("ends the response in the check phase of the same turn, with its last chunk", async () => {
    const states: Array<[string, boolean, number]> = [];
    const { server, port } = await plainServer((_req, res) => {
      res.writeHead(200, { "Content-Length": "5" });
      endAfterTurn(res, Buffer.from("hello"));
      states.push(["queued", res.writableEnded, queuedEnds()]);
      setImmediate(() => states.push(["next check", res.writableEnded, queuedEnds()]));
    });
    try {
      const [response] = parseResponses(
        await exchange(port, request("GET", "/", ["Connection: close"])),
      );
      assert.equal(response?.body.toString(), "hello");
      assert.deepEqual(states, [
        ["queued", false, 1],
        ["next check", true, 0],
      ]);
    } finally {
      await closeServer(server);
    }
  });

  it("ends a response queued without a chunk, and skips one destroyed meanwhile", async () => {
    const { server, port } = await plainServer((req, res) => {
      res.writeHead(200, { "Content-Length": "0" });
      endAfterTurn(res, undefined);
      if (req.url === "/destroyed") res.destroy();
    });
    try {
      const [empty] = parseResponses(
        await exchange(port, request("GET", "/", ["Connection: close"])),
      );
      assert.equal(empty?.status, 200);
      const cut = await exchange(port, request("GET", "/destroyed", ["Connection: close"]));
      assert.equal(cut.length, 0);
      assert.equal(queuedEnds(), 0);
    } finally {
      await closeServer(server);
    }
  });

  it("endQueued() ends everything queued at once, in order", async () => {
    const ended: string[] = [];
    const held: ServerResponse[] = [];
    const { server, port } = await plainServer((req, res) => {
      res.writeHead(200, { "Content-Length": "1" });
      res.once("finish", () => ended.push(req.url ?? ""));
      held.push(res);
      if (held.length < 2) return;
      // Both responses queued, then ended before the turn is over.
      for (const [i, queued] of held.entries()) endAfterTurn(queued, Buffer.from(String(i)));
      endQueued();
      assert.deepEqual(
        held.map((r) => r.writableEnded),
        [true, true],
      );
      assert.equal(queuedEnds(), 0);
    });
    try {
      const first = fetchUntil(port, "/a", "\r\n\r\n0");
      // The second request only once the first has reached the server.
      while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const second = fetchUntil(port, "/b", "\r\n\r\n1");
      const bodies = (await Promise.all([first, second])).map((bytes) =>
        parseResponses(bytes)[0]?.body.toString(),
      );
      assert.deepEqual(bodies, ["0", "1"]);
      assert.deepEqual(ended, ["/a", "/b"]);
    } finally {
      await closeServer(server);
    }
  });
});

describe("ServerHandler.deferEnd", () => {
  for (const deferEnd of [false, true]) {
    it(`${deferEnd ? "queues the end" : "ends the response"} when run() resolves (deferEnd ${deferEnd})`, async () => {
      const seen: Array<[boolean, boolean]> = [];
      const { server, port } = await plainServer((req, res) => {
        const handler = new ServerHandler(new BytesInput(), res, new StringErrors(), {
          REQUEST_METHOD: req.method,
          PATH_INFO: req.url,
        });
        handler.deferEnd = deferEnd;
        void handler.run(hello).then(() => seen.push([handler.ended, res.writableEnded]));
      });
      try {
        const received = await fetchUntil(port, "/", "hello");
        assert.equal(parseResponses(received)[0]?.body.toString(), "hello");
        assert.deepEqual(seen, [[true, !deferEnd]]);
      } finally {
        await closeServer(server);
      }
    });
  }
});

/** A request handler that records, as each request is logged, how many ends are queued. */
function recordingHandler(queuedAtLog: number[]): typeof WSGIRequestHandler {
  return class extends WSGIRequestHandler {
    override logRequest(code?: number | string, size?: number | string): void {
      queuedAtLog.push(queuedEnds());
      super.logRequest(code, size);
    }
  };
}

describe("WSGIServer and ends with the turn", () => {
  it("queues the end of a kept-alive response under serveForever(), not one that closes", async () => {
    const queuedAtLog: number[] = [];
    const running = await serve(hello, {}, recordingHandler(queuedAtLog));
    try {
      assert.equal(running.httpd.deferEnds, true);
      const received = await exchange(
        running.port,
        request("GET", "/1") + request("GET", "/2") + request("GET", "/3", ["Connection: close"]),
      );
      assert.deepEqual(
        parseResponses(received).map((r) => r.body.toString()),
        ["hello", "hello", "hello"],
      );
      const old = await exchange(running.port, request("GET", "/4", [], "", "HTTP/1.0"));
      assert.equal(parseResponses(old)[0]?.body.toString(), "hello");
      // Logged in close(), after the end: queued for the kept-alive ones only.
      assert.deepEqual(queuedAtLog, [1, 1, 0, 0]);
    } finally {
      await running.close();
    }
  });

  it("ends the response of handleRequest() before its promise resolves", async () => {
    const queuedAtLog: number[] = [];
    const httpd = await makeServer(
      "127.0.0.1",
      0,
      hello,
      undefined,
      recordingHandler(queuedAtLog),
      {
        quiet: true,
      },
    );
    try {
      assert.equal(httpd.deferEnds, false);
      const received = exchange(httpd.serverAddress[1], request("GET", "/"));
      await httpd.handleRequest();
      assert.deepEqual(queuedAtLog, [0]);
      assert.equal(queuedEnds(), 0);
      // The response is out; the kept-alive connection closes with the server.
      await httpd.serverClose();
      assert.equal(parseResponses(await received)[0]?.body.toString(), "hello");
    } finally {
      await httpd.serverClose();
    }
  });

  it("sends a queued response before serverClose() closes its connection", async () => {
    let running: Awaited<ReturnType<typeof serve>> | undefined;
    let closing: Promise<void> | undefined;
    const app: WSGIApplication = (environ, startResponse) => {
      // The server closes while this request is handled: its end is queued, and
      // must still go out before closeAllConnections().
      closing = running?.httpd.serverClose();
      return hello(environ, startResponse);
    };
    const queuedAtLog: number[] = [];
    running = await serve(app, {}, recordingHandler(queuedAtLog));
    const received = await exchange(running.port, request("GET", "/"));
    await closing;
    await running.served;
    const [response] = parseResponses(received);
    assert.equal(response?.status, 200);
    assert.equal(response?.body.toString(), "hello");
    assert.deepEqual(queuedAtLog, [1]);
    assert.equal(running.httpd.deferEnds, false);
  });
});
