/**
 * `WSGIServer` and `makeServer`: an HTTP/1.1 server for one WSGI application, on
 * `node:http`, with Python's serving loop (`serveForever`, `handleRequest`,
 * `shutdown`, `serverClose`).
 *
 * Port of `WSGIServer` and `make_server` from Python's `wsgiref.simple_server`.
 */

import { Buffer } from "node:buffer";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { failReceiving, whenAssigned } from "../adapters/node-http.js";
import { show } from "../internal/check.js";
import { isDisconnect } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import { formatDateTime } from "../internal/http-date.js";
import type { WSGIApplication, WSGIEnvironment } from "../types.js";
import { WSGIRequestHandler } from "./request-handler.js";
import { softwareVersion } from "./server-handler.js";

/**
 * Limits and behaviour of a `WSGIServer`. Sizes are in bytes, times in
 * milliseconds; every field is optional.
 */
export interface ServerOptions {
  /** Largest request body (1 GiB): 413 and close past it. */
  maxBodySize?: number;
  /** Request bodies above this size (1 MiB) are spooled to a temporary file. */
  spoolThreshold?: number;
  /** Largest request line plus header fields (64 KiB): 414 if the request line alone is longer, else 431. */
  maxHeaderSize?: number;
  /** Most header fields in a request (100): 431 past it. */
  maxHeaders?: number;
  /** Time for a client to send its headers (20 000): 408 and close past it. */
  headersTimeout?: number;
  /** Time for a client to send its whole request (300 000): 408 and close past it. */
  requestTimeout?: number;
  /** How long an idle kept-alive connection stays open (5 000). */
  keepAliveTimeout?: number;
  /** No access log (false). */
  quiet?: boolean;
  /**
   * How many processes serve the application (1); above 1, `wsgi.multiprocess`
   * is true. The server does not fork them itself: a cluster starts one server
   * per worker, each told the total.
   */
  workers?: number;
}

/** `ServerOptions` with every default filled in. */
export type ResolvedServerOptions = Readonly<Required<ServerOptions>>;

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

const DEFAULTS: ResolvedServerOptions = {
  maxBodySize: 1024 * 1024 * 1024,
  spoolThreshold: 1024 * 1024,
  maxHeaderSize: 64 * 1024,
  maxHeaders: 100,
  headersTimeout: 20_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  quiet: false,
  workers: 1,
};

// Options that must be at least 1; the other numbers may be 0.
const POSITIVE = new Set(["maxHeaderSize", "maxHeaders", "workers"]);

/** Check `options` and fill in the defaults. */
function resolveOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  if (options === undefined) return DEFAULTS;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object: ${show(options)}`);
  }
  const resolved: Record<string, number | boolean> = { ...DEFAULTS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in DEFAULTS)) throw new TypeError(`options has no field named ${show(name)}`);
    if (value === undefined) continue;
    if (name === "quiet") {
      if (typeof value !== "boolean")
        throw new TypeError(`quiet must be a boolean: ${show(value)}`);
    } else if (!Number.isSafeInteger(value) || (value as number) < (POSITIVE.has(name) ? 1 : 0)) {
      const least = POSITIVE.has(name) ? "a positive" : "a non-negative";
      throw new TypeError(`${name} must be ${least} integer: ${show(value)}`);
    }
    resolved[name] = value as number | boolean;
  }
  const result = resolved as unknown as ResolvedServerOptions;
  if (result.requestTimeout > 0 && result.headersTimeout > result.requestTimeout) {
    throw new RangeError(
      `headersTimeout must not exceed requestTimeout: ${result.headersTimeout} > ${result.requestTimeout}`,
    );
  }
  return result;
}

/** How often Node looks for requests past their timeouts: a quarter of the shortest, 10 ms to 1 s. */
function checkingInterval(options: ResolvedServerOptions): number {
  const timeouts = [options.headersTimeout, options.requestTimeout].filter((t) => t > 0);
  if (timeouts.length === 0) return 1000;
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}

/** What the server keeps about each connection. */
class ConnectionState {
  /** A request of this connection is being handled. */
  busy = false;
  /** No further request of this connection is ever handled. */
  closed = false;
  /** Requests that arrived (pipelined) while one was handled: request, response, … */
  readonly queue: Array<IncomingMessage | ServerResponse> = [];
  /** The response being written. */
  current: ServerResponse | undefined = undefined;
}

const kState = Symbol("wsgiref.connection");
type TrackedSocket = (Socket | Duplex) & { [kState]?: ConnectionState };

function stateOf(socket: TrackedSocket): ConnectionState {
  let state = socket[kState];
  if (state === undefined) {
    state = new ConnectionState();
    socket[kState] = state;
  }
  return state;
}

// A request line ending in a version of the right shape (RFC 9112 §2.3), at the
// start of what llhttp was parsing.
const WELL_FORMED_VERSION = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/;

// A method token and the space after it (RFC 9110 §5.6.2), at the start of a request.
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * The status for a request Node could not parse, by llhttp's error code.
 *
 * A header section past `maxHeaderSize` is 414 when the request line alone is
 * too long: llhttp stops at the end of the part that overflowed, which for the
 * target is the space before the version; when it stops at the end of what has
 * arrived, the request line is still going on if no line ended in it.
 */
function clientErrorStatus(
  err: NodeJS.ErrnoException & { bytesParsed?: number; rawPacket?: unknown },
): number {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW": {
      const packet = err.rawPacket;
      const at = err.bytesParsed;
      if (!Buffer.isBuffer(packet) || typeof at !== "number") return 431;
      if (at < packet.length) return packet[at] === 0x20 ? 414 : 431;
      return packet.subarray(0, at).includes(0x0a) ? 431 : 414;
    }
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "HPE_INVALID_VERSION": {
      // A well-formed version llhttp does not speak (HTTP/2.0, HTTP/1.2) is
      // 505; anything else that fails there (a bare LF, `HTTP/x.y`) is 400.
      const packet = err.rawPacket;
      return Buffer.isBuffer(packet) && WELL_FORMED_VERSION.test(packet.toString("latin1", 0, 8192))
        ? 505
        : 400;
    }
    case "HPE_INVALID_METHOD": {
      // A method that is a token but not one llhttp knows: not implemented (RFC
      // 9110 §9.1); anything else is a malformed request line.
      const packet = err.rawPacket;
      return Buffer.isBuffer(packet) && METHOD_TOKEN.test(packet.toString("latin1", 0, 64))
        ? 501
        : 400;
    }
    case "HPE_PAUSED_H2_UPGRADE":
      // The HTTP/2 connection preface, `PRI * HTTP/2.0`.
      return 505;
    default:
      return 400;
  }
}

/** A complete error response, written straight to a socket that carries no response. */
function rawErrorResponse(status: number): Buffer {
  const reason = STATUS_CODES[status] ?? "Error";
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\nDate: ${formatDateTime(Date.now())}\r\n` +
      `Server: ${softwareVersion}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${reason.length + 1}\r\nConnection: close\r\n\r\n${reason}\n`,
    "latin1",
  );
}

/** How long a refused connection may keep sending before it is dropped. */
const LINGER_MS = 1000;

/** Answer `status` on `socket` and close it, letting the client read the answer first. */
function refuseConnection(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Half-close and keep reading (Node's parser discards it) until the client
  // closes too: closing with unread input would reset the connection and could
  // lose the answer on its way.
  socket.end(rawErrorResponse(status));
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

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
  baseEnviron: WSGIEnvironment = {};

  #mode = IDLE;
  /** Requests waiting for serveForever() or handleRequest(): request, response, … */
  #pending: Array<IncomingMessage | ServerResponse> = [];
  #active = 0;
  #idleWaiters: Array<() => void> = [];
  #one: IncomingMessage | undefined;
  #oneDone: (() => void) | undefined;
  #foreverDone: (() => void) | undefined;
  #closing: Promise<void> | undefined;

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
    server.on("clientError", this.#onClientError);
    server.on("connect", this.#onConnect);
    this.httpServer = server;
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
    const server = this.httpServer;
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
  }

  /** Return the application. @see Python's `WSGIServer.get_app` */
  getApp(): WSGIApplication | undefined {
    return this.application;
  }

  /** Set the application. @see Python's `WSGIServer.set_app` */
  setApp(application: WSGIApplication): void {
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

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.#dispatch(req, res);
  };

  #accepting(): boolean {
    return this.#mode === FOREVER || (this.#mode === ONE && this.#one === undefined);
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const state = stateOf(req.socket);
    // After a refused request, nothing more on the connection is a request.
    if (state.closed) return;
    if (state.busy) {
      state.queue.push(req, res);
    } else if (!this.#accepting()) {
      this.#pending.push(req, res);
    } else {
      state.busy = true;
      state.current = res;
      this.#active += 1;
      if (this.#mode === ONE) this.#one = req;
      void this.#handle(req, res, state);
    }
  }

  /** Start the requests that waited, in order of arrival. */
  #servePending(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += 2) {
      this.#dispatch(pending[i] as IncomingMessage, pending[i + 1] as ServerResponse);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse, state: ConnectionState): Promise<void> {
    try {
      if (this.#closing !== undefined) res.shouldKeepAlive = false;
      // A response waits for the one before it on its connection to be sent; the
      // handler starts once it is next, so whatever it writes (the socket too,
      // once taken over) comes after.
      if (res.socket === null && !(await whenAssigned(req, res))) {
        state.closed = true;
      } else {
        const handler = new this.requestHandlerClass(req, res, this);
        await handler.handle();
        if (handler.closeConnection || !res.shouldKeepAlive) state.closed = true;
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
    const queue = state.queue;
    if (state.closed) {
      queue.length = 0;
    } else if (queue.length > 0) {
      const next = queue.shift() as IncomingMessage;
      this.#dispatch(next, queue.shift() as ServerResponse);
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
    this.#foreverDone?.();
    this.#foreverDone = undefined;
    this.#oneDone?.();
    this.#oneDone = undefined;
  }

  async #close(): Promise<void> {
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
  }

  readonly #onClientError = (err: Error, socket: Duplex): void => {
    const state = stateOf(socket);
    const code = (err as NodeJS.ErrnoException).code;
    // llhttp refuses bytes after a `Connection: close` request: the response in
    // progress is the last one, and Node closes the connection after it.
    if (state.closed || code === "HPE_CLOSED_CONNECTION") return;
    state.closed = true;
    state.queue.length = 0;
    if (isDisconnect(err) || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err);
    // An error in a request body: its handler answers through its response.
    if (failReceiving(socket as Socket, status, err.message)) return;
    const current = state.current;
    // The response in progress already closes the connection (a refused request):
    // nothing more is to be said on it.
    if (current !== undefined && !current.shouldKeepAlive) return;
    if (current === undefined || current.writableFinished) {
      refuseConnection(socket, status);
    } else {
      // Answer after the response in progress, never inside it.
      current.once("close", () => refuseConnection(socket, status));
    }
  };

  readonly #onConnect = (_req: IncomingMessage, socket: Duplex): void => {
    // CONNECT asks for a tunnel; a WSGI server has none to offer (RFC 9110 §15.6.2).
    stateOf(socket).closed = true;
    refuseConnection(socket, 501);
  };

  readonly #onServerError = (err: Error): void => {
    // After listening, only accept() fails (EMFILE, …); Node retries. Say so once per error.
    process.stderr.write(`WSGIServer: ${formatError(err)}`);
  };
}

/**
 * Create a server for `app` on `host` and `port`, bound and listening when the
 * promise resolves (`port` 0 picks a free port: see `serverAddress`). Rejects
 * with Node's error when the address cannot be bound.
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
  const server = new serverClass([host, port], handlerClass, options);
  await server.serverBind();
  server.setApp(app);
  return server;
}
