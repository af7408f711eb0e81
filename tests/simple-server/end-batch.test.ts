/**
 * Responses ended with their turn of the event loop (src/simple-server/end-batch.ts):
 * the batch itself on a plain node:http server, a ServerHandler given one, and
 * when WSGIServer uses its own (serveForever) and when it does not
 * (handleRequest, a response after which the connection closes), with every
 * queued response out before the server closes its connections.
 *
 * The plain-server tests share one batch, whose state carries from one test to
 * the next, so they run in order and each says what the turn before it left.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { EndBatch } from "../../src/simple-server/end-batch.js";
import { makeServer, ServerHandler, WSGIRequestHandler } from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { WSGIApplication } from "../../src/types.js";
import { exchange, open, parseResponses, request, serve } from "../helpers/server-client.js";

/** The batch of the plain node:http servers below. */
const batch = new EndBatch();
const endAfterTurn = (res: ServerResponse, last: Uint8Array | undefined): void =>
  batch.endAfterTurn(res, last);
const endQueued = (): void => batch.flush();
const queuedEnds = (): number => batch.queued;

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

/**
 * A plain node:http server that holds each response until `count` have arrived,
 * then gives them all to `onAll` in the listener of the last: one turn.
 */
async function holdingServer(
  count: number,
  onAll: (held: ServerResponse[]) => void,
): Promise<{ server: Server; port: number; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const { server, port } = await plainServer((_req, res) => {
    res.writeHead(200, { "Content-Length": "1" });
    held.push(res);
    if (held.length === count) onAll(held);
  });
  return { server, port, held };
}

/**
 * Fetch `first`, then, once `firstArrived()` says it has reached the server,
 * `second`: both in one turn of the server's loop, in that order. Each is a path
 * and the text its response ends with.
 */
async function fetchTwo(
  port: number,
  first: [string, string],
  second: [string, string],
  firstArrived: () => boolean,
): Promise<Buffer[]> {
  const fetching = fetchUntil(port, ...first);
  while (!firstArrived()) await new Promise((resolve) => setImmediate(resolve));
  return Promise.all([fetching, fetchUntil(port, ...second)]);
}

/** Fetch `/a` then `/b` from a `holdingServer`, whose bodies are "0" and "1". */
function fetchAThenB(port: number, held: ServerResponse[]): Promise<Buffer[]> {
  return fetchTwo(port, ["/a", "\r\n\r\n0"], ["/b", "\r\n\r\n1"], () => held.length > 0);
}

/** Fetch `/a` then `/b`, each answered "hello", as `fetchTwo` does. */
function fetchTwoHellos(port: number, firstArrived: () => boolean): Promise<Buffer[]> {
  return fetchTwo(port, ["/a", "hello"], ["/b", "hello"], firstArrived);
}

/** The body of the first response in each of `received`. */
function bodiesOf(received: Buffer[]): Array<string | undefined> {
  return received.map((bytes) => parseResponses(bytes)[0]?.body.toString());
}

/** A ServerHandler for `req` over `res`, ending with the turn (the batch above) when `deferEnd`. */
function handlerFor(req: IncomingMessage, res: ServerResponse, deferEnd: boolean): ServerHandler {
  return new ServerHandler(
    new BytesInput(),
    res,
    new StringErrors(),
    { REQUEST_METHOD: req.method, PATH_INFO: req.url },
    true,
    false,
    deferEnd ? { endBatch: batch } : undefined,
  );
}

/**
 * Give endAfterTurn() one turn with a single response, so that the next turn
 * starts as after a quiet one: its first response ends at once.
 */
async function loneTurn(): Promise<void> {
  const { server, port } = await plainServer((_req, res) => {
    res.writeHead(200, { "Content-Length": "0" });
    endAfterTurn(res, undefined);
  });
  try {
    await fetchUntil(port, "/", "\r\n\r\n");
    // The check phase of that turn has run once the next one's has.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    await closeServer(server);
  }
}

describe("endAfterTurn", () => {
  it("ends the first response of a turn at once and queues the second until the check phase", async () => {
    const states: Array<[string, boolean, boolean, number]> = [];
    const { server, port, held } = await holdingServer(2, ([a, b]) => {
      endAfterTurn(a as ServerResponse, Buffer.from("0"));
      endAfterTurn(b as ServerResponse, Buffer.from("1"));
      states.push([
        "both given",
        a?.writableEnded === true,
        b?.writableEnded === true,
        queuedEnds(),
      ]);
      setImmediate(() =>
        states.push(["check", a?.writableEnded === true, b?.writableEnded === true, queuedEnds()]),
      );
    });
    try {
      assert.deepEqual(bodiesOf(await fetchAThenB(port, held)), ["0", "1"]);
      assert.deepEqual(states, [
        ["both given", true, false, 1],
        ["check", true, true, 0],
      ]);
    } finally {
      await closeServer(server);
    }
  });

  it("after a turn that ended two, queues even a lone response; after that one, ends at once", async () => {
    const states: boolean[] = [];
    const { server, port } = await plainServer((_req, res) => {
      res.writeHead(200, { "Content-Length": "0" });
      endAfterTurn(res, undefined);
      states.push(res.writableEnded);
    });
    try {
      for (const path of ["/c", "/d"]) {
        const [response] = parseResponses(await fetchUntil(port, path, "\r\n\r\n"));
        assert.equal(response?.status, 200);
      }
      assert.deepEqual(states, [false, true]);
    } finally {
      await closeServer(server);
    }
  });

  it("skips a queued response destroyed before its turn ends", async () => {
    const { server, port, held } = await holdingServer(2, ([a, b]) => {
      endAfterTurn(a as ServerResponse, Buffer.from("0"));
      endAfterTurn(b as ServerResponse, Buffer.from("1"));
      assert.equal(queuedEnds(), 1);
      b?.destroy();
    });
    try {
      const [first, second] = await fetchAThenB(port, held);
      assert.equal(parseResponses(first as Buffer)[0]?.body.toString(), "0");
      assert.equal(second?.length, 0);
      assert.equal(queuedEnds(), 0);
    } finally {
      await closeServer(server);
    }
  });

  it("endQueued() ends everything queued at once, in order", async () => {
    const ended: number[] = [];
    const { server, port, held } = await holdingServer(2, (responses) => {
      // The turn before ended two: both are queued, then ended before the turn is over.
      for (const [i, res] of responses.entries()) {
        res.once("finish", () => ended.push(i));
        endAfterTurn(res, Buffer.from(String(i)));
      }
      assert.equal(queuedEnds(), 2);
      endQueued();
      assert.deepEqual(
        responses.map((res) => res.writableEnded),
        [true, true],
      );
      assert.equal(queuedEnds(), 0);
    });
    try {
      assert.deepEqual(bodiesOf(await fetchAThenB(port, held)), ["0", "1"]);
      assert.deepEqual(ended, [0, 1]);
    } finally {
      await closeServer(server);
    }
  });
});

describe("ServerHandler and an end batch", () => {
  for (const deferEnd of [false, true]) {
    it(`${deferEnd ? "queues the end of the second response of a turn" : "ends each response"} by the time run() resolves (deferEnd ${deferEnd})`, async () => {
      const seen: Array<[boolean, boolean]> = [];
      const handlers: Array<[ServerHandler, ServerResponse]> = [];
      await loneTurn();
      const { server, port } = await plainServer((req, res) => {
        handlers.push([handlerFor(req, res, deferEnd), res]);
        if (handlers.length < 2) return;
        for (const [each, response] of handlers) {
          void each.run(hello).then(() => seen.push([each.output.ended, response.writableEnded]));
        }
      });
      try {
        const received = await fetchTwoHellos(port, () => handlers.length > 0);
        assert.deepEqual(bodiesOf(received), ["hello", "hello"]);
        // The turn before this one ended one response (or none): the first goes at once.
        assert.deepEqual(seen, [
          [true, true],
          [true, !deferEnd],
        ]);
      } finally {
        await closeServer(server);
      }
    });
  }
});

describe("ServerHandler, an end batch and an iterated body", () => {
  /** "hello" from a generator, in two chunks, with its Content-Length. */
  const generated: WSGIApplication = (_environ, startResponse) => {
    startResponse("200 OK", [["Content-Length", "5"]]);
    return (function* () {
      yield Buffer.from("hel");
      yield Buffer.from("lo");
    })();
  };

  it("holds the chunk that completes the Content-Length back for the end", async () => {
    const seen: Array<[number, number]> = [];
    const handlers: Array<[ServerHandler, IncomingMessage]> = [];
    await loneTurn();
    const { server, port } = await plainServer((req, res) => {
      handlers.push([handlerFor(req, res, true), req]);
      if (handlers.length < 2) return;
      for (const [handler, request] of handlers) {
        void handler.run(generated).then(() => {
          // What reached the socket when run() resolved, and what waits to end.
          seen.push([request.socket.bytesWritten, queuedEnds()]);
        });
      }
    });
    try {
      const received = await fetchTwoHellos(port, () => handlers.length > 0);
      assert.deepEqual(bodiesOf(received), ["hello", "hello"]);
      // When both runs have resolved, the first has gone out whole (ended at
      // once, its last chunk with it); the second has written all but "lo",
      // which waits with its end.
      const lengths = received.map((bytes) => bytes.length);
      assert.deepEqual(seen, [
        [lengths[0], 1],
        [(lengths[1] ?? 0) - 2, 1],
      ]);
    } finally {
      await closeServer(server);
    }
  });

  it("sends the held chunk when the turn ends, while the body is still finishing", async () => {
    let finish: (() => void) | undefined;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let closed = false;
    const slowToFinish: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Length", "5"]]);
      return {
        async *[Symbol.asyncIterator]() {
          yield Buffer.from("hello");
          // Done only once the client has the whole body.
          await finishing;
        },
        close() {
          closed = true;
        },
      };
    };
    let run: Promise<void> | undefined;
    const { server, port } = await plainServer((req, res) => {
      run = handlerFor(req, res, true).run(slowToFinish);
    });
    try {
      const received = await fetchUntil(port, "/", "hello");
      assert.equal(parseResponses(received)[0]?.body.toString(), "hello");
      assert.equal(closed, false, "the body is still finishing");
      finish?.();
      await run;
      assert.equal(closed, true);
    } finally {
      await closeServer(server);
    }
  });
});

/** A request handler that records, as each request is logged, how many ends are queued. */
function recordingHandler(queuedAtLog: Array<[string, number]>): typeof WSGIRequestHandler {
  return class extends WSGIRequestHandler {
    override logRequest(code?: number | string, size?: number | string): void {
      queuedAtLog.push([this.path, this.server.endBatch?.queued ?? 0]);
      super.logRequest(code, size);
    }
  };
}

/**
 * An application whose `/slow` answers only once `/fast` has come, so that both
 * end in the turn of `/fast`: `/fast` first, then `/slow`. `onFast` runs in
 * `/fast`. `fetchBoth(port)` fetches `/slow`, then `/fast` once `/slow` has
 * reached the application, and returns both responses.
 */
function slowAndFast(onFast: () => void = () => undefined): {
  app: WSGIApplication;
  fetchBoth(port: number): Promise<Buffer[]>;
} {
  let arrived: (() => void) | undefined;
  const slowArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  let fastCame: (() => void) | undefined;
  const fast = new Promise<void>((resolve) => {
    fastCame = resolve;
  });
  const app: WSGIApplication = (environ, startResponse) => {
    if (environ.PATH_INFO === "/slow") {
      arrived?.();
      return fast.then(() => hello(environ, startResponse));
    }
    onFast();
    fastCame?.();
    return hello(environ, startResponse);
  };
  const fetchBoth = async (port: number): Promise<Buffer[]> => {
    const slow = fetchUntil(port, "/slow", "hello");
    await slowArrived;
    return Promise.all([slow, fetchUntil(port, "/fast", "hello")]);
  };
  return { app, fetchBoth };
}

describe("WSGIServer and ends with the turn", () => {
  it("queues the second end of a turn under serveForever(), never one after which the connection closes", async () => {
    const queuedAtLog: Array<[string, number]> = [];
    const { app, fetchBoth } = slowAndFast();
    await loneTurn();
    const running = await serve(app, {}, recordingHandler(queuedAtLog));
    try {
      assert.equal(running.httpd.endBatch !== undefined, true);
      assert.deepEqual(bodiesOf(await fetchBoth(running.port)), ["hello", "hello"]);
      // The turn before ended two: a lone kept-alive response is queued, one that
      // closes its connection is not; the next lone one goes at once.
      const closing = await exchange(running.port, request("GET", "/close", ["Connection: close"]));
      const old = await exchange(running.port, request("GET", "/old", [], "", "HTTP/1.0"));
      for (const bytes of [closing, old]) {
        assert.equal(parseResponses(bytes)[0]?.body.toString(), "hello");
      }
      await fetchUntil(running.port, "/kept", "hello");
      await fetchUntil(running.port, "/next", "hello");
      // Logged in close(), after the end was given.
      assert.deepEqual(queuedAtLog, [
        ["/fast", 0],
        ["/slow", 1],
        ["/close", 0],
        ["/old", 0],
        ["/kept", 1],
        ["/next", 0],
      ]);
    } finally {
      await running.close();
    }
  });

  it("ends a queued response at once when a pipelined request waits for its socket", async () => {
    // Handlers are made in the poll phase of the turn their request arrives in,
    // not after the queued end of the response before them in the check phase:
    // a framing error later in the body is then seen by the receiving handler.
    let checkPhaseRan = false;
    const madeAfterCheck: Array<[string, boolean]> = [];
    class Recording extends WSGIRequestHandler {
      override handle(): Promise<void> {
        madeAfterCheck.push([this.path, checkPhaseRan]);
        return super.handle();
      }
    }
    const { app: slowFast, fetchBoth } = slowAndFast();
    const app: WSGIApplication = (environ, startResponse) => {
      if (environ.PATH_INFO === "/first") {
        // Queued before the end of /first, so it runs before that end is flushed.
        setImmediate(() => {
          checkPhaseRan = true;
        });
      }
      return slowFast(environ, startResponse);
    };
    const running = await serve(app, {}, Recording);
    try {
      await fetchBoth(running.port);
      // The turn before ended two: /first's end is queued; /second comes pipelined.
      const received = await exchange(
        running.port,
        request("GET", "/first") + request("GET", "/second", ["Connection: close"]),
      );
      assert.deepEqual(
        parseResponses(received).map((r) => r.body.toString()),
        ["hello", "hello"],
      );
      assert.deepEqual(madeAfterCheck.slice(2), [
        ["/first", false],
        ["/second", false],
      ]);
    } finally {
      await running.close();
    }
  });

  it("sends a queued response whole before a refusal of the request after it", async () => {
    const { app, fetchBoth } = slowAndFast();
    const running = await serve(app);
    try {
      await fetchBoth(running.port);
      // The turn before ended two: /first's end is queued when the malformed
      // request after it (a bare LF in a field line) is refused, in the same turn.
      const received = await exchange(
        running.port,
        `${request("GET", "/first")}GET /second HTTP/1.1\r\nHost: localhost\r\nX-A: v\n\r\n`,
      );
      assert.deepEqual(
        parseResponses(received).map((r) => [r.status, r.body.toString()]),
        [
          [200, "hello"],
          [400, "Bad Request\n"],
        ],
        received.toString("latin1"),
      );
    } finally {
      await running.close();
    }
  });

  it("ends the response of handleRequest() before its promise resolves", async () => {
    const queuedAtLog: Array<[string, number]> = [];
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
      assert.equal(httpd.endBatch !== undefined, false);
      const received = exchange(httpd.serverAddress[1], request("GET", "/"));
      await httpd.handleRequest();
      assert.deepEqual(queuedAtLog, [["/", 0]]);
      assert.equal(httpd.endBatch?.queued ?? 0, 0);
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
    // The server closes in /fast: /slow's end is queued after it, and must still
    // go out before closeAllConnections().
    const { app, fetchBoth } = slowAndFast(() => {
      closing = running?.httpd.serverClose();
    });
    const queuedAtLog: Array<[string, number]> = [];
    await loneTurn();
    running = await serve(app, {}, recordingHandler(queuedAtLog));
    assert.deepEqual(bodiesOf(await fetchBoth(running.port)), ["hello", "hello"]);
    await closing;
    await running.served;
    assert.deepEqual(queuedAtLog, [
      ["/fast", 0],
      ["/slow", 1],
    ]);
    assert.equal(running.httpd.endBatch !== undefined, false);
  });
});
