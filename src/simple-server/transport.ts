/**
 * The connection layer in front of the HTTP/1.1 server: what listens, and reads
 * a connection's first bytes before `node:http` has it. In clear text a
 * `net.Server` (with `http2`, the first bytes may be the HTTP/2 preface: h2c
 * with prior knowledge, RFC 9113 §3.3); with TLS a `tls.Server` whose ALPN picks
 * `h2` or `http/1.1` per connection. HTTP/1.1 connections go to the `node:http`
 * server as they are (its `connection` event), HTTP/2 ones to a `node:http2`
 * server whose streams are served by `node-http2.ts`.
 * Neither protocol is parsed here: only the preface and the first line are looked at.
 */

import {
  type Server as HttpServer,
  type IncomingMessage,
  METHODS,
  type ServerResponse,
} from "node:http";
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
import type { RequestHead, RequestPeer } from "../gateway/request-head.js";
import { type Http2SessionPeer, type Http2StreamServer, serveHttp2Stream } from "./node-http2.js";
import type { ResolvedServerOptions } from "./options.js";
import type { RequestHandlerServer, WSGIRequestHandler } from "./request-handler.js";
import { serverVersion, softwareVersion } from "./server-handler.js";

/** The client connection preface every HTTP/2 connection opens with (RFC 9113 §3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** What answers a connection refused before node:http has it: the status and its first line. */
export type Refuse = (socket: Socket, status: number, requestline: string) => void;

const EMPTY: Buffer = Buffer.alloc(0);

// A method, a space and a target, and nothing after: a request line without its
// HTTP version (RFC 9112 §3 requires one).
const VERSIONLESS = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) [^ ]+$/;

/** The methods llhttp knows: it refuses any other at once (501), before the version. */
const KNOWN_METHODS = new Set(METHODS);

/** How far the first line is read before node:http is left to judge it (bytes). */
const FIRST_LINE_MAX = 8192;

/**
 * What the clear-text front gives its sockets, as node:http's own server does: a
 * client may half-close once its request is sent and still be answered (the
 * server's `httpAllowHalfOpen`), which a socket that ended its side with the
 * client's would not let it; and no Nagle delay on responses.
 */
const FRONT = { allowHalfOpen: true, noDelay: true } as const;

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
 * application as they are when each stream comes. One of its request handler
 * class per request logs it and gives `wsgi.errors` (`logRequest`,
 * `getStderr`), so a subclass's log applies to HTTP/2 too; it is given the
 * request's head only.
 */
export function transportStreams(host: TransportHost): Http2StreamServer {
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
    requestLog: (head: RequestHead): WSGIRequestHandler =>
      new host.requestHandlerClass(
        head as unknown as IncomingMessage,
        undefined as unknown as ServerResponse,
        host as never,
      ),
    get dates() {
      return host.dates;
    },
    software: serverVersion,
    serverHeader: softwareVersion,
  };
}

/**
 * One open HTTP/2 session: its peer, read once (through the session the socket
 * is a Proxy), and its idle timer. A session with no stream being served for
 * `keepAliveTimeout` is closed (GOAWAY), as an idle HTTP/1.1 connection is.
 * Not node:http2's session timeout: that is refreshed by every frame read or
 * written, several times for each stream. One timer for the session's life,
 * not one per quiet moment: a busy session goes quiet between most of its
 * streams, so the timer, when it fires, looks at how long the session has been
 * quiet and waits for the rest.
 */
class SessionState implements Http2SessionPeer {
  readonly peer: RequestPeer;
  readonly #session: Http2Session;
  readonly #keepAliveTimeout: number;
  readonly #streamDone: () => void;
  #streams = 0;
  /** When the last stream being served was done (`performance.now()`). */
  #quietSince: number;
  #idle: NodeJS.Timeout | undefined;

  /** `streamDone` is told of each of its streams that is done, after the session. */
  constructor(session: Http2Session, keepAliveTimeout: number, streamDone: () => void) {
    const socket = session.socket;
    this.peer = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
    this.#session = session;
    this.#keepAliveTimeout = keepAliveTimeout;
    this.#streamDone = streamDone;
    this.#quietSince = performance.now();
    this.#arm(keepAliveTimeout);
  }

  /** A stream of the session is being served. */
  opened(): void {
    this.#streams += 1;
  }

  /** A stream of the session is done. */
  readonly done = (): void => {
    this.#streams -= 1;
    if (this.#streams === 0) this.#quietSince = performance.now();
    this.#streamDone();
  };

  /** The session closed: no timer is left behind. */
  closed(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  #arm(delay: number): void {
    if (this.#keepAliveTimeout <= 0 || this.#session.closed || this.#session.destroyed) return;
    this.#idle = setTimeout(this.#check, delay);
    this.#idle.unref();
  }

  /** The timer fired: close the session if it has been quiet long enough, else wait on. */
  readonly #check = (): void => {
    this.#idle = undefined;
    const timeout = this.#keepAliveTimeout;
    if (this.#streams > 0) {
      this.#arm(timeout);
      return;
    }
    const quiet = performance.now() - this.#quietSince;
    if (quiet >= timeout) this.#session.close();
    else this.#arm(Math.max(1, Math.ceil(timeout - quiet)));
  };
}

/** The peer of a stream that has no session any more (its client reset it): unknown. */
const NO_PEER: Http2SessionPeer = Object.freeze({ peer: Object.freeze({}) });

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
 *
 * Each connection costs the front one read before node:http has it: its
 * parser then consumes the socket natively, as when node:http listens itself,
 * and nothing here sees the requests after the first line.
 */
export class Transport {
  /** The server that listens: a `tls.Server` with `tls`, else a `net.Server`. */
  readonly listener: NetServer;
  /** The `node:http2` server, when HTTP/2 is offered. */
  readonly http2Server: Http2Server | undefined;
  readonly #httpServer: HttpServer;
  readonly #options: TransportOptions;
  readonly #refuse: Refuse;
  /** Each open HTTP/2 session, with its peer. */
  readonly #sessions = new Map<Http2Session, SessionState>();
  /** HTTP/2 streams being served. */
  #streams = 0;
  /** Resolves `closed()`'s wait once no stream is being served. */
  #streamsDone: (() => void) | undefined;
  readonly #streamDone = (): void => {
    this.#streams -= 1;
    const done = this.#streamsDone;
    if (this.#streams === 0 && done !== undefined) {
      this.#streamsDone = undefined;
      done();
    }
  };
  /** Connections whose first line the front is still reading. */
  readonly #opening = new Set<Socket>();
  #closed = false;

  /**
   * `refuse` answers a connection whose first request line has no HTTP version,
   * or that ends before its first line does (400), and logs it, as the server
   * answers what node:http cannot parse.
   */
  constructor(
    httpServer: HttpServer,
    options: TransportOptions,
    streams: Http2StreamServer,
    refuse: Refuse,
  ) {
    this.#httpServer = httpServer;
    this.#options = options;
    this.#refuse = refuse;
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
        this.#open(session);
      });
      h2.on(
        "stream",
        (
          stream: ServerHttp2Stream,
          headers: IncomingHttpHeaders,
          _flags: number,
          rawHeaders: string[],
        ) => {
          // A stream already reset by its client has no session any more.
          const session = stream.session;
          const state = session === undefined ? undefined : this.#sessions.get(session);
          this.#streams += 1;
          if (state === undefined) {
            serveHttp2Stream(stream, headers, rawHeaders, streams, NO_PEER, this.#streamDone);
          } else {
            state.opened();
            serveHttp2Stream(stream, headers, rawHeaders, streams, state, state.done);
          }
        },
      );
      this.http2Server = h2;
    }
    if (options.tls !== undefined) {
      const server = createTlsServer({
        ...options.tls,
        // As node:https's own server: not `FRONT`'s half-open sockets. A TLS
        // socket left half-open by a client that stopped reading kept its
        // descriptor once the client was gone (npm run hostile -- --tls).
        noDelay: true,
        ALPNProtocols: options.http2 ? ["h2", "http/1.1"] : ["http/1.1"],
        handshakeTimeout: options.headersTimeout > 0 ? options.headersTimeout : 120_000,
      });
      server.on("secureConnection", (socket: TLSSocket) => {
        // Its handshake ended after close(): it is idle, as those closed then.
        if (this.#closed) socket.destroy();
        else if (socket.alpnProtocol === "h2" && this.http2Server !== undefined) {
          this.#toHttp2(socket);
        } else {
          this.#sniff(socket, false);
        }
      });
      // A failed handshake is the client's business: its socket is destroyed.
      server.on("tlsClientError", (_err, socket) => socket.destroy());
      this.listener = server;
    } else {
      const server = createNetServer({ ...FRONT, pauseOnConnect: true }, (socket) =>
        this.#sniff(socket, options.http2),
      );
      this.listener = server;
    }
  }

  /** The number of HTTP/2 streams being served. */
  get activeStreams(): number {
    return this.#streams;
  }

  /**
   * Stop accepting, close the connections whose first line has not come (idle,
   * to node:http too; one still in its TLS handshake, once that ends, within
   * `headersTimeout`), and close every HTTP/2 session gracefully (GOAWAY, open
   * streams finish, within `CLOSE_GRACE`); resolves when they are done and every
   * connection accepted has closed. The HTTP/1.1 connections are the
   * `node:http` server's to close.
   */
  async close(): Promise<void> {
    const listening = new Promise<void>((resolve) => {
      if (!this.listener.listening) resolve();
      else this.listener.close(() => resolve());
    });
    this.#closed = true;
    for (const socket of this.#opening) socket.destroy();
    await listening;
    for (const session of this.#sessions.keys()) session.close();
    const grace = setTimeout(() => {
      for (const session of this.#sessions.keys()) session.destroy();
    }, CLOSE_GRACE);
    if (this.#streams > 0) {
      await new Promise<void>((resolve) => {
        const before = this.#streamsDone;
        this.#streamsDone = () => {
          before?.();
          resolve();
        };
      });
    }
    await Promise.all(
      [...this.#sessions.keys()].map(
        (session) => new Promise<void>((resolve) => session.once("close", () => resolve())),
      ),
    );
    clearTimeout(grace);
  }

  /** Start keeping `session`: its state, its idle timer, its end. */
  #open(session: Http2Session): void {
    const state = new SessionState(session, this.#options.keepAliveTimeout, this.#streamDone);
    this.#sessions.set(session, state);
    session.on("error", () => undefined);
    session.once("close", () => {
      state.closed();
      this.#sessions.delete(session);
    });
  }

  /** Hand an HTTP/2 connection to the node:http2 server. */
  #toHttp2(socket: Socket): void {
    // As node:http2's own server: a client's end of the stream ends the session's.
    socket.allowHalfOpen = false;
    (this.http2Server as Http2Server).emit("connection", socket);
  }

  /**
   * Read a connection's first bytes, then put them back and hand it on: with
   * `h2c`, the HTTP/2 preface makes it an HTTP/2 connection; otherwise it is
   * HTTP/1.1, unless its first line is a request line with no HTTP version
   * and a method llhttp knows (`GET /x`, an HTTP/0.9 request to llhttp, which
   * would wait for a header section until `headersTimeout`; another method it
   * refuses at once, 501): that is answered 400 at once and closed, as
   * gunicorn does. Bytes are read until the first line ends (at most
   * `FIRST_LINE_MAX`): node:http gets the connection as it came, with its end
   * still to come when the client sent it with the request. A client that
   * ends the connection before its first line has ended sent no request:
   * nothing (or only empty lines) is closed quietly, a part of a line gets 400,
   * as node:http answers either.
   */
  #sniff(socket: Socket, h2c: boolean): void {
    let received = EMPTY;
    const opening = this.#opening;
    opening.add(socket);
    const timer =
      this.#options.headersTimeout > 0
        ? setTimeout(() => {
            stop();
            // A line begun gets node:http's answer to a head not done in time.
            const line = begun(received);
            if (line === undefined) socket.destroy();
            else this.#refuse(socket, 408, line);
          }, this.#options.headersTimeout)
        : undefined;
    // The error listener stays while the front answers or closes the socket
    // itself (a client gone meanwhile is no crash); node:http and node:http2
    // put their own.
    const stop = (): void => {
      clearTimeout(timer);
      opening.delete(socket);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", stop);
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let isPreface = false;
      if (h2c) {
        const compared = Math.min(received.length, PREFACE.length);
        isPreface = received.subarray(0, compared).equals(PREFACE.subarray(0, compared));
        // Not yet enough bytes to tell: wait for more.
        if (isPreface && received.length < PREFACE.length) return;
      }
      const line = isPreface ? undefined : firstLine(received);
      if (line === null) return;
      stop();
      if (line !== undefined && isVersionless(line)) {
        socket.pause();
        this.#refuse(socket, 400, line);
        // Read on and dropped until the client closes (see refuseConnection).
        socket.resume();
        return;
      }
      socket.off("error", onError);
      if (isPreface) {
        // node:http2 takes what the socket holds when it gets it.
        socket.pause();
        socket.unshift(received);
        this.#toHttp2(socket);
      } else {
        // node:http listens first: the bytes put back then go to its parser at
        // once (the socket is flowing), and the socket's end, if read with
        // them, comes after, to its listener.
        this.#httpServer.emit("connection", socket);
        socket.unshift(received);
      }
    };
    const onEnd = (): void => {
      stop();
      const line = begun(received);
      if (line === undefined) socket.end();
      else this.#refuse(socket, 400, line);
    };
    const onError = (): void => {
      stop();
      socket.destroy();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", stop);
    socket.resume();
  }
}

/**
 * Whether `line` is a request line without its HTTP version that llhttp would
 * take for HTTP/0.9 and wait for a header section after.
 */
function isVersionless(line: string): boolean {
  const method = VERSIONLESS.exec(line)?.[1];
  return method !== undefined && KNOWN_METHODS.has(method);
}

/** Where the first line of `bytes` starts: after the empty lines RFC 9112 §2.2 lets a server skip. */
function lineStart(bytes: Buffer): number {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 0x0d || bytes[start] === 0x0a)) start++;
  return start;
}

/** The part of a first line `bytes` holds, for the log; `undefined` when none has begun. */
function begun(bytes: Buffer): string | undefined {
  const start = lineStart(bytes);
  if (start === bytes.length) return undefined;
  // Up to its end or the bytes' (only a partial HTTP/2 preface has a line end here).
  return bytes.toString("latin1", start, start + FIRST_LINE_MAX).replace(/\r?\n[\s\S]*$|\r$/, "");
}

/**
 * The first line of `bytes` (without CR LF; empty lines before it skipped, as
 * RFC 9112 §2.2 lets a server), `null` while it has not ended, `undefined` when
 * it, or the empty lines and it, are longer than `FIRST_LINE_MAX` (node:http
 * then judges it).
 */
function firstLine(bytes: Buffer): string | null | undefined {
  const start = lineStart(bytes);
  const lf = bytes.indexOf(0x0a, start);
  if (lf === -1) return bytes.length > FIRST_LINE_MAX ? undefined : null;
  if (lf - start > FIRST_LINE_MAX) return undefined;
  const end = lf > start && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
  return bytes.toString("latin1", start, end);
}
