/**
 * What one connection may hold of the server (issue 13): pipelined requests
 * waiting behind a slow one, a turn of the event loop, responses to a client
 * that reads nothing, a request body that stops coming. Each test holds a bound
 * by what the server did (bytes it read, calls it made, connections it closed),
 * not by timing memory.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PIPELINE_DEPTH, PIPELINE_LIMIT } from "../../src/simple-server/wsgi-server.js";
import { makeServer, WSGIRequestHandler, WSGIServer } from "../../src/simple-server.js";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { FileWrapper, openFile } from "../../src/util.js";
import { kernelSendfileAvailable, useKernelSendfile } from "../helpers/kernel-route.js";
import {
  collect,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The value of `read()` once it has stayed the same for `quietMs` (at most `maxMs` in all). */
async function settled(read: () => number, quietMs = 250, maxMs = 5000): Promise<number> {
  const started = Date.now();
  let last = read();
  let since = Date.now();
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      break;
    }
  }
  return last;
}

/**
 * An application that records each PATH_INFO and answers it as its body; the
 * request for `/0` waits for `held` first.
 */
function recorder(seen: string[], held: Promise<void>): WSGIApplication {
  return async (environ: WSGIEnvironment, startResponse) => {
    const path = environ.PATH_INFO as string;
    seen.push(path);
    if (path === "/0") await held;
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from(path)];
  };
}

/** Hello world. */
const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hello")];
};

/** The server's side of the next connection made to `server`. */
function nextConnection(server: Running): Promise<Socket> {
  return once(server.httpd.listener, "connection").then(([socket]) => socket as Socket);
}

/** `count` pipelined GETs of `/0` … `/<count - 1>`, the last one closing the connection. */
function pipelined(count: number, headers: string[] = []): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 ? ["Connection: close"] : [];
    text += request("GET", `/${i}`, [...headers, ...last]);
  }
  return text;
}

describe("WSGIServer and pipelined requests", () => {
  it("stops reading a connection while its queue is full, then serves every request in order", async () => {
    const seen: string[] = [];
    const held = gate();
    const server = await serve(recorder(seen, held.opened));
    try {
      const accepted = nextConnection(server);
      const client = await open(server.port);
      client.pause();
      // 1,000 requests of about 1 KiB: 1 MiB that fits the kernel's buffers, so
      // the server could read all of it at once if it did not stop.
      const flood = pipelined(1000, [`X-Pad: ${"p".repeat(1000)}`]);
      client.write(flood);
      const connection = await accepted;
      const read = await settled(() => connection.bytesRead);
      // The request being handled, the queue, and what Node parsed of its last
      // read (64 KiB) before it could be paused.
      const bound = (PIPELINE_DEPTH + 1) * 1100 + 64 * 1024;
      assert.ok(read <= bound, `the server read ${read} of ${flood.length} bytes (bound ${bound})`);
      assert.deepEqual(seen, ["/0"]);
      held.open();
      const received = collect(client);
      client.resume();
      const responses = parseResponses(await within(received, 20_000, "every response"));
      assert.equal(responses.length, 1000);
      assert.deepEqual(
        responses.map((r) => r.body.toString()),
        Array.from({ length: 1000 }, (_, i) => `/${i}`),
      );
    } finally {
      held.open();
      await server.close();
    }
  });

  it("holds one request per connection before serving starts, and stops reading the rest", async () => {
    const seen: string[] = [];
    const httpd = await makeServer(
      "127.0.0.1",
      0,
      recorder(seen, Promise.resolve()),
      undefined,
      undefined,
      {
        quiet: true,
      },
    );
    try {
      const accepted = once(httpd.httpServer, "connection");
      const client = await open(httpd.serverAddress[1]);
      client.pause();
      const flood = pipelined(1000, [`X-Pad: ${"p".repeat(1000)}`]);
      client.write(flood);
      const [connection] = (await accepted) as [Socket];
      const read = await settled(() => connection.bytesRead);
      const bound = (PIPELINE_DEPTH + 1) * 1100 + 64 * 1024;
      assert.ok(read <= bound, `the server read ${read} of ${flood.length} bytes (bound ${bound})`);
      const served = httpd.serveForever();
      const received = collect(client);
      client.resume();
      const responses = parseResponses(await within(received, 20_000, "every response"));
      assert.equal(responses.length, 1000);
      assert.equal(responses.at(-1)?.body.toString(), "/999");
      await httpd.shutdown();
      await served;
    } finally {
      await httpd.serverClose();
    }
  });

  it(`closes a connection with more than ${PIPELINE_LIMIT} requests waiting, and serves the others`, async () => {
    const seen: string[] = [];
    const held = gate();
    const server = await serve(recorder(seen, held.opened));
    try {
      const client = await open(server.port);
      client.pause();
      const closed = once(client, "close");
      client.on("error", () => undefined);
      // 1,000 minimal requests arrive in one read: Node parses them all.
      client.write(pipelined(1000));
      await within(closed, 5000, "the flooding connection closed");
      assert.deepEqual(seen, ["/0"]);
      held.open();
      const other = await open(server.port);
      const answer = collect(other);
      other.end(request("GET", "/other", ["Connection: close"]));
      const [response] = parseResponses(await within(answer, 5000, "the other client's answer"));
      assert.equal(response?.body.toString(), "/other");
    } finally {
      held.open();
      await server.close();
    }
  });

  it("aborts the requests a flooding connection left without a stack for each, and restores the limit", async () => {
    const held = gate();
    const server = await serve(recorder([], held.opened));
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    // Frames captured for the "aborted" errors Node makes for unanswered requests.
    let abortedFrames = 0;
    let aborted = 0;
    Error.prepareStackTrace = (err, frames) => {
      if (err.message === "aborted") {
        aborted += 1;
        abortedFrames += frames.length;
      }
      return prepare === undefined ? `${err}` : prepare(err, frames);
    };
    try {
      const accepted = nextConnection(server);
      const client = await open(server.port);
      client.pause();
      client.on("error", () => undefined);
      const connection = await accepted;
      const gone = once(connection, "close");
      client.write(pipelined(1000));
      await within(gone, 5000, "the flooding connection closed");
      // Node formats each error's stack when it is destroyed: wait for those.
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(aborted > PIPELINE_LIMIT, `${aborted} requests aborted`);
      assert.equal(abortedFrames, 0);
      assert.equal(Error.stackTraceLimit, limit);
    } finally {
      Error.prepareStackTrace = prepare;
      held.open();
      await server.close();
    }
  });

  it("drops what a client left waiting once it is gone, and closes without waiting for it", async () => {
    const seen: string[] = [];
    const held = gate();
    const server = await serve(recorder(seen, held.opened));
    let closedServer = false;
    try {
      const accepted = nextConnection(server);
      const client = await open(server.port);
      client.write(pipelined(100));
      const connection = await accepted;
      while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
      // Gone for good (a reset; a half-close would still be answered). The server
      // reads nothing more of it, so it learns this when it writes the answer.
      client.resetAndDestroy();
      held.open();
      const gone = new Promise((resolve) => connection.once("close", resolve));
      await within(gone, 5000, "the connection closed");
      await within(server.close(), 5000, "serverClose()");
      closedServer = true;
      // The answer to /0 may reach the kernel before the reset does, and /1 start
      // then; nothing after it does.
      assert.ok(seen.length <= 2, `served ${seen.length} of the 100 requests`);
    } finally {
      held.open();
      if (!closedServer) void server.close();
    }
  });

  it(`serves at most ${PIPELINE_DEPTH} of one connection's requests in a turn of the event loop`, async () => {
    const seen: string[] = [];
    let inFirstTurn = -1;
    const app: WSGIApplication = (environ, startResponse) => {
      if (seen.length === 0) {
        // Runs once the turn that served the first request has ended.
        setImmediate(() => {
          inFirstTurn = seen.length;
        });
      }
      seen.push(environ.PATH_INFO as string);
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from("ok")];
    };
    const server = await serve(app);
    try {
      const client = await open(server.port);
      const received = collect(client);
      client.write(pipelined(64));
      const responses = parseResponses(await within(received, 10_000, "every response"));
      assert.equal(responses.length, 64);
      assert.ok(
        inFirstTurn >= 1 && inFirstTurn <= PIPELINE_DEPTH,
        `${inFirstTurn} requests served in the first turn`,
      );
    } finally {
      await server.close();
    }
  });

  describe("a request behind a response still being sent", () => {
    // Larger than what loopback sockets buffer: the first response cannot have
    // left when its handler is done, so Node gives the next one no socket yet.
    const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
    const app =
      (seen: string[]): WSGIApplication =>
      (environ, startResponse) => {
        const path = environ.PATH_INFO as string;
        seen.push(path);
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return [path === "/big" ? big : Buffer.from("ok")];
      };
    const both = request("GET", "/big") + request("GET", "/small", ["Connection: close"]);

    it("is served once the response before it has left", async () => {
      const seen: string[] = [];
      const server = await serve(app(seen));
      try {
        const client = await open(server.port);
        const received = collect(client);
        client.write(both);
        const responses = parseResponses(await within(received, 20_000, "both responses"));
        assert.deepEqual(
          responses.map((r) => r.body.length),
          [big.length, 2],
        );
        assert.deepEqual(seen, ["/big", "/small"]);
      } finally {
        await server.close();
      }
    });

    it("is dropped, its application never called, when the connection closes first", async () => {
      const seen: string[] = [];
      const server = await serve(app(seen));
      try {
        const accepted = nextConnection(server);
        const client = await open(server.port);
        const serverSide = await accepted;
        client.write(both);
        // The first bytes come once the server has handled what it read, the
        // second request included (it waits for the socket); then go away.
        await once(client, "data");
        client.destroy();
        // Not once(): the server's side sees the reset as an error first.
        await new Promise((resolve) => serverSide.once("close", resolve));
        // The server serves on, and never ran the application for /small.
        const other = await open(server.port);
        const answer = collect(other);
        other.write(request("GET", "/after", ["Connection: close"]));
        const [response] = parseResponses(await within(answer, 10_000, "the next response"));
        assert.equal(response?.status, 200);
        assert.deepEqual(seen, ["/big", "/after"]);
      } finally {
        await server.close();
      }
    });
  });

  it("drops the connection of a request whose handler cannot be made, and serves on", async () => {
    class Refusing extends WSGIRequestHandler {
      constructor(...args: ConstructorParameters<typeof WSGIRequestHandler>) {
        super(...args);
        if (this.path === "/cannot") throw new Error("no handler for this one");
      }
    }
    const failures: unknown[] = [];
    class Recording extends WSGIServer {
      override handleError(_request: IncomingMessage, err: unknown): void {
        failures.push(err);
      }
    }
    const httpd = await makeServer("127.0.0.1", 0, hello, Recording, Refusing, { quiet: true });
    const served = httpd.serveForever();
    try {
      const port = httpd.serverAddress[1];
      const refused = await open(port);
      const cut = collect(refused);
      refused.write(request("GET", "/cannot"));
      assert.equal((await within(cut, 10_000, "the connection's end")).length, 0);
      assert.equal(failures.length, 1);
      assert.match(String(failures[0]), /no handler for this one/);
      const other = await open(port);
      const answer = collect(other);
      other.write(request("GET", "/", ["Connection: close"]));
      const [response] = parseResponses(await within(answer, 10_000, "the next response"));
      assert.equal(response?.status, 200);
    } finally {
      await httpd.serverClose();
      await served;
    }
  });
});

/** Resolves when `socket` closes, whatever error came before. */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.on("error", () => undefined);
    socket.once("close", () => resolve());
  });
}

describe("WSGIServer and clients that stop reading", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-bounds-"));
  // Sparse: 256 MiB of zeros that take no disk.
  const big = join(dir, "big.bin");
  const bigSize = 256 * 1024 * 1024;
  closeSync(openSync(big, "w"));
  truncateSync(big, bigSize);
  let closes = 0;
  const app: WSGIApplication = (environ, startResponse) => {
    if (environ.PATH_INFO === "/one-chunk") {
      // One write that takes the kernel seconds to take in full from a slow client.
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return [Buffer.alloc(32 * 1024 * 1024, 2)];
    }
    if (environ.PATH_INFO === "/generated") {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return (function* () {
        try {
          for (let i = 0; i < 4096; i++) yield Buffer.alloc(64 * 1024, 1);
        } finally {
          closes += 1;
        }
      })();
    }
    const file = openFile(big);
    const counted = {
      fd: file.fd,
      read: (size?: number) => file.read(size),
      close() {
        closes += 1;
        file.close();
      },
    };
    // A Content-Length: the response sendfile(2) may send (a chunked one it declines).
    startResponse("200 OK", [
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(bigSize)],
    ]);
    return new FileWrapper(counted);
  };
  after(() => {
    useKernelSendfile(true);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A client that sends `path`'s request, reads the first bytes of the answer, then nothing. */
  async function stalled(server: Running, path: string): Promise<[Socket, Socket]> {
    const accepted = nextConnection(server);
    const client = await open(server.port);
    client.write(request("GET", path));
    await once(client, "data");
    client.pause();
    return [client, await accepted];
  }

  for (const byKernel of [false, true]) {
    const route = byKernel ? "by sendfile(2)" : "streamed";
    it(`closes a connection whose client takes nothing of a file (${route}) for sendTimeout`, {
      skip: byKernel && !kernelSendfileAvailable(),
    }, async () => {
      useKernelSendfile(byKernel);
      closes = 0;
      const server = await serve(app, { sendTimeout: 300 });
      try {
        const [client, connection] = await stalled(server, "/big");
        await within(closed(connection), 10_000, "the stalled connection closed");
        client.destroy();
        while (closes < 1) await new Promise((resolve) => setImmediate(resolve));
        assert.equal(closes, 1);
        // And the next client is served.
        const [again] = await stalled(server, "/big");
        again.destroy();
      } finally {
        useKernelSendfile(true);
        await server.close();
      }
    });
  }

  it("closes the connection of a client that half-closed, then left during a sendfile(2)", {
    skip: !kernelSendfileAvailable(),
  }, async () => {
    const server = await serve(app);
    try {
      for (let i = 0; i < 3; i++) {
        const [client, connection] = await stalled(server, "/big");
        const ended = new Promise((resolve) => connection.once("end", resolve));
        // A half-close first: the server, which answers half-closed clients, reads
        // no more. Then gone for good: only the next send learns of it.
        client.end();
        await within(ended, 5000, "the client's half-close");
        client.destroy();
        await within(closed(connection), 5000, `connection ${i} closed`);
      }
    } finally {
      await server.close();
    }
  });

  it("closes a connection whose client takes nothing of a generated body for sendTimeout", async () => {
    closes = 0;
    const server = await serve(app, { sendTimeout: 300 });
    try {
      const [client, connection] = await stalled(server, "/generated");
      await settled(() => connection.bytesWritten);
      // The handler waits for the socket to drain: one chunk past its buffer.
      assert.ok(
        connection.writableLength <= 128 * 1024,
        `${connection.writableLength} bytes wait in the socket`,
      );
      await within(closed(connection), 10_000, "the stalled connection closed");
      client.destroy();
      while (closes < 1) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(closes, 1);
    } finally {
      await server.close();
    }
  });

  it("holds one 64 KiB block of a streamed file for a client that stops reading", async () => {
    useKernelSendfile(false);
    const server = await serve(app);
    let client: Socket | undefined;
    try {
      const [stalledClient, connection] = await stalled(server, "/big");
      client = stalledClient;
      await settled(() => connection.bytesWritten);
      assert.ok(
        connection.writableLength <= 64 * 1024,
        `${connection.writableLength} bytes wait in the socket`,
      );
    } finally {
      // Before closing: a close waits for the response, up to sendTimeout.
      client?.destroy();
      useKernelSendfile(true);
      await server.close();
    }
  });

  for (const path of ["/big", "/one-chunk"]) {
    const what = path === "/big" ? "a streamed file" : "one 32 MiB chunk of a body";
    it(`never closes a slow client that keeps taking bytes of ${what}`, async () => {
      useKernelSendfile(false);
      const server = await serve(app, { sendTimeout: 1000 });
      let client: Socket | undefined;
      try {
        const [stalledClient, connection] = await stalled(server, path);
        client = stalledClient;
        const reader = client;
        const started = Date.now();
        // 512 KiB every 100 ms, for 2.5 times sendTimeout: the 32 MiB write
        // completes only seconds later, but moves on as the kernel makes room.
        let received = 0;
        while (Date.now() - started < 2500) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          const target = received + 512 * 1024;
          const taken = new Promise<void>((resolve) => {
            const onData = (chunk: Buffer): void => {
              received += chunk.length;
              if (received < target) return;
              reader.off("data", onData);
              reader.pause();
              resolve();
            };
            reader.on("data", onData);
          });
          reader.resume();
          await within(taken, 5000, "the next 512 KiB");
        }
        assert.equal(connection.destroyed, false);
      } finally {
        client?.destroy();
        useKernelSendfile(true);
        await server.close();
      }
    });
  }
});

describe("WSGIServer and request bodies that stop coming", () => {
  let server: Running;
  const seen: string[] = [];
  before(async () => {
    const app: WSGIApplication = (environ, startResponse) => {
      const body = environ["wsgi.input"]?.read() ?? Buffer.alloc(0);
      seen.push(`${environ.PATH_INFO} ${body.length}`);
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from(String(body.length))];
    };
    server = await serve(app, { bodyTimeout: 300 });
  });
  after(() => server.close());

  it("answers 408 and closes when no byte of the body comes for bodyTimeout", async () => {
    const client = await open(server.port);
    const received = collect(client);
    client.write(request("POST", "/stopped", ["Content-Length: 1000"], "x".repeat(10)));
    const [response] = parseResponses(await within(received, 5000, "the answer"));
    assert.equal(response?.status, 408);
    assert.ok(!seen.some((line) => line.startsWith("/stopped")));
  });

  it("waits as long as the body keeps coming, even when it takes longer than bodyTimeout", async () => {
    const client = await open(server.port);
    const received = collect(client);
    client.write(request("POST", "/trickle", ["Content-Length: 8", "Connection: close"]));
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.write("y");
    }
    const [response] = parseResponses(await within(received, 5000, "the answer"));
    assert.equal(response?.status, 200);
    assert.equal(response?.body.toString(), "8");
  });
});

describe("WSGIServer and a response that closes its connection", () => {
  it("serves nothing pipelined after an HTTP/1.0 response of unknown length", async () => {
    const seen: string[] = [];
    const app: WSGIApplication = (environ, startResponse) => {
      seen.push(String(environ.PATH_INFO));
      environ["wsgi.input"]?.read();
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      // No Content-Length, over HTTP/1.0: Node closes the connection after it.
      return (function* () {
        yield Buffer.from("hello");
      })();
    };
    const server = await serve(app);
    try {
      const client = await open(server.port);
      const received = collect(client);
      const head = request(
        "POST",
        "/first",
        ["Connection: keep-alive", "Content-Length: 4"],
        "",
        "HTTP/1.0",
      );
      // The body and the next request come in reads of their own, after the head.
      for (const part of [head, "hi", "hi", request("GET", "/second", [], "", "HTTP/1.0")]) {
        client.write(part);
        await new Promise((resolve) => setImmediate(resolve));
      }
      client.end();
      const bytes = await within(received, 10_000, "the response and the close");
      assert.match(bytes.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n/);
      assert.deepEqual(seen, ["/first"]);
    } finally {
      await server.close();
    }
  });
});
