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
import type { Http2Server } from "node:http2";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { BodyError } from "../gateway/request-body.js";
import { show } from "../internal/check.js";
import { isDisconnect } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import { HttpDates } from "../internal/http-date.js";
import { StreamErrors } from "../streams/errors.js";
import type { ErrorStream, PartialEnvironment, WSGIApplication } from "../types.js";
import { refuseConnection, refusedRequestLine, whenClientErrorStatus } from "./client-errors.js";
import { Connection, type Exchange, PIPELINE_DEPTH } from "./connection.js";
import { EndBatch } from "./end-batch.js";
import { KernelSendfile } from "./kernel-sendfile.js";
import {
  checkingInterval,
  type ResolvedServerOptions,
  resolveOptions,
  type ServerOptions,
} from "./options.js";
import { WSGIRequestHandler } from "./request-handler.js";
import { Transport, transportStreams } from "./transport.js";

export { PIPELINE_DEPTH, PIPELINE_LIMIT } from "./connection.js";
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
  /** Every request's `wsgi.errors`: over `process.stderr`. */
  readonly errorStream: ErrorStream = new StreamErrors(process.stderr);
  /** This server's route for files by sendfile(2) (see `KernelSendfile`). */
  readonly kernelSendfile: KernelSendfile;
  /** The HTTP date every response of this server is stamped with, formatted once a second. */
  readonly dates: HttpDates;

  #mode = IDLE;
  readonly #endBatch = new EndBatch();
  /** The state of every connection that has sent a request. */
  readonly #connections = new WeakMap<Socket | Duplex, Connection>();
  /** Every open connection under the send watch. */
  readonly #watched = new Set<Connection>();
  #sendWatch: NodeJS.Timeout | undefined;
  /** Requests waiting for serveForever() or handleRequest(). */
  #pending: Exchange[] = [];
  #active = 0;
  #idleWaiters: Array<() => void> = [];
  #one: IncomingMessage | undefined;
  #oneDone: (() => void) | undefined;
  #foreverDone: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #transport: Transport;

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
    this.kernelSendfile = new KernelSendfile(resolved.sendTimeout);
    this.dates = new HttpDates();
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
    // (The front's sockets are half-open for it: see transport.ts.)
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
    // What listens: a front that reads each connection's start and hands
    // HTTP/1.1 connections to `server` (HTTP/2 and TLS there too, when asked).
    this.#transport = new Transport(
      server,
      resolved,
      transportStreams(this),
      (socket, status, line) => {
        refuseConnection(socket, status);
        this.#logRefusal(socket, status, line);
      },
    );
  }

  /**
   * The batch that ends responses together once the requests of a turn of the
   * event loop have been handled (see `EndBatch`): while `serveForever()` runs;
   * undefined otherwise. `handleRequest()` ends its one response at once, so
   * that it is out when the promise resolves.
   */
  get endBatch(): EndBatch | undefined {
    return this.#mode === FOREVER ? this.#endBatch : undefined;
  }

  /**
   * The server that listens: the front that reads each connection's start (the
   * first request line; with `tls`, TLS and ALPN; with `http2` in clear text,
   * the HTTP/2 preface) and hands HTTP/1.1 connections to `httpServer`, which
   * never listens itself. Close it to stop accepting.
   */
  get listener(): NetServer {
    return this.#transport.listener;
  }

  /** The `node:http2` server that serves HTTP/2 sessions, with `http2`; undefined without. */
  get http2Server(): Http2Server | undefined {
    return this.#transport?.http2Server;
  }

  /**
   * Tell `httpServer` that connections come, since the front listens for it:
   * node:http watches its connections' header and request timeouts (and can
   * close them all) only from its "listening" event on. Called by `serverBind()`
   * once `listener` listens, and by a subclass that binds otherwise.
   */
  protected frontListening(): void {
    this.httpServer.emit("listening");
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
    const server = this.listener;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: host === "" ? undefined : host, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.frontListening();
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

  #stateOf(socket: Socket | Duplex): Connection {
    let state = this.#connections.get(socket);
    if (state === undefined) {
      state = new Connection(socket, this.#endBatch);
      this.#connections.set(socket, state);
      const sendTimeout = this.options.sendTimeout;
      if (sendTimeout > 0) {
        const watched = this.#watched;
        const connection = state;
        watched.add(connection);
        socket.once("close", () => watched.delete(connection));
        socket.on("timeout", () => connection.sendTimedOut(sendTimeout));
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
    for (const state of this.#watched) state.watchSend(sendTimeout);
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
        state.stopServing();
        req.socket.destroy();
      }
    } else if (!this.#accepting()) {
      // One request per connection waits here; the rest wait in its queue.
      state.pending = true;
      this.#pending.push({ req, res });
    } else {
      this.#start(req, res, state);
    }
  }

  #start(req: IncomingMessage, res: ServerResponse, state: Connection): void {
    state.busy = true;
    state.current = res;
    this.#active += 1;
    if (this.#mode === ONE) this.#one = req;
    this.#handle(req, res, state);
  }

  /** Start the requests that waited, in order of arrival. */
  #servePending(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { req, res } of pending) {
      this.#stateOf(req.socket).pending = false;
      this.#dispatch(req, res);
    }
  }

  /**
   * Serve `req` on its connection, then what waits after it. Not an async
   * function: a request answered without waiting then costs one promise
   * reaction, not a suspended frame.
   */
  #handle(req: IncomingMessage, res: ServerResponse, state: Connection): void {
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
        // body that never ended.
        this.#endBatch.flush();
      }
      if (res.socket === null) {
        whenAssigned(req, res).then((assigned) => {
          if (assigned) {
            this.#runHandler(req, res, state);
          } else {
            state.closed = true;
            this.#handled(req, state);
          }
        });
        return;
      }
    } catch (err) {
      this.#handlerFailed(req, state, err);
      return;
    }
    this.#runHandler(req, res, state);
  }

  /** Run the request handler for `req`, then go on with its connection. */
  #runHandler(req: IncomingMessage, res: ServerResponse, state: Connection): void {
    let handler: WSGIRequestHandler;
    let handling: Promise<void>;
    try {
      handler = new this.requestHandlerClass(req, res, this);
      state.handler = handler;
      handling = handler.handle();
    } catch (err) {
      this.#handlerFailed(req, state, err);
      return;
    }
    handling.then(
      () => {
        // Node ends the connection after a response it cannot frame for keep-alive
        // (HTTP/1.0, no Content-Length: `Connection: close`) but leaves
        // shouldKeepAlive set; a request pipelined after it was served, though
        // nothing after a close may be (RFC 9112 §9.6).
        if (handler.closeConnection || !res.shouldKeepAlive || req.socket.writableEnded) {
          state.closed = true;
        }
        this.#handled(req, state);
      },
      (err: unknown) => this.#handlerFailed(req, state, err),
    );
  }

  /** A request handler threw: report it, drop the connection, go on. */
  #handlerFailed(req: IncomingMessage, state: Connection, err: unknown): void {
    state.closed = true;
    try {
      this.handleError(req, err);
    } finally {
      req.socket.destroy();
      this.#handled(req, state);
    }
  }

  /** `req` is done with: free its connection and serve what waits. */
  #handled(req: IncomingMessage, state: Connection): void {
    state.busy = false;
    state.current = undefined;
    state.handler = undefined;
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
      this.#dispatch(next.req, next.res);
    } else {
      // Served back to back (responses, the socket and the promises between
      // them never wait for I/O), a long queue would hold every other
      // connection up: the rest waits for the next turn, the connection kept
      // busy so that nothing overtakes it.
      state.busy = true;
      setImmediate(() => {
        state.busy = false;
        state.streak = 0;
        this.#dispatch(next.req, next.res);
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
    this.#endBatch.flush();
    this.#foreverDone?.();
    this.#foreverDone = undefined;
    this.#oneDone?.();
    this.#oneDone = undefined;
  }

  async #close(): Promise<void> {
    const transport = this.#transport.close();
    const server = this.httpServer;
    const closed = new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
    // Requests no one was going to serve: drop their connections.
    const pending = this.#pending;
    this.#pending = [];
    for (const { req } of pending) req.socket.destroy();
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
    state.stopServing();
    if (isDisconnect(err) || !socket.writable) {
      socket.destroy();
      return;
    }
    whenClientErrorStatus(err, socket, (status) => {
      // An error in a request body: its handler answers through its response.
      if (state.handler?.receivingBody?.failIncomplete(new BodyError(status, err.message))) return;
      state.refuseAfterCurrent(() => {
        refuseConnection(socket, status);
        this.#logRefusal(socket, status, refusedRequestLine(err, status));
      });
    });
  };

  readonly #onConnect = (req: IncomingMessage, socket: Duplex): void => {
    // CONNECT asks for a tunnel; a WSGI server has none to offer (RFC 9110 §15.6.2).
    const state = this.#stateOf(socket);
    const closed = state.closed;
    state.stopServing();
    // After a refusal nothing more is said on the connection (a 501 after a 400).
    if (closed) return;
    state.refuseAfterCurrent(() => {
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

/**
 * Wait until `res` is given its socket (when the responses before it on the
 * connection are sent); resolves to false if the connection closes first, or
 * is given to it already destroyed.
 */
function whenAssigned(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const socket = req.socket;
  // Closed already: its "close" is not coming again.
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onSocket = (): void => {
      socket.off("close", onClose);
      // A connection reset while the response before was being sent: Node
      // still hands the dead socket on, but nothing can reach the client.
      resolve(!socket.destroyed);
    };
    const onClose = (): void => {
      res.off("socket", onSocket);
      resolve(false);
    };
    res.once("socket", onSocket);
    socket.once("close", onClose);
  });
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
