/**
 * Fault injection, the client side: a client that goes away at every phase of an
 * exchange (the request line, the headers, the body upload in memory and spooled,
 * the response headers, mid-body for each kind of body, during a sendfile), by a
 * clean close (FIN) and by a reset (RST). After each: the server answers the
 * next request, every body was closed exactly once, no temporary file is left and
 * no file descriptor leaked (tests/helpers/fault-bench.ts).
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync, watch, writeSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServerConnection } from "../../src/simple-server.js";
import type { WSGIBody, WSGIEnvironment } from "../../src/types.js";
import { FileWrapper, openFile } from "../../src/util.js";
import { Bench } from "../helpers/fault-bench.js";
import { open } from "../helpers/server-client.js";

const MiB = 1024 * 1024;
const BLOCK = Buffer.alloc(64 * 1024, 0x61);

/** How the client leaves: a clean close, or a reset. */
const LEAVES: Array<[string, (socket: Socket) => void]> = [
  ["closes", (socket) => socket.destroy()],
  ["resets", (socket) => socket.resetAndDestroy()],
];

/** The server's side of the request's connection. */
function serverSocket(environ: WSGIEnvironment): Socket {
  return (environ["wsgiref.connection"] as ServerConnection).socket;
}

/** Resolve once `socket` has closed (at once if it has). */
function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : once(socket, "close").then(() => undefined);
}

/**
 * Resolve once the client of `socket` (the server's side) has gone: a reset
 * closes it; a clean close only ends it, since the server allows half-open
 * connections (a client may half-close once its request is sent).
 */
function clientGone(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("end", resolve);
    socket.once("close", resolve);
  });
}

/** Connect, send `data`, and wait for the connection to be seen by the server's parser. */
async function send(port: number, data: string | Buffer): Promise<Socket> {
  const socket = await open(port);
  socket.on("error", () => undefined);
  if (data.length > 0) {
    await new Promise<void>((resolve, reject) =>
      socket.write(data, (err) => (err ? reject(err) : resolve())),
    );
  }
  return socket;
}

/** Wait for the first bytes of the response, then leave. */
async function leaveAfterFirstBytes(
  socket: Socket,
  leave: (socket: Socket) => void,
): Promise<void> {
  await once(socket, "data");
  leave(socket);
  await closed(socket);
}

describe("WSGIServer and clients that leave", () => {
  let bench: Bench;
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-client-faults-"));
  const bigFile = join(dir, "32MiB.bin");

  before(async () => {
    const fd = openSync(bigFile, "w");
    for (let i = 0; i < 32 * 16; i++) writeSync(fd, BLOCK);
    closeSync(fd);
    bench = await Bench.start("client-faults", { server: { spoolThreshold: 1024 } });
    // libuv opens one inotify descriptor on first use and keeps it: open it before counting.
    watch(bench.temp).close();
    // An upload: the app reads it all and says how long it was.
    bench.route("/upload", (environ, startResponse) => {
      const body = environ["wsgi.input"]!.read();
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return bench.track("/upload", [Buffer.from(String(body.length))]);
    });
    // Answers only once its client has gone: the headers go to a closed connection.
    bench.route("/late-headers", async (environ, startResponse) => {
      await clientGone(serverSocket(environ));
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return bench.track("/late-headers", [Buffer.from("too late")]);
    });
    // The same through the write callable, which sends the headers itself.
    bench.route("/late-write", async (environ, startResponse) => {
      await clientGone(serverSocket(environ));
      const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
      write(Buffer.from("too late"));
      return bench.track("/late-write", []);
    });
    const endless: Record<string, () => WSGIBody> = {
      "/endless-sync": () =>
        (function* () {
          for (;;) yield BLOCK;
        })(),
      "/endless-async": () =>
        (async function* () {
          for (;;) yield BLOCK;
        })(),
      "/large-array": () => Array.from({ length: 256 }, () => BLOCK),
      "/large-length": () => Array.from({ length: 256 }, () => BLOCK),
    };
    for (const [path, make] of Object.entries(endless)) {
      bench.route(path, (_environ, startResponse) => {
        const headers: Array<[string, string]> = [["Content-Type", "application/octet-stream"]];
        if (path === "/large-length") headers.push(["Content-Length", String(256 * BLOCK.length)]);
        startResponse("200 OK", headers);
        return bench.track(path, make());
      });
    }
    // A FileWrapper over a file descriptor: the server's sendfile path.
    bench.route("/sendfile", (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      const Wrapper = environ["wsgi.file_wrapper"] as typeof FileWrapper;
      return bench.track("/sendfile", new Wrapper(openFile(bigFile)));
    });
    // The same file iterated in JavaScript (a FileWrapper over a file-like without fd).
    bench.route("/file-iterated", (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      const file = openFile(bigFile);
      const filelike = { read: (n: number) => file.read(n), close: () => file.close() };
      return bench.track("/file-iterated", new FileWrapper(filelike, 64 * 1024));
    });
  });

  /** `bench.survives`, and nothing said on wsgi.errors: a client leaving is no error (SPEC §6). */
  async function survives(family: string, inject: () => Promise<void>, faults = 1): Promise<void> {
    assert.equal(await bench.survives(family, inject, faults), "", "nothing on wsgi.errors");
  }

  after(async () => {
    await bench.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [how, leave] of LEAVES) {
    it(`survives a client that ${how} during the request line`, async () => {
      for (const partial of ["G", "GET /upl", "GET /upload HTTP/1."]) {
        await survives("client leaves during the request line", async () => {
          const socket = await send(bench.port, partial);
          leave(socket);
          await closed(socket);
        });
      }
    });

    it(`survives a client that ${how} during the headers`, async () => {
      for (const partial of [
        "GET /upload HTTP/1.1\r\n",
        "GET /upload HTTP/1.1\r\nHost: localhost\r\nX-Long: ",
        "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n",
      ]) {
        await survives("client leaves during the headers", async () => {
          const socket = await send(bench.port, partial);
          leave(socket);
          await closed(socket);
        });
      }
    });

    it(`survives a client that ${how} during a body upload held in memory`, async () => {
      await survives("client leaves during the body upload", async () => {
        // 100 Continue says the server accepted the request and is receiving its body.
        const socket = await send(
          bench.port,
          "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
        );
        await once(socket, "data");
        await new Promise((resolve) => socket.write(Buffer.alloc(500, 0x62), resolve));
        leave(socket);
        await closed(socket);
      });
    });

    it(`survives a client that ${how} during a body upload being spooled to a file`, async () => {
      await survives("client leaves during the body upload", async () => {
        const socket = await send(
          bench.port,
          `POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${MiB}\r\nExpect: 100-continue\r\n\r\n`,
        );
        await once(socket, "data");
        // The spool file is created in the bench's temporary directory (and
        // unlinked at once): leave as soon as it exists.
        const watcher = watch(bench.temp);
        const created = once(watcher, "change");
        socket.write(Buffer.alloc(64 * 1024, 0x62));
        await created;
        watcher.close();
        leave(socket);
        await closed(socket);
      });
    });

    it(`survives a client that ${how} before the response headers are sent`, async () => {
      for (const path of ["/late-headers", "/late-write"]) {
        await survives("client leaves while the response headers are sent", async () => {
          const socket = await send(bench.port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          leave(socket);
          await closed(socket);
        });
      }
    });

    it(`survives a client that ${how} mid-body, for every kind of body`, async () => {
      for (const path of ["/endless-sync", "/endless-async", "/large-array", "/large-length"]) {
        await survives("client leaves mid-body", async () => {
          const socket = await send(bench.port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          await leaveAfterFirstBytes(socket, leave);
        });
      }
    });

    it(`survives a client that ${how} during a sendfile of a 32 MiB file`, async () => {
      for (const path of ["/sendfile", "/file-iterated"]) {
        await survives("client leaves during a sendfile", async () => {
          const socket = await send(bench.port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          await leaveAfterFirstBytes(socket, leave);
        });
      }
    });
  }

  it("survives clients that leave at every phase at once, 20 at a time", async () => {
    const phases = [
      "GET /upl",
      "GET /upload HTTP/1.1\r\nHost: localhost\r\n",
      "GET /endless-sync HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /sendfile HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /late-headers HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ];
    await survives(
      "clients leave at every phase, concurrently",
      async () => {
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const data = phases[i % phases.length] as string;
            const socket = await send(bench.port, data);
            const leave = (LEAVES[i % 2] as [string, (s: Socket) => void])[1];
            if (data.endsWith("\r\n\r\n") && !data.includes("late")) {
              await leaveAfterFirstBytes(socket, leave);
            } else {
              leave(socket);
              await closed(socket);
            }
          }),
        );
      },
      20,
    );
  });
});
