/**
 * `WSGIServer` and `makeServer`: an HTTP/1.1 server for one WSGI application, on
 * `node:http`, with Python's serving loop (`serveForever`, `handleRequest`,
 * `shutdown`, `serverClose`).
 *
 * Port of `WSGIServer` and `make_server` from Python's `wsgiref.simple_server`.
 */

import {
  createServer,
  IncomingMessage,
  type Server,
  ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { setSendTimeout } from "../adapters/kernel-sendfile.js";
import { failReceiving, whenAssigned } from "../adapters/node-http.js";
import { show } from "../internal/check.js";
import { isDisconnect } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import type { PartialEnvironment, WSGIApplication } from "../types.js";
import { refuseConnection, refusedRequestLine, whenClientErrorStatus } from "./client-errors.js";
import { endQueued } from "./end-batch.js";
import {
  checkingInterval,
  type ResolvedServerOptions,
  resolveOptions,
  type ServerOptions,
} from "./options.js";
import { WSGIRequestHandler } from "./request-handler.js";
import { Transport, transportStreams } from "./transport.js";

export type { ResolvedServerOptions, ServerOptions } from "./options.js";

/** A request handler class: `WSGIRequestHandler` or a subclass. */
export type RequestHandlerClass = new (
  request: IncomingMessage,
  response: ServerResponse,
  server: WSGIServer,
) => WSGIRequestHandler;

/** A server class: `WSGIServer` or a subclass. */
export type ServerClass = new (
  serverAddress: [string, number],
  requestHandlerClass?: RequestHandlerClass,
  options?: ServerOptions,
) => WSGIServer;

/**
 * How many requests of one connection may wait (pipelined) behind the one being
 * handled before the server stops reading the connection, and how many of them
 * it serves in one turn of the event loop before the other connections get
 * theirs. A client that pipelines deeper is slowed down, not refused.
 */
export const PIPELINE_DEPTH = 16;

/**
 * How many requests of one connection may wait at all: past it the connection
 * is closed at once. Node parses every request of a read (up to 64 KiB, some
 * 2,400 minimal requests) before it can be paused, and keeps each request and
 * its response (about 1.5 KiB) until answered or the connection closes; so the
 * pause alone leaves a connection holding megabytes. A client this far ahead of
 * its responses is flooding, and one that pipelines must retry what a closed
 * connection left unanswered (RFC 9112 §9.3.2).
 */
export const PIPELINE_LIMIT = 128;

/** What the server keeps about each connection. */
class ConnectionState {
  /** A request of this connection is being handled (or is about to be). */
  busy = false;
  /** Its first request waits in the server's pending list (nothing is served yet). */
  pending = false;
  /** No further request of this connection is ever handled. */
  closed = false;
  /** The server stopped reading the connection: its queue is full. */
  paused = false;
  /** Requests served from the queue in a row, in this turn of the event loop. */
  streak = 0;
  /** Requests that arrived (pipelined) while one was handled: request, response, … */
  readonly queue: Array<IncomingMessage | ServerResponse> = [];
  /** The response being written. */
  current: ServerResponse | undefined = undefined;
  /** Whether the socket's own timeout is the server's sendTimeout (see `watchSend`). */
  sendArmed = false;
  readonly socket: Socket | Duplex;

  constructor(socket: Socket | Duplex) {
    this.socket = socket;
    // Node resumes a socket it did not pause itself whenever a request's body is
    // read or a response finishes; while the queue is full, pause it again (in
    // the same tick, so nothing is read in between).
    socket.on("resume", () => {
      if (this.paused) socket.pause();
    });
    // A client that leaves costs nothing more: its queue is dropped at once.
    socket.once("close", () => {
      this.closed = true;
      this.queue.length = 0;
    });
  }

  /**
   * Queue a pipelined request; stop reading the connection when the queue is
   * full. Returns false, having queued nothing, past `PIPELINE_LIMIT`.
   */
  enqueue(req: IncomingMessage, res: ServerResponse): boolean {
    const queue = this.queue;
    if (queue.length >= 2 * PIPELINE_LIMIT) return false;
    queue.push(req, res);
    if (!this.paused && queue.length >= 2 * PIPELINE_DEPTH) {
      this.paused = true;
      this.socket.pause();
    }
    return true;
  }

  /**
   * While bytes wait to be sent, make the socket's own inactivity timeout
   * `sendTimeout`; in the middle of a request once none wait, take it off.
   * Node counts a write that moves only part of its bytes as activity, so only
   * a client that takes nothing at all times out (then "timeout" closes the
   * socket); Node's keep-alive timeout takes the timer over between requests.
   */
  watchSend(sendTimeout: number): void {
    const socket = this.socket as Socket;
    if (typeof socket.setTimeout !== "function") return;
    if (socket.writableLength > 0) {
      // Once only: setting it again would restart the count.
      if (!this.sendArmed || socket.timeout !== sendTimeout) {
        this.sendArmed = true;
        socket.setTimeout(sendTimeout);
      }
    } else if (this.sendArmed) {
      this.sendArmed = false;
      // An application still at work on its answer, with nothing to send now.
      if (this.busy && socket.timeout === sendTimeout) socket.setTimeout(0);
    }
  }

  /**
   * The socket's timeout fired: if it was `sendTimeout`, close the connection.
   * Node closes a socket whose timeout nobody handles; this makes sure of it
   * whoever else listens.
   */
  sendTimedOut(sendTimeout: number): void {
    const socket = this.socket as Socket;
    if (!this.sendArmed || socket.timeout !== sendTimeout) return;
    stopServing(this);
    socket.destroy();
  }

  /** The next queued request and its response; reading goes on once half the queue is free. */
  dequeue(): [IncomingMessage, ServerResponse] | undefined {
    const queue = this.queue;
    if (queue.length === 0) return undefined;
    const next: [IncomingMessage, ServerResponse] = [
      queue.shift() as IncomingMessage,
      queue.shift() as ServerResponse,
    ];
    if (this.paused && queue.length <= PIPELINE_DEPTH) {
      this.paused = false;
      this.socket.resume();
    }
    return next;
  }
}

/**
 * Serve nothing more on the connection: what is pipelined is dropped, and the
 * responses queued to end with the turn go out now, before anything is written
 * straight to the socket, never after it (found by the network fuzzer: a 400
 * inside the chunked response before it).
 */
function stopServing(state: ConnectionState): void {
  state.closed = true;
  state.queue.length = 0;
  endQueued();
}

/**
 * Run `refuse` (an answer written straight to the socket) after the response in
 * progress, never inside it; not at all when that response closes the
 * connection already (a refused request): nothing more is to be said on it.
 */
function refuseAfterCurrent(state: ConnectionState, refuse: () => void): void {
  const current = state.current;
  if (current === undefined || (current.shouldKeepAlive && current.writableFinished)) {
    refuse();
  } else if (current.shouldKeepAlive) {
    current.once("close", refuse);
  }
}

const kState = Symbol("wsgiref.connection");
type TrackedSocket = (Socket | Duplex) & { [kState]?: ConnectionState };

// Serving modes: nothing served, one request (handleRequest), every request.
const IDLE = 0;
const ONE = 1;
const FOREVER = 2;

/**
 * An HTTP/1.1 server for one WSGI application.
 *
 * Built on `node:http`, whose parser (llhttp, strict) frames every request; each
 * request is then handled by an instance of `requestHandlerClass`. Requests of
 * one connection are handled one at a time, in order. Nothing is served until
 * `serveForever()` or `handleRequest()` runs: requests that arrive before wait,
 * as connections wait in a Python server's listen backlog.
 *
 * Create it with `makeServer`, which also binds it.
 *
 * @see Python's `wsgiref.simple_server.WSGIServer`
 */
export class WSGIServer {
  /** `[host, port]`: as given, then as bound by `serverBind()` (the real port). */
  serverAddress: [string, number];
  /** `SERVER_NAME`: the host given, or the machine's name when bound to every interface. */
  serverName = "";
  /** `SERVER_PORT`, as a number. */
  serverPort = 0;
  /** The class whose instances handle the requests. */
  readonly requestHandlerClass: RequestHandlerClass;
  /** The options, with their defaults. */
  readonly options: ResolvedServerOptions;
  /** The `node:http` server underneath. */
  readonly httpServer: Server;
  /** The application served. */
  application: WSGIApplication | undefined = undefined;
  /** The environ every request's starts from, built by `setupEnviron()`. */
  baseEnviron: PartialEnvironment = {};

  #mode = IDLE;
  /** Every open connection that has sent a request, for the send watch. */
  readonly #connections = new Set<ConnectionState>();
  #sendWatch: NodeJS.Timeout | undefined;
  /** Requests waiting for serveForever() or handleRequest(): request, response, … */
  #pending: Array<IncomingMessage | ServerResponse> = [];
  #active = 0;
  #idleWaiters: Array<() => void> = [];
  #one: IncomingMessage | undefined;
  #oneDone: (() => void) | undefined;
  #foreverDone: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #transport: Transport | undefined;

  /**
   * Create a server for `serverAddress`, not yet bound (see `serverBind`).
   *
   * Throws a `TypeError` or `RangeError` for bad options.
   */
  constructor(
    serverAddress: [string, number],
    requestHandlerClass: RequestHandlerClass = WSGIRequestHandler,
    options?: ServerOptions,
  ) {
    checkAddress(serverAddress);
    if (typeof requestHandlerClass !== "function") {
      throw new TypeError(
        `requestHandlerClass must be a WSGIRequestHandler class: ${show(requestHandlerClass)}`,
      );
    }
    this.serverAddress = [serverAddress[0], serverAddress[1]];
    this.requestHandlerClass = requestHandlerClass;
    const resolved = resolveOptions(options);
    this.options = resolved;
    const server = createServer({
      maxHeaderSize: resolved.maxHeaderSize,
      headersTimeout: resolved.headersTimeout,
      requestTimeout: resolved.requestTimeout,
      keepAliveTimeout: resolved.keepAliveTimeout,
      connectionsCheckingInterval: checkingInterval(resolved),
      // Never: lenient parsing is how requests are smuggled.
      insecureHTTPParser: false,
      // Checked by the request handler, with the other Host rules.
      requireHostHeader: false,
    });
    // Keep one field more than allowed, so that too many can be told.
    server.maxHeadersCount = resolved.maxHeaders + 1;
    server.keepAliveTimeout = resolved.keepAliveTimeout;
    // A client may half-close once its request is sent (as `curl` and `nc -N`
    // can): still answer it, then close. Node's default aborts such requests.
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    server.on("request", this.#onRequest);
    // Listening to it stops Node answering 100 Continue before the request is checked.
    server.on("checkContinue", this.#onRequest);
    // And this one stops Node answering 417 itself and keeping the connection open
    // (the request after it was then served): the request handler refuses it.
    server.on("checkExpectation", this.#onRequest);
    server.on("clientError", this.#onClientError);
    server.on("connect", this.#onConnect);
    this.httpServer = server;
    // HTTPS and HTTP/2: a front that hands HTTP/1.1 connections to `server`.
    if (resolved.tls !== undefined || resolved.http2) {
      this.#transport = new Transport(server, resolved, transportStreams(this));
    }
  }

  /**
   * Whether responses are ended together once the requests of a turn of the
   * event loop have been handled (see `end-batch.ts`): while `serveForever()`
   * runs. `handleRequest()` ends its one response at once, so that it is out
   * when the promise resolves.
   */
  get deferEnds(): boolean {
    return this.#mode === FOREVER;
  }

  /** Whether `wsgi.multiprocess` is true: more than one worker. */
  get wsgiMultiprocess(): boolean {
    return this.options.workers > 1;
  }

  /**
   * Bind to `serverAddress` and listen, then `setupEnviron()`. Rejects with Node's
   * error (`EADDRINUSE`, …) when it cannot.
   *
   * @see Python's `WSGIServer.server_bind`
   */
  async serverBind(): Promise<void> {
    const [host, port] = this.serverAddress;
    const server = this.#transport?.listener ?? this.httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: host === "" ? undefined : host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", this.#onServerError);
    const address = server.address() as AddressInfo;
    this.serverAddress = [address.address, address.port];
    const anyInterface = host === "" || host === "0.0.0.0" || host === "::";
    this.serverName = anyInterface ? hostname() : host;
    this.serverPort = address.port;
    this.setupEnviron();
  }

  /**
   * Build `baseEnviron`.
   *
   * @see Python's `WSGIServer.setup_environ`
   */
  setupEnviron(): void {
    this.baseEnviron = {
      SERVER_NAME: this.serverName,
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PORT: String(this.serverPort),
      REMOTE_HOST: "",
      CONTENT_LENGTH: "",
      SCRIPT_NAME: "",
      // Bodies are received whole before the application runs.
      "wsgi.input_terminated": true,
    };
    if (this.options.tls !== undefined) this.baseEnviron.HTTPS = "on";
  }

  /** Return the application. @see Python's `WSGIServer.get_app` */
  getApp(): WSGIApplication | undefined {
    return this.application;
  }

  /** Set the application. @see Python's `WSGIServer.set_app` */
  setApp(application: WSGIApplication): void {
    if (typeof application !== "function") {
      throw new TypeError(`application must be a function: ${show(application)}`);
    }
    this.application = application;
  }

  /**
   * Serve requests until `shutdown()` or `serverClose()`; resolves then, once
   * the requests being handled are done.
   *
   * @see Python's `socketserver.BaseServer.serve_forever`
   */
  serveForever(): Promise<void> {
    const refusal = this.#refuseToServe("serveForever");
    if (refusal !== undefined) return refusal;
    this.#mode = FOREVER;
    const done = new Promise<void>((resolve) => {
      this.#foreverDone = resolve;
    });
    this.#servePending();
    return done;
  }

  /**
   * Serve one request (waiting for it if none has arrived), then resolve.
   *
   * @see Python's `socketserver.BaseServer.handle_request`
   */
  handleRequest(): Promise<void> {
    const refusal = this.#refuseToServe("handleRequest");
    if (refusal !== undefined) return refusal;
    this.#mode = ONE;
    const done = new Promise<void>((resolve) => {
      this.#oneDone = resolve;
    });
    this.#servePending();
    return done;
  }

  /**
   * Stop `serveForever()`: requests that arrive from now on wait; resolves once
   * those being handled are done and `serveForever()` has resolved.
   *
   * @see Python's `socketserver.BaseServer.shutdown`
   */
  async shutdown(): Promise<void> {
    if (this.#mode !== FOREVER) return;
    this.#mode = IDLE;
    await this.#whenIdle();
    this.#endServing();
  }

  /**
   * Stop accepting connections and close the server, gracefully: idle
   * connections close at once, requests being handled finish (their responses
   * close their connections), requests still waiting to be served are dropped;
   * `serveForever()` and `handleRequest()` resolve. Calling it again returns the
   * same promise.
   *
   * @see Python's `socketserver.TCPServer.server_close`
   */
  serverClose(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `serverClose()`, for `await using httpd = await makeServer(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.serverClose();
  }

  /**
   * Report an error a request handler threw (its connection is then closed):
   * the stack, to `process.stderr`.
   *
   * @see Python's `socketserver.BaseServer.handle_error`
   */
  handleError(request: IncomingMessage, err: unknown): void {
    const [address, port] = [request.socket.remoteAddress, request.socket.remotePort];
    process.stderr.write(
      `Exception occurred during processing of request from ${address}:${port}\n${formatError(err)}`,
    );
  }

  #refuseToServe(method: string): Promise<void> | undefined {
    if (this.#closing !== undefined) {
      return Promise.reject(new Error(`${method}() was called after serverClose()`));
    }
    if (this.#mode !== IDLE) {
      return Promise.reject(
        new Error(`${method}() was called while serveForever() or handleRequest() is running`),
      );
    }
    return undefined;
  }

  #stateOf(socket: TrackedSocket): ConnectionState {
    let state = socket[kState];
    if (state === undefined) {
      state = new ConnectionState(socket);
      socket[kState] = state;
      const sendTimeout = this.options.sendTimeout;
      if (sendTimeout > 0) {
        setSendTimeout(socket, sendTimeout);
        const connections = this.#connections;
        connections.add(state);
        const watched = state;
        socket.once("close", () => connections.delete(watched));
        socket.on("timeout", () => watched.sendTimedOut(sendTimeout));
        if (this.#sendWatch === undefined) {
          this.#sendWatch = setInterval(() => this.#watchSends(), watchInterval(sendTimeout));
          this.#sendWatch.unref();
        }
      }
    }
    return state;
  }

  /** Put the socket of every connection with bytes waiting under `sendTimeout`. */
  #watchSends(): void {
    const sendTimeout = this.options.sendTimeout;
    for (const state of this.#connections) state.watchSend(sendTimeout);
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.#dispatch(req, res);
  };

  #accepting(): boolean {
    return this.#mode === FOREVER || (this.#mode === ONE && this.#one === undefined);
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const state = this.#stateOf(req.socket);
    // After a refused request, nothing more on the connection is a request.
    if (state.closed) return;
    if (state.busy || state.pending) {
      if (!state.enqueue(req, res)) {
        // Flooding: what it sent cannot be kept (see PIPELINE_LIMIT).
        stopServing(state);
        req.socket.destroy();
      }
    } else if (!this.#accepting()) {
      // One request per connection waits here; the rest wait in its queue.
      state.pending = true;
      this.#pending.push(req, res);
    } else {
      this.#start(req, res, state);
    }
  }

  #start(req: IncomingMessage, res: ServerResponse, state: ConnectionState): void {
    state.busy = true;
    state.current = res;
    this.#active += 1;
    if (this.#mode === ONE) this.#one = req;
    void this.#handle(req, res, state);
  }

  /** Start the requests that waited, in order of arrival. */
  #servePending(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += 2) {
      const req = pending[i] as IncomingMessage;
      this.#stateOf(req.socket).pending = false;
      this.#dispatch(req, pending[i + 1] as ServerResponse);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse, state: ConnectionState): Promise<void> {
    try {
      if (this.#closing !== undefined) res.shouldKeepAlive = false;
      // A response waits for the one before it on its connection to be sent; the
      // handler starts once it is next, so whatever it writes (the socket too,
      // once taken over) comes after.
      if (res.socket === null) {
        // The response before it may be queued to end with the turn: end it now,
        // so that this one is given the socket (and its handler receives the body)
        // before Node reads more of the connection. A framing error in the body
        // is then reported to the receiving handler, which answers it; left to the
        // check phase, the error came first and the handler later waited for a
        // body that never ended (found by the network fuzzer).
        endQueued();
      }
      if (res.socket === null && !(await whenAssigned(req, res))) {
        state.closed = true;
      } else {
        const handler = new this.requestHandlerClass(req, res, this);
        await handler.handle();
        // Node ends the connection after a response it cannot frame for keep-alive
        // (HTTP/1.0, no Content-Length: `Connection: close`) but leaves
        // shouldKeepAlive set; a request pipelined after it was served, though
        // nothing after a close may be (RFC 9112 §9.6; found by the network fuzzer).
        if (handler.closeConnection || !res.shouldKeepAlive || req.socket.writableEnded) {
          state.closed = true;
        }
      }
    } catch (err) {
      state.closed = true;
      this.handleError(req, err);
      req.socket.destroy();
    }
    state.busy = false;
    state.current = undefined;
    this.#active -= 1;
    if (this.#one === req) {
      this.#one = undefined;
      this.#mode = IDLE;
      this.#oneDone?.();
      this.#oneDone = undefined;
    }
    const next = state.closed ? undefined : state.dequeue();
    if (next === undefined) {
      state.queue.length = 0;
      state.streak = 0;
    } else if (++state.streak < PIPELINE_DEPTH) {
      this.#dispatch(next[0], next[1]);
    } else {
      // Served back to back (responses, the socket and the promises between
      // them never wait for I/O), a long queue would hold every other
      // connection up: the rest waits for the next turn, the connection kept
      // busy so that nothing overtakes it.
      state.busy = true;
      setImmediate(() => {
        state.busy = false;
        state.streak = 0;
        this.#dispatch(next[0], next[1]);
      });
    }
    if (this.#active === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #endServing(): void {
    this.#mode = IDLE;
    // Responses queued to end with their turn go out now: before serveForever()
    // resolves, and before serverClose() closes their connections.
    endQueued();
    this.#foreverDone?.();
    this.#foreverDone = undefined;
    this.#oneDone?.();
    this.#oneDone = undefined;
  }

  async #close(): Promise<void> {
    const transport = this.#transport?.close();
    const server = this.httpServer;
    const closed = new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
    // Requests no one was going to serve: drop their connections.
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += 2) {
      (pending[i] as IncomingMessage).socket.destroy();
    }
    await this.#whenIdle();
    this.#endServing();
    server.closeAllConnections();
    await closed;
    await transport;
    // Only now: a response to a client that reads nothing holds the close up until
    // the watch drops it.
    clearInterval(this.#sendWatch);
  }

  readonly #onClientError = (err: Error, socket: Duplex): void => {
    const state = this.#stateOf(socket);
    const code = (err as NodeJS.ErrnoException).code;
    // llhttp refuses bytes after a `Connection: close` request: the response in
    // progress is the last one, and Node closes the connection after it.
    if (state.closed || code === "HPE_CLOSED_CONNECTION") return;
    stopServing(state);
    if (isDisconnect(err) || !socket.writable) {
      socket.destroy();
      return;
    }
    whenClientErrorStatus(err, socket, (status) => {
      // An error in a request body: its handler answers through its response.
      if (failReceiving(socket as Socket, status, err.message)) return;
      refuseAfterCurrent(state, () => {
        refuseConnection(socket, status);
        this.#logRefusal(socket, status, refusedRequestLine(err, status));
      });
    });
  };

  readonly #onConnect = (req: IncomingMessage, socket: Duplex): void => {
    // CONNECT asks for a tunnel; a WSGI server has none to offer (RFC 9110 §15.6.2).
    const state = this.#stateOf(socket);
    const closed = state.closed;
    stopServing(state);
    // After a refusal nothing more is said on the connection (found by the
    // network fuzzer: a 501 after a 400).
    if (closed) return;
    refuseAfterCurrent(state, () => {
      refuseConnection(socket, 501);
      this.#logRefusal(socket, 501, undefined, req);
    });
  };

  /**
   * Log a request answered straight on the socket as Python's `send_error` does
   * (`code 414, message URI Too Long`, then the access-log line), through an
   * instance of `requestHandlerClass`, so that its `logMessage` sees it.
   */
  #logRefusal(
    socket: Duplex,
    status: number,
    requestline: string | undefined,
    parsed?: IncomingMessage,
  ): void {
    // Nothing to build when nothing is logged: a flood of bad requests stays cheap.
    if (this.options.quiet) return;
    // Node parsed no request: the handler gets an empty one on the socket.
    const req = parsed ?? new IncomingMessage(socket as Socket);
    try {
      const handler = new this.requestHandlerClass(req, new ServerResponse(req), this);
      if (requestline !== undefined) handler.requestline = requestline;
      handler.logError("code %d, message %s", status, STATUS_CODES[status] ?? "Error");
      handler.logRequest(status);
    } catch (err) {
      // A handler class whose log fails: the answer is out; report it as any
      // handler failure.
      this.handleError(req, err);
    }
  }

  readonly #onServerError = (err: Error): void => {
    // After listening, only accept() fails (EMFILE, …); Node retries. Say so once per error.
    process.stderr.write(`WSGIServer: ${formatError(err)}`);
  };
}

/** How often the send watch looks for bytes waiting: a quarter of `sendTimeout`, 10 ms to 1 s. */
function watchInterval(sendTimeout: number): number {
  return Math.max(10, Math.min(1000, Math.floor(sendTimeout / 4)));
}

/** Throw a `TypeError` unless `address` is `[host, port]` with a port Node can bind. */
function checkAddress(address: unknown): void {
  if (!Array.isArray(address) || address.length !== 2) {
    throw new TypeError(`serverAddress must be [host, port]: ${show(address)}`);
  }
  const [host, port] = address as [unknown, unknown];
  if (typeof host !== "string") {
    throw new TypeError(`host must be a string: ${show(host)}`);
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer from 0 to 65535: ${show(port)}`);
  }
}

/**
 * Create a server for `app` on `host` and `port`, bound and listening when the
 * promise resolves (`port` 0 picks a free port: see `serverAddress`). Rejects
 * with Node's error when the address cannot be bound, and throws a `TypeError`
 * for arguments of the wrong kind (`port` `"8000"` included: no coercion).
 *
 * @example
 * await using httpd = await makeServer("127.0.0.1", 8000, demoApp);
 * console.log(`Serving HTTP on port ${httpd.serverAddress[1]} ...`);
 * await httpd.serveForever();
 * @see Python's `wsgiref.simple_server.make_server`
 */
export async function makeServer(
  host: string,
  port: number,
  app: WSGIApplication,
  serverClass: ServerClass = WSGIServer,
  handlerClass: RequestHandlerClass = WSGIRequestHandler,
  options?: ServerOptions,
): Promise<WSGIServer> {
  // host and port are checked by the WSGIServer constructor; the app is checked
  // here, before binding, since setApp() comes only after serverBind().
  if (typeof app !== "function") {
    throw new TypeError(`app must be a function: ${show(app)}`);
  }
  if (typeof serverClass !== "function") {
    throw new TypeError(`serverClass must be a WSGIServer class: ${show(serverClass)}`);
  }
  const server = new serverClass([host, port], handlerClass, options);
  await server.serverBind();
  server.setApp(app);
  return server;
}
