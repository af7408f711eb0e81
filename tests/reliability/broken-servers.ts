/**
 * Servers that are wrong on purpose, for the network fuzzer's campaign: each is
 * a `Listen` (reliability/net-fuzz/campaign.ts), so the oracle's own tests can
 * show that every way of being wrong is reported. All listen on 127.0.0.1, port 0,
 * and close every connection they accept.
 */

import { Buffer } from "node:buffer";
import { closeSync, openSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { FuzzServer, Listen } from "../../reliability/net-fuzz/campaign.js";
import { FUZZ_OPTIONS } from "../../reliability/net-fuzz/campaign.js";
import { makeServer } from "../../src/simple-server.js";
import type { StartResponse, WSGIApplication } from "../../src/types.js";

/** Listen on 127.0.0.1, port 0, with `onSocket` for each connection. */
async function rawServer(onSocket: (socket: Socket) => void): Promise<FuzzServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers every connection `status` with `Connection: close`, whatever was sent. */
export function alwaysRefuse(status: number): Listen {
  const response = Buffer.from(
    `HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    "latin1",
  );
  return () =>
    rawServer((socket) => {
      socket.once("data", () => socket.end(response));
      socket.resume();
    });
}

/**
 * Frames requests the naive way: a request line starts wherever a line does,
 * bodies are ignored. So it serves the requests hidden in bodies (smuggled), and
 * answers each 200 through the application. With `closeBodies` false it never
 * calls the body's `close()`.
 */
export function naiveFraming(options: { closeBodies: boolean }): Listen {
  return (app) =>
    rawServer((socket) => {
      const chunks: Buffer[] = [];
      let answered = false;
      const answer = (): void => {
        if (answered) return;
        answered = true;
        const text = Buffer.concat(chunks).toString("latin1");
        const out: Buffer[] = [];
        for (const match of text.matchAll(/(?:^|\n)([A-Z]+) (\S+) HTTP\/1\.[01]\r?\n/g)) {
          const environ = {
            REQUEST_METHOD: match[1],
            REQUEST_URI: match[2],
            REMOTE_PORT: String(socket.remotePort),
            "wsgi.input": { read: () => new Uint8Array(0) },
          };
          const startResponse = (() => () => {}) as unknown as StartResponse;
          const body = app(environ as never, startResponse) as Iterable<Uint8Array> & {
            close?: () => void;
          };
          const parts = [...body].map((part) => Buffer.from(part));
          if (options.closeBodies) body.close?.();
          const length = parts.reduce((n, part) => n + part.length, 0);
          out.push(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\n`), ...parts);
        }
        socket.end(Buffer.concat(out));
      };
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("end", answer);
      // A client that never half-closes: answer what came within a moment.
      setTimeout(answer, 500).unref();
    });
}

/** Accepts connections and never answers or closes them (until the campaign ends). */
export function silent(): Listen {
  return () => rawServer(() => {});
}

/**
 * The real server, which also opens a descriptor for every connection and keeps
 * it until the campaign has counted descriptors (it closes them in `close()`).
 */
export function leakingFds(): Listen {
  return async (app: WSGIApplication) => {
    const httpd = await makeServer("127.0.0.1", 0, app, undefined, undefined, FUZZ_OPTIONS);
    const served = httpd.serveForever();
    const leaked: number[] = [];
    httpd.httpServer.on("connection", () => leaked.push(openSync("/dev/null", "r")));
    return {
      port: httpd.serverAddress[1],
      close: async () => {
        for (const fd of leaked) closeSync(fd);
        await httpd.serverClose();
        await served;
      },
    };
  };
}

/** Answers every connection 400, then a 200 after it: an answer after a refusal. */
export function refuseThenServe(): Listen {
  const response = Buffer.from(
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "latin1",
  );
  return () =>
    rawServer((socket) => {
      socket.once("data", () => socket.end(response));
      socket.resume();
    });
}
