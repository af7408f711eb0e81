/**
 * `WSGIRequestHandler`: one HTTP request, from Node's parsed `IncomingMessage` to
 * the application's response: checks, body spooling, environ, access log.
 *
 * Port of `WSGIRequestHandler` from Python's `wsgiref.simple_server` (and the
 * parts of `http.server.BaseHTTPRequestHandler` it relies on: `parse_request`,
 * `send_error`, the `log_*` methods).
 */

import { Buffer } from "node:buffer";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { format } from "node:util";
import { BodyError, EmptyInput, type ReceivingBody, receiveBody } from "../gateway/request-body.js";
import {
  type RequestFacts,
  refusalStatus,
  requestEnviron,
  requestFacts,
} from "../gateway/request-head.js";
import { isDisconnect } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import { formatDateTime, type HttpDates } from "../internal/http-date.js";
import { escapeLogLine } from "../internal/log-text.js";
import { StreamErrors } from "../streams/errors.js";
import type { SpooledInput } from "../streams/spooled-input.js";
import type { ErrorStream, PartialEnvironment, WSGIApplication } from "../types.js";
import type { EndBatch } from "./end-batch.js";
import type { KernelSendfile } from "./kernel-sendfile.js";
import { ServerHandler, serverVersion, sysVersion } from "./server-handler.js";

/** What a request handler needs from its server (a `WSGIServer`). */
export interface RequestHandlerServer {
  /** The server's part of every environ (`SERVER_NAME`, `SERVER_PORT`, …). */
  readonly baseEnviron: PartialEnvironment;
  /** `wsgi.multiprocess` of every request. */
  readonly wsgiMultiprocess: boolean;
  /** The limits a request handler applies. */
  readonly options: {
    /** The largest request body accepted, in bytes. */
    readonly maxBodySize: number;
    /** Bodies larger than this many bytes are spooled to a temporary file. */
    readonly spoolThreshold: number;
    /** The most header fields a request may have. */
    readonly maxHeaders: number;
    /** How long a request body may send nothing (ms); absent or 0: no limit. */
    readonly bodyTimeout?: number;
    /** Whether the access log is off. */
    readonly quiet: boolean;
  };
  /** The application to call, or `undefined` when none is set. */
  getApp(): WSGIApplication | undefined;
  /** Ends responses with their turn of the event loop; absent: each ends at once. */
  readonly endBatch?: EndBatch | undefined;
  /** Sends files by sendfile(2) when it applies; absent: by reads. */
  readonly kernelSendfile?: KernelSendfile | undefined;
  /** The `wsgi.errors` of every request; absent: a new one over `process.stderr` for each. */
  readonly errorStream?: ErrorStream | undefined;
  /** The current HTTP date, formatted once a second; absent: formatted for each response. */
  readonly dates?: HttpDates | undefined;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Handle one request of a `WSGIServer`: refuse what must be refused, receive the
 * body, build the environ and run the application through a `ServerHandler`.
 *
 * Subclass it and pass the subclass to `makeServer` to change the environ
 * (`getEnviron`), the error stream (`getStderr`) or the log (`logMessage`).
 *
 * @see Python's `wsgiref.simple_server.WSGIRequestHandler`
 */
export class WSGIRequestHandler {
  /** The `SERVER_SOFTWARE` of every environ. */
  serverVersion = serverVersion;
  /** The runtime, after `serverVersion` in the `Server` header. */
  sysVersion = sysVersion;
  /** The request, as Node parsed it. */
  readonly request: IncomingMessage;
  /** Its response. */
  readonly response: ServerResponse;
  /** The server this request came to. */
  readonly server: RequestHandlerServer;
  /** The method (`GET`). */
  readonly command: string;
  /** The raw request target (`/path?query`). */
  readonly path: string;
  /** Whether the connection is to be closed after this request. */
  closeConnection = false;
  /** The request body, once received (`wsgi.input`). */
  rfile: EmptyInput | SpooledInput | undefined = undefined;
  /**
   * The body while it is being received: the server fails it with the status
   * of a framing error or a timeout that Node reports on the connection.
   */
  receivingBody: ReceivingBody | undefined = undefined;
  #facts: RequestFacts | undefined;
  #requestline: string | undefined = undefined;
  // The environ the last getEnviron() here built: new, held by nothing else.
  #builtEnviron: PartialEnvironment | undefined = undefined;

  /** Handle `request` of `server`, answering with `response`. */
  constructor(request: IncomingMessage, response: ServerResponse, server: RequestHandlerServer) {
    this.request = request;
    this.response = response;
    this.server = server;
    this.command = request.method ?? "";
    this.path = request.url ?? "";
  }

  // Computed when asked for (the log), not for every request.

  /** `[address, port]` of the client. */
  get clientAddress(): [string, number] {
    const socket = this.request.socket;
    return [socket.remoteAddress ?? "", socket.remotePort ?? 0];
  }

  /** The protocol (`HTTP/1.1`). */
  get requestVersion(): string {
    return `HTTP/${this.request.httpVersion}`;
  }

  /**
   * The request line, for the log (`GET /path HTTP/1.1`). Settable, as Python's
   * attribute: the server sets it for a request Node could not parse.
   */
  get requestline(): string {
    return this.#requestline ?? `${this.command} ${this.path} ${this.requestVersion}`;
  }

  /** Set the request line the access log shows (the server does, for a request it could not parse). */
  set requestline(line: string) {
    this.#requestline = line;
  }

  /**
   * Serve the request; resolves once the response is written (or the connection
   * closed) and the request body released.
   *
   * @see Python's `WSGIRequestHandler.handle`
   */
  handle(): Promise<void> {
    // Not an async function: a request without a body, answered without
    // waiting, then costs no suspended frame (one promise reaction, no more).
    try {
      if (!this.parseRequest()) return Promise.resolve();
      const facts = this.#facts as RequestFacts;
      if (
        facts.transferEncoding !== undefined ||
        (facts.contentLength !== undefined && facts.contentLength !== "0")
      ) {
        return this.#receiveAndServe(facts);
      }
      return this.#serve(new EmptyInput());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Receive the request's body, then serve the request with it. */
  async #receiveAndServe(facts: RequestFacts): Promise<void> {
    // Only now that the request is accepted is the body asked for (RFC 9110 §10.1.1).
    if (facts.expectContinue) this.sendContinue();
    const receiving = receiveBody(this.request, this.server.options);
    this.receivingBody = receiving;
    let rfile: SpooledInput;
    try {
      rfile = await receiving.input;
    } catch (err) {
      this.#bodyFailed(err);
      return;
    } finally {
      this.receivingBody = undefined;
    }
    await this.#serve(rfile);
  }

  /** Run the application with `rfile` as its input; settles once it is answered and `rfile` closed. */
  #serve(rfile: EmptyInput | SpooledInput): Promise<void> {
    this.rfile = rfile;
    const server = this.server;
    const environ = this.getEnviron();
    const handler = new ServerHandler(
      rfile,
      this.response,
      this.getStderr(),
      environ,
      false,
      server.wsgiMultiprocess,
      server,
    );
    // An environ a getEnviron() of a subclass keeps (not the one built here) is copied.
    handler.ownsEnviron = environ === this.#builtEnviron;
    if (this.serverVersion !== serverVersion || this.sysVersion !== sysVersion) {
      handler.serverSoftware = `${this.serverVersion} ${this.sysVersion}`;
    }
    handler.requestHandler = this;
    return handler.run(server.getApp() as WSGIApplication).then(
      () => {
        rfile.close();
        this.#afterRun(handler);
      },
      (err: unknown) => {
        rfile.close();
        throw err;
      },
    );
  }

  /** Close the connection after a response the application took over or left unfinished. */
  #afterRun(handler: ServerHandler): void {
    const output = handler.output;
    if (output.sink.takenOver) {
      this.closeConnection = true;
      const socket = this.request.socket;
      // Whatever the application wrote goes out first.
      if (!socket.destroyed) socket.end(() => socket.destroy());
    } else if (!output.ended && !this.response.writableEnded) {
      this.closeConnection = true;
    }
  }

  /**
   * Check the request Node parsed; answer it with an error (`sendError`) and
   * return false when it must be refused.
   *
   * @see Python's `BaseHTTPRequestHandler.parse_request`
   */
  parseRequest(): boolean {
    const facts = requestFacts(this.request);
    // HTTP/1.0 clients do not wait for 100 Continue (RFC 9110 §10.1.1).
    facts.expectContinue &&= this.request.httpVersionMinor >= 1;
    this.#facts = facts;
    const status = refusalStatus(this.request, facts, this.server.options);
    if (status !== 0) {
      this.sendError(status);
      return false;
    }
    if (facts.upgrade) {
      // No upgrade is offered (RFC 9110 §7.8 lets a server ignore it), but llhttp
      // read the request as one: Node then drops what else came in the same read
      // and goes on with what comes next, framing bytes no peer would take for a
      // request. Answer it, then close.
      this.closeConnection = true;
      this.response.shouldKeepAlive = false;
    }
    return true;
  }

  /**
   * Tell the client to send the body it is waiting to send (`100 Continue`);
   * called once the request is accepted. A transport that may have sent it
   * already (a Node listener) overrides it.
   */
  sendContinue(): void {
    this.response.writeContinue();
  }

  /**
   * Build the request's environ: the server's `baseEnviron`, the CGI variables
   * of the request and its `HTTP_*` headers.
   *
   * @see Python's `WSGIRequestHandler.get_environ`
   */
  getEnviron(): PartialEnvironment {
    const env = requestEnviron(this.request, this.server.baseEnviron);
    env.SERVER_SOFTWARE = this.serverVersion;
    // A chunked body's length is known once it is received.
    if (this.#facts?.transferEncoding !== undefined && this.rfile !== undefined) {
      env.CONTENT_LENGTH = String(this.rfile.length);
    }
    this.#builtEnviron = env;
    return env;
  }

  /**
   * Return the stream for `wsgi.errors`: the server's (`errorStream`), or one
   * over `process.stderr`.
   *
   * @see Python's `WSGIRequestHandler.get_stderr`
   */
  getStderr(): ErrorStream {
    return this.server.errorStream ?? new StreamErrors(process.stderr);
  }

  /**
   * Answer with an error status and a short plain-text body, and close the
   * connection afterwards; the access log gets the request.
   *
   * @see Python's `BaseHTTPRequestHandler.send_error`
   */
  sendError(code: number, message?: string): void {
    this.closeConnection = true;
    const res = this.response;
    if (message !== undefined) this.logError("code %d, message %s", code, message);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const reason = STATUS_CODES[code] ?? "Error";
    const body = Buffer.from(`${reason}\n`, "latin1");
    res.shouldKeepAlive = false;
    res.sendDate = false;
    res.writeHead(code, reason, [
      "Date",
      formatDateTime(Date.now()),
      "Server",
      `${this.serverVersion} ${this.sysVersion}`,
      "Content-Type",
      "text/plain; charset=utf-8",
      "Content-Length",
      String(body.length),
    ]);
    res.end(body);
    this.logRequest(code);
  }

  /**
   * Log a finished request: `"GET / HTTP/1.1" 200 13`, unless the server is `quiet`.
   *
   * @see Python's `BaseHTTPRequestHandler.log_request`
   */
  logRequest(code: number | string = "-", size: number | string = "-"): void {
    if (this.server.options.quiet) return;
    this.logMessage('"%s" %s %s', this.requestline, String(code), String(size));
  }

  /**
   * Log an error about the request, unless the server is `quiet`.
   *
   * @see Python's `BaseHTTPRequestHandler.log_error`
   */
  logError(format: string, ...args: unknown[]): void {
    if (this.server.options.quiet) return;
    this.logMessage(format, ...args);
  }

  /**
   * Write one line to `process.stderr`: the client address, the local time and
   * the message (`format` with `args`, as `util.format`), control characters
   * escaped.
   *
   * @see Python's `BaseHTTPRequestHandler.log_message`
   */
  logMessage(template: string, ...args: unknown[]): void {
    const message = escapeLogLine(format(template, ...args));
    process.stderr.write(`${this.addressString()} - - [${this.logDateTimeString()}] ${message}\n`);
  }

  /** The client's address, for the log. @see Python's `BaseHTTPRequestHandler.address_string` */
  addressString(): string {
    return this.clientAddress[0];
  }

  /**
   * The current local time for the log: `23/Nov/2026 18:30:00`.
   *
   * @see Python's `BaseHTTPRequestHandler.log_date_time_string`
   */
  logDateTimeString(): string {
    const d = new Date();
    return (
      `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${String(d.getFullYear()).padStart(4, "0")} ` +
      `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
    );
  }

  /** The body could not be received: answer its status, or nothing if the client left. */
  #bodyFailed(err: unknown): void {
    if (err instanceof BodyError) {
      this.sendError(err.status, err.message);
    } else if (isDisconnect(err)) {
      this.closeConnection = true;
    } else {
      // The spool failed (a full disk): the server's fault, not the client's.
      this.getStderr().write(formatError(err));
      this.sendError(500);
    }
  }
}
