/**
 * The connection layer for HTTPS and HTTP/2 in front of the HTTP/1.1 server: a
 * `tls.Server` whose ALPN picks `h2` or `http/1.1` per connection, or, in clear
 * text, a `net.Server` that reads a connection's first bytes for the HTTP/2
 * preface (h2c with prior knowledge, RFC 9113 §3.3). HTTP/1.1 connections go to
 * the `node:http` server as they are (its `connection` event), HTTP/2 ones to a
 * `node:http2` server whose streams are served by `node-http2.ts`.
 * Neither protocol is parsed here: only the preface is compared.
 */

import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from "node:tls";
import type { RequestHead } from "../gateway/request-head.js";
import { type Http2StreamServer, serveHttp2Stream } from "./node-http2.js";
import type { ResolvedServerOptions } from "./options.js";
import type { RequestHandlerServer, WSGIRequestHandler } from "./request-handler.js";
import { serverVersion, softwareVersion } from "./server-handler.js";

/** The client connection preface every HTTP/2 connection opens with (RFC 9113 §3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** How long a closing server lets its HTTP/2 sessions finish their streams before it cuts them. */
const CLOSE_GRACE = 10_000;

/** What serving HTTP/2 streams needs of a `WSGIServer` (structural: this module does not import it). */
export interface TransportHost extends RequestHandlerServer {
  readonly options: ResolvedServerOptions;
  /** Built with the host itself as its server (`never`: any server class fits). */
  readonly requestHandlerClass: new (
    request: IncomingMessage,
    response: ServerResponse,
    server: never,
  ) => WSGIRequestHandler;
}

/**
 * Serve `host`'s application on HTTP/2 streams: its options, environ and
 * application as they are when each stream comes. Its request handler class
 * logs each request and gives `wsgi.errors` (`logRequest`, `getStderr`), so a
 * subclass's log applies to HTTP/2 too; it is given the request's head only.
 */
export function transportStreams(host: TransportHost): Http2StreamServer {
  const handlerFor = (head: RequestHead): WSGIRequestHandler =>
    new host.requestHandlerClass(
      head as unknown as IncomingMessage,
      undefined as unknown as ServerResponse,
      host as never,
    );
  const empty: RequestHead = {
    httpVersion: "2",
    httpVersionMajor: 2,
    httpVersionMinor: 0,
    rawHeaders: [],
    socket: {},
  };
  return {
    get options() {
      return host.options;
    },
    get baseEnviron() {
      return host.baseEnviron;
    },
    get wsgiMultiprocess() {
      return host.wsgiMultiprocess;
    },
    getApp: () => host.getApp(),
    get stderr() {
      return handlerFor(empty).getStderr();
    },
    software: serverVersion,
    serverHeader: softwareVersion,
    logRequest(head, code, size) {
      handlerFor(head).logRequest(code, size);
    },
  };
}

/** What the transport is built from: the server's options that concern connections. */
export interface TransportOptions {
  /** Node's secure-context options: HTTPS when given. */
  tls: SecureContextOptions | undefined;
  /** Whether HTTP/2 is offered (ALPN `h2` over TLS; h2c by preface in clear text). */
  http2: boolean;
  /** Most bytes of a request head (HTTP/2: the header list, as `SETTINGS_MAX_HEADER_LIST_SIZE`). */
  maxHeaderSize: number;
  /** Most header fields of a request. */
  maxHeaders: number;
  /** How long a connection may take to open (TLS handshake, preface) and to send a head. */
  headersTimeout: number;
  /** How long an idle HTTP/2 session is kept. */
  keepAliveTimeout: number;
  /** How long a response may wait for the client to take its data (a closed window). */
  sendTimeout: number;
  /** Most streams one HTTP/2 session may have open at once. */
  maxConcurrentStreams: number;
}

/**
 * Accept connections for `httpServer` (HTTP/1.1) and, when `http2`, for an HTTP/2
 * server serving through `streams`. `listener` is what listens.
 */
export class Transport {
  /** The server that listens: a `tls.Server` with `tls`, else a `net.Server`. */
  readonly listener: NetServer;
  /** The `node:http2` server, when HTTP/2 is offered. */
  readonly http2Server: Http2Server | undefined;
  readonly #httpServer: HttpServer;
  readonly #options: TransportOptions;
  readonly #sessions = new Set<Http2Session>();
  readonly #streams = new Set<Promise<void>>();

  constructor(httpServer: HttpServer, options: TransportOptions, streams: Http2StreamServer) {
    this.#httpServer = httpServer;
    this.#options = options;
    if (options.http2) {
      const h2 = createHttp2Server({
        // Room past maxHeaders so that the request stage answers 431 as over
        // HTTP/1.1; far past it, node:http2 resets the stream itself.
        maxHeaderListPairs: options.maxHeaders * 2 + 8,
        maxSessionMemory: 10,
        settings: {
          maxConcurrentStreams: options.maxConcurrentStreams,
          maxHeaderListSize: options.maxHeaderSize,
        },
      });
      h2.on("session", (session: Http2Session) => {
        this.#sessions.add(session);
        session.on("error", () => undefined);
        session.once("close", () => this.#sessions.delete(session));
        if (options.keepAliveTimeout > 0) {
          // An idle session (no frame either way) is closed, as an idle HTTP/1.1 connection is.
          session.setTimeout(options.keepAliveTimeout, () => session.close());
        }
      });
      h2.on(
        "stream",
        (
          stream: ServerHttp2Stream,
          headers: IncomingHttpHeaders,
          _flags: number,
          rawHeaders: string[],
        ) => {
          if (options.sendTimeout > 0) {
            // A client that never opens its window would hold the response for ever.
            stream.setTimeout(options.sendTimeout, () => stream.close(0x8)); // CANCEL
          }
          const serving = serveHttp2Stream(stream, headers, rawHeaders, streams);
          this.#streams.add(serving);
          void serving.finally(() => this.#streams.delete(serving));
        },
      );
      this.http2Server = h2;
    }
    if (options.tls !== undefined) {
      const server = createTlsServer({
        ...options.tls,
        ALPNProtocols: options.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
        handshakeTimeout: options.headersTimeout > 0 ? options.headersTimeout : 120_000,
      });
      server.on("secureConnection", (socket: TLSSocket) => {
        if (socket.alpnProtocol === "h2" && this.http2Server !== undefined) {
          this.http2Server.emit("connection", socket);
        } else {
          this.#httpServer.emit("connection", socket);
        }
      });
      // A failed handshake is the client's business: its socket is destroyed.
      server.on("tlsClientError", (_err, socket) => socket.destroy());
      this.listener = server;
    } else {
      const server = createNetServer({ pauseOnConnect: true }, (socket) => this.#sniff(socket));
      this.listener = server;
    }
  }

  /** The number of HTTP/2 streams being served. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /**
   * Stop accepting and close every HTTP/2 session gracefully (GOAWAY, open
   * streams finish, within `CLOSE_GRACE`); resolves when they are done. The
   * HTTP/1.1 connections are the `node:http` server's to close.
   */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.listener.listening) resolve();
      else this.listener.close(() => resolve());
    });
    for (const session of this.#sessions) session.close();
    const grace = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
    }, CLOSE_GRACE);
    await Promise.all([...this.#streams]);
    await Promise.all(
      [...this.#sessions].map(
        (session) => new Promise<void>((resolve) => session.once("close", () => resolve())),
      ),
    );
    clearTimeout(grace);
  }

  /**
   * Read a clear-text connection's first bytes: the HTTP/2 preface makes it h2c
   * (with `http2`), anything else HTTP/1.1. The bytes read are put back first.
   */
  #sniff(socket: Socket): void {
    if (this.http2Server === undefined) {
      this.#httpServer.emit("connection", socket);
      socket.resume();
      return;
    }
    let received = Buffer.alloc(0);
    const timer =
      this.#options.headersTimeout > 0
        ? setTimeout(() => socket.destroy(), this.#options.headersTimeout)
        : undefined;
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, PREFACE.length);
      const isPreface = received.subarray(0, compared).equals(PREFACE.subarray(0, compared));
      // Not yet enough bytes to tell: wait for more.
      if (isPreface && received.length < PREFACE.length) return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.pause();
      socket.unshift(received);
      const server = isPreface ? (this.http2Server as Http2Server) : this.#httpServer;
      server.emit("connection", socket);
      if (!isPreface) socket.resume();
    };
    const onError = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.once("close", () => clearTimeout(timer));
    socket.resume();
  }
}
