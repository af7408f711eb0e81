/**
 * Clients and fixtures for the simple-server tests: a server on 127.0.0.1 port 0
 * serving until closed, raw-socket exchanges that return every byte the server
 * sent, and a small HTTP/1.1 response parser to read them back.
 */

import { once } from "node:events";
import { connect, type Socket } from "node:net";
import {
  makeServer,
  type RequestHandlerClass,
  type ServerOptions,
  WSGIRequestHandler,
  type WSGIServer,
} from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";

/** A running server and how to reach it. */
export interface Running {
  httpd: WSGIServer;
  port: number;
  /** serveForever()'s promise. */
  served: Promise<void>;
  /** Close the server (gracefully) and wait for serveForever() to return. */
  close(): Promise<void>;
}

/** Start `app` on 127.0.0.1, a free port, quiet unless `options` says otherwise. */
export async function serve(
  app: WSGIApplication,
  options: ServerOptions = {},
  handlerClass: RequestHandlerClass = WSGIRequestHandler,
): Promise<Running> {
  const httpd = await makeServer("127.0.0.1", 0, app, undefined, handlerClass, {
    quiet: true,
    ...options,
  });
  const served = httpd.serveForever();
  return {
    httpd,
    port: httpd.serverAddress[1],
    served,
    async close() {
      await httpd.serverClose();
      await served;
    },
  };
}

/** Open a connection to 127.0.0.1:`port`. */
export async function open(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  return socket;
}

/** Collect everything `socket` receives until it closes (errors such as a reset end it too). */
export function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Send `data` in one write, then half-close, and return every byte the server
 * sent before it closed the connection.
 */
export async function exchange(port: number, data: string | Uint8Array): Promise<Buffer> {
  const socket = await open(port);
  const received = collect(socket);
  socket.end(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  return received;
}

/** One parsed response. */
export interface ParsedResponse {
  statusLine: string;
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Whether the body ended as its framing said (false: cut short). */
  complete: boolean;
  /** Whether it was sent chunked. */
  chunked: boolean;
}

/** The first value of header `name`, in any case. */
export function header(response: ParsedResponse, name: string): string | undefined {
  const lower = name.toLowerCase();
  return response.headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/**
 * Parse the HTTP/1.1 responses in `bytes`, in order. `headRequests` lists, by
 * position, the responses to HEAD (which have no body whatever they say).
 */
export function parseResponses(bytes: Buffer, headRequests: number[] = []): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf("\r\n\r\n", at);
    if (end === -1)
      throw new Error(`incomplete header section: ${bytes.subarray(at).toString("latin1")}`);
    const lines = bytes.subarray(at, end).toString("latin1").split("\r\n");
    const statusLine = lines.shift() as string;
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    at = end + 4;
    const status = Number(statusLine.split(" ")[1]);
    const response: ParsedResponse = {
      statusLine,
      status,
      headers,
      body: Buffer.alloc(0),
      complete: true,
      chunked: false,
    };
    responses.push(response);
    const noBody =
      headRequests.includes(responses.length - 1) ||
      status === 204 ||
      status === 304 ||
      (status >= 100 && status < 200);
    if (noBody) continue;
    const length = header(response, "Content-Length");
    if (header(response, "Transfer-Encoding")?.toLowerCase() === "chunked") {
      response.chunked = true;
      const parts: Buffer[] = [];
      response.complete = false;
      for (;;) {
        const lineEnd = bytes.indexOf("\r\n", at);
        if (lineEnd === -1) break;
        const size = Number.parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
        if (size === 0) {
          const trailerEnd = bytes.indexOf("\r\n", lineEnd + 2);
          if (trailerEnd === -1) break;
          at = trailerEnd + 2;
          response.complete = true;
          break;
        }
        if (lineEnd + 2 + size + 2 > bytes.length) {
          parts.push(bytes.subarray(lineEnd + 2));
          at = bytes.length;
          break;
        }
        parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      response.body = Buffer.concat(parts);
    } else if (length !== undefined) {
      const n = Number(length);
      response.body = bytes.subarray(at, at + n);
      response.complete = response.body.length === n;
      at += response.body.length;
    } else {
      response.body = bytes.subarray(at);
      at = bytes.length;
    }
  }
  return responses;
}

/** Replace the value of every `Date` header by `<date>`, so exact bytes can be compared. */
export function normaliseDate(text: string): string {
  return text.replace(/^Date: [^\r\n]*$/gm, "Date: <date>");
}

/** A request with the usual Host header: `request("GET", "/x")`. */
export function request(
  method: string,
  target: string,
  headers: string[] = [],
  body = "",
  version = "HTTP/1.1",
): string {
  return `${method} ${target} ${version}\r\nHost: localhost\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n${body}`;
}
