/**
 * The sendfile(2) route (src/simple-server/kernel-sendfile.ts) against a real
 * node:http server and raw-socket clients on 127.0.0.1: the exact bytes from the
 * file's position, the routes it declines, a client that stops reading and one
 * that leaves, the slots it may hold, and the descriptors it gives back.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KernelSendfile, type KernelSent } from "../../src/simple-server/kernel-sendfile.js";

const MIB = 1024 * 1024;
const linux = process.platform === "linux";

/** The route under test, as a server holds one. */
const kernel = new KernelSendfile();
const kernelSendfileAvailable = (): boolean => kernel.available;
const useKernelSendfile = (enabled: boolean): void => kernel.use(enabled);

/** The kernel route for `res`, given its socket's descriptor as the server's sink gives it. */
function sendFileByKernel(
  fd: number,
  res: ServerResponse,
  limit: number,
): Promise<KernelSent | undefined> {
  const handle = (res.socket as unknown as { _handle?: { fd?: number } } | null)?._handle;
  return kernel.send(fd, res, handle?.fd ?? -1, limit);
}

describe("kernel sendfile: the addon", () => {
  it("is built and loaded on Linux (CI requires it: WSGIREF_REQUIRE_SENDFILE=1)", (t) => {
    if (!kernelSendfileAvailable()) {
      assert.ok(
        !linux || process.env.WSGIREF_REQUIRE_SENDFILE !== "1",
        "build/native/sendfile.node did not load: see `node scripts/build-native.js`",
      );
      t.skip("the addon is not built on this machine: the streaming route serves files");
      return;
    }
    assert.ok(linux);
  });

  it("can be turned off and loaded again", () => {
    const had = kernelSendfileAvailable();
    useKernelSendfile(false);
    assert.equal(kernelSendfileAvailable(), false);
    useKernelSendfile(true);
    assert.equal(kernelSendfileAvailable(), had);
  });
});

/** What a handler did with the kernel route, for the test to check. */
interface Outcome {
  result?: KernelSent | undefined;
  error?: unknown;
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<KernelSent | undefined>;

describe("kernel sendfile: sendFileByKernel", { skip: !kernelSendfileAvailable() }, () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-kernel-sendfile-"));
  const small = join(dir, "small.bin");
  const content = Buffer.alloc(5 * MIB + 77);
  for (let i = 0; i < content.length; i++) content[i] = (i * 31 + (i >> 12)) & 0xff;
  writeFileSync(small, content);
  const big = join(dir, "big.bin");
  writeFileSync(big, Buffer.alloc(64 * MIB, 1));

  let route: Route = async () => undefined;
  let outcomes: Outcome[] = [];
  const settled: Array<() => void> = [];
  let server: Server;
  let port = 0;

  before(async () => {
    server = createServer((req, res) => {
      const outcome: Outcome = {};
      outcomes.push(outcome);
      route(req, res)
        .then(
          (result) => {
            outcome.result = result;
            if (!res.destroyed) res.end();
          },
          (error: unknown) => {
            outcome.error = error;
            res.destroy();
          },
        )
        .finally(() => {
          for (const wake of settled.splice(0)) wake();
        });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once `count` handlers have settled. */
  const handlersSettled = (count: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (outcomes.filter((o) => "result" in o || "error" in o).length >= count) resolve();
        else settled.push(check);
      };
      check();
    });

  const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

  async function get(path = "/", headers = ""): Promise<Buffer> {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${headers}\r\n`);
    await once(socket, "close");
    return Buffer.concat(chunks);
  }

  const bodyOf = (raw: Buffer): Buffer => raw.subarray(raw.indexOf("\r\n\r\n") + 4);

  /** A route that declares `length` and sends it from `path`, opened with `flags`. */
  const sending =
    (path: string, length: number, flags = "r"): Route =>
    async (_req, res) => {
      const fd = openSync(path, flags);
      try {
        res.writeHead(200, { "Content-Length": String(length) });
        return await sendFileByKernel(fd, res, length);
      } finally {
        closeSync(fd);
      }
    };

  const openFds = (): number => readdirSync("/proc/self/fd").length;

  it("sends a file from its current position, exactly, and advances the position", async () => {
    outcomes = [];
    let after = -1;
    route = async (_req, res) => {
      const fd = openSync(small, "r");
      try {
        readSync(fd, Buffer.alloc(1000), 0, 1000, null);
        res.writeHead(200, { "Content-Length": String(content.length - 1000) });
        const sent = await sendFileByKernel(fd, res, content.length - 1000);
        after = readSync(fd, Buffer.alloc(1), 0, 1, null);
        return sent;
      } finally {
        closeSync(fd);
      }
    };
    const raw = await get();
    await handlersSettled(1);
    assert.match(raw.toString("latin1", 0, 20), /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(sha(bodyOf(raw)), sha(content.subarray(1000)));
    assert.deepEqual(outcomes[0]?.result, { sent: content.length - 1000, ended: false });
    // Exactly the limit was asked for; the file's position is now at its end.
    assert.equal(after, 0);
  });

  it("stops at the limit, and tells the end of a file shorter than it", async () => {
    outcomes = [];
    route = async (req, res) => {
      const fd = openSync(small, "r");
      try {
        const limit = req.url === "/short" ? 4096 : content.length + 10;
        res.writeHead(200, { "Content-Length": String(limit) });
        return await sendFileByKernel(fd, res, limit);
      } finally {
        closeSync(fd);
      }
    };
    const short = await get("/short");
    await handlersSettled(1);
    assert.deepEqual(bodyOf(short), content.subarray(0, 4096));
    assert.deepEqual(outcomes[0]?.result, { sent: 4096, ended: false });
    outcomes = [];
    await get("/long");
    await handlersSettled(1);
    assert.deepEqual(outcomes[0]?.result, { sent: content.length, ended: true });
  });

  it("sends after what was written before it, in order", async () => {
    outcomes = [];
    route = async (_req, res) => {
      const fd = openSync(small, "r");
      try {
        res.writeHead(200, { "Content-Length": String(content.length + 3 * MIB) });
        // More than a socket takes at once: part of it is still queued in Node.
        res.write(Buffer.alloc(3 * MIB, 0x41));
        return await sendFileByKernel(fd, res, content.length);
      } finally {
        closeSync(fd);
      }
    };
    const body = bodyOf(await get());
    await handlersSettled(1);
    assert.equal(body.length, content.length + 3 * MIB);
    assert.ok(body.subarray(0, 3 * MIB).every((b) => b === 0x41));
    assert.equal(sha(body.subarray(3 * MIB)), sha(content));
  });

  it("declines a chunked response and a file that is not regular, sending nothing", async () => {
    outcomes = [];
    route = async (req, res) => {
      if (req.url === "/chunked") {
        const fd = openSync(small, "r");
        try {
          res.writeHead(200);
          return await sendFileByKernel(fd, res, Number.POSITIVE_INFINITY);
        } finally {
          closeSync(fd);
        }
      }
      const fd = openSync("/dev/null", "r");
      try {
        res.writeHead(200, { "Content-Length": "0" });
        return await sendFileByKernel(fd, res, 10);
      } finally {
        closeSync(fd);
      }
    };
    const chunked = await get("/chunked");
    await handlersSettled(1);
    assert.equal(outcomes[0]?.result, undefined);
    assert.ok(chunked.toString("latin1").endsWith("\r\n\r\n0\r\n\r\n"));
    outcomes = [];
    await get("/dev-null");
    await handlersSettled(1);
    assert.equal(outcomes[0]?.result, undefined);
    assert.equal(outcomes[0]?.error, undefined);
  });

  it("rejects with the errno for a file it may not read (opened for appending)", async () => {
    outcomes = [];
    const appendOnly = join(dir, "append-only.bin");
    writeFileSync(appendOnly, "some bytes");
    route = sending(appendOnly, 10, "a");
    await get();
    await handlersSettled(1);
    const error = outcomes[0]?.error as NodeJS.ErrnoException | undefined;
    assert.equal(error?.code, "EBADF");
    assert.equal(error?.syscall, "sendfile");
    assert.equal(error?.message, "sendfile failed: EBADF");
  });

  it("waits for a client that stops reading, and finishes when it reads again", async () => {
    outcomes = [];
    route = sending(big, 64 * MIB);
    const socket = connect(port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    await once(socket, "data");
    socket.pause();
    // Long enough for the step waiting on the full socket to give up its thread and
    // be queued again (50 ms); the outcome does not depend on the timing.
    await new Promise((resolve) => setTimeout(resolve, 150));
    let received = 0;
    socket.on("data", (c: Buffer) => {
      received += c.length;
    });
    socket.resume();
    await once(socket, "close");
    await handlersSettled(1);
    assert.deepEqual(outcomes[0]?.result, { sent: 64 * MIB, ended: false });
    assert.ok(received > 60 * MIB, `received ${received}`);
  });

  it("rejects with a disconnect when the client leaves, and gives its descriptors back", async () => {
    outcomes = [];
    const before = openFds();
    route = sending(big, 64 * MIB);
    const socket = connect(port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await once(socket, "data");
    socket.resetAndDestroy();
    await handlersSettled(1);
    const error = outcomes[0]?.error as NodeJS.ErrnoException | undefined;
    assert.ok(error instanceof Error, `settled with ${String(outcomes[0]?.result)}`);
    assert.match(error.message, /client connection/);
    // The server's own socket may take a moment to close: its fd is not ours.
    assert.ok(openFds() <= before + 1, `${openFds()} fds open, ${before} before`);
  });

  it("gives up a send its client takes nothing of for the send timeout, and frees its slot", async (t) => {
    outcomes = [];
    kernel.sendTimeout = 200;
    t.after(() => {
      kernel.sendTimeout = 0;
    });
    const stalling: Route = async (req, res) => sending(big, 64 * MIB)(req, res);
    route = stalling;
    const clients: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      await once(socket, "data");
      // Reading no more: both hold a slot until they time out.
      socket.pause();
      clients.push(socket);
    }
    await handlersSettled(2);
    for (const outcome of outcomes) {
      assert.match(String((outcome.error as Error | undefined)?.message), /client connection/);
    }
    // Both slots are free again: the next file goes by sendfile(2), whole.
    route = sending(small, content.length);
    const body = bodyOf(await get());
    await handlersSettled(3);
    assert.deepEqual(outcomes[2]?.result, { sent: content.length, ended: false });
    assert.equal(sha(body), sha(content));
    for (const socket of clients) socket.destroy();
  });

  it("holds at most half the thread pool; past that it declines", async () => {
    outcomes = [];
    route = sending(big, 64 * MIB);
    const clients: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.write("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      await once(socket, "data");
      // Reading no more: the first two hold their slots.
      socket.pause();
      clients.push(socket);
    }
    // The third was declined at once, and its handler ended the response.
    await handlersSettled(1);
    assert.equal(outcomes.filter((o) => "result" in o && o.result === undefined).length, 1);
    for (const socket of clients) {
      socket.resume();
      socket.on("data", () => undefined);
    }
    await Promise.all(clients.map((socket) => once(socket, "close")));
    await handlersSettled(3);
    assert.equal(outcomes.filter((o) => o.result?.sent === 64 * MIB).length, 2);
  });
});
