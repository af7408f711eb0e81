/**
 * `GatewayHandler`: the `SimpleHandler` every entry point runs an application
 * with, writing through the output stage (`OutputStage`) into a transport's
 * `ResponseSink`, so that every transport frames a response by the same rules.
 */

import { createRequire } from "node:module";
import { SimpleHandler } from "../handlers/simple-handler.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { formatError } from "../internal/format-error.js";
import { escapeLogLine } from "../internal/log-text.js";
import type { ErrorStream, FileWrapper, InputStream, PartialEnvironment } from "../types.js";
import { OutputStage, type ResponseSink } from "./output-stage.js";

/** The package's version, read through its own name so it is right from `src/` and `build/`. */
const VERSION = (createRequire(import.meta.url)("wsgiref/package.json") as { version: string })
  .version;

/** `WSGIServer/<version>`: `SERVER_SOFTWARE`, as Python's `server_version`. */
export const serverVersion = `WSGIServer/${VERSION}`;
/** `Node.js/<version>`, as Python's `sys_version`. */
export const sysVersion = `Node.js/${process.versions.node}`;
/** The `Server` response header: `WSGIServer/<version> Node.js/<version>`. */
export const softwareVersion = `${serverVersion} ${sysVersion}`;

/**
 * Whether `env` has no key (`osEnviron` is empty by default). Symbol keys are
 * not looked for: a handler's environ starts as a new `{}`.
 */
function isEmpty(env: PartialEnvironment): boolean {
  for (const _ in env) return false;
  return true;
}

/**
 * Run one application for one request into a `ResponseSink`.
 *
 * Status and headers go out together (names keep their case, duplicates stay),
 * preceded by `Date` and `Server` unless the application set them; the
 * transport frames the body. An error after the headers went out cuts the
 * connection, so the client can tell the response is incomplete. A
 * `FileWrapper` over a file descriptor goes to the sink's `sendFile`, not
 * through its iterator.
 */
export class GatewayHandler extends SimpleHandler {
  override serverSoftware: string | undefined = softwareVersion;
  /** The status line of an HTTP/1.1 transport (`node:http` always speaks HTTP/1.1). */
  override httpVersion = "1.1";
  /**
   * Whether the environ given to the constructor (`baseEnv`) is this request's
   * own, a new object nothing else holds: the next `setupEnviron()` then makes
   * it the environ as it is rather than copying it (Python's
   * `environ.update(base_env)`), and resets this. A copy grown key by key is a
   * slower object to build and to read.
   */
  ownsEnviron = false;
  /** The response's framing, over the transport's sink. */
  readonly output: OutputStage;

  /**
   * Handle one request whose response goes to `sink`.
   *
   * @see Python's `SimpleHandler.__init__`
   */
  constructor(
    stdin: InputStream,
    sink: ResponseSink,
    stderr: ErrorStream,
    environ: PartialEnvironment,
    multithread = true,
    multiprocess = false,
  ) {
    super(stdin, sink, stderr, environ, multithread, multiprocess);
    this.output = new OutputStage(sink, (what) => this.#reportBody(what));
  }

  /** Make `baseEnv` the environ when the handler owns it (`ownsEnviron`), else merge it. */
  override addCgiVars(): void {
    if (this.ownsEnviron && isEmpty(this.environ as PartialEnvironment)) {
      this.ownsEnviron = false;
      this.environ = this.baseEnv;
      return;
    }
    super.addCgiVars();
  }

  /** Build the environ, adding the transport's `wsgiref.connection`. @see Python's `BaseHandler.setup_environ` */
  override setupEnviron(): void {
    super.setupEnviron();
    const connection = this.output.sink.connection;
    // A literal key: V8 keeps an object built with literal keys fast, and one
    // computed-key store on an object this large turns it into a hash table.
    if (connection !== undefined) {
      (this.environ as PartialEnvironment)["wsgiref.connection"] = connection;
    }
  }

  /**
   * Send status and headers through the output stage, after `cleanupHeaders()`.
   *
   * @see Python's `BaseHandler.send_headers`
   */
  override sendHeaders(): void {
    this.cleanupHeaders();
    const headers = this.headers as NonNullable<typeof this.headers>;
    this.output.start(
      this.status as string,
      headers.items(),
      this.environ?.REQUEST_METHOD,
      this.serverSoftware,
    );
    this.headersSent = true;
  }

  /**
   * Write `data` through the output stage (never past the declared
   * Content-Length); wait when the transport asks to.
   *
   * @see Python's `SimpleHandler._write`
   */
  override _write(data: Uint8Array): void | Promise<void> {
    const output = this.output;
    if (output.sink.takenOver) return;
    const before = output.bodyBytes;
    const more = output.write(data);
    // write() counted the whole chunk: count only what went out.
    this.bytesSent -= data.length - (output.bodyBytes - before);
    if (!more) return output.drained();
  }

  /** The sink sends what it is given: nothing to flush. @see Python's `SimpleHandler._flush` */
  override _flush(): void {
    if (this.output.sink.destroyed) throw streamDestroyedError("stdout");
  }

  /**
   * Send the headers if they are not out yet, then end the response.
   *
   * @see Python's `BaseHandler.finish_content`
   */
  override finishContent(): void {
    if (this.output.ended || this.output.sink.takenOver) return;
    // sendHeaders() and _flush() answer synchronously here.
    void super.finishContent();
    this.output.end();
  }

  /**
   * Send a `FileWrapper` over a file descriptor from its current position (as
   * far as its `remaining`, when it says) through the sink's `sendFile`, and end
   * the response; return `false` (iterate it instead) when it has no `fd`.
   *
   * @see Python's `BaseHandler.sendfile`
   */
  override sendfile(): boolean | Promise<boolean> {
    const { fd, remaining } = (this.result as FileWrapper).filelike;
    if (typeof fd !== "number") return false;
    if (this.output.sink.takenOver) return true;
    if (!this.headersSent) this.sendHeaders();
    return this.output.sendFile(fd, remaining).then((sent) => {
      this.bytesSent += sent;
      return true;
    });
  }

  /**
   * Log `err` on `wsgi.errors`, or, when that stream itself throws, on the
   * process's stderr with the reason, so that the request still gets its error
   * page. Python's `BaseHandler.run` gives up on the request here ("an error
   * handling an error"); a server should not drop a 500 because a logger broke.
   *
   * @see Python's `BaseHandler.log_exception`
   */
  override logException(err: unknown): void {
    try {
      super.logException(err);
    } catch (logErr) {
      const reason = logErr instanceof Error ? logErr.message : String(logErr);
      process.stderr.write(
        `wsgi.errors failed (${escapeLogLine(reason)}) ` +
          `while logging an application error:\n${formatError(err, this.tracebackLimit)}`,
      );
    }
  }

  /**
   * Log `err`; before the headers, answer with the error page; after them, cut
   * the connection so the client sees an incomplete response.
   *
   * @see Python's `BaseHandler.handle_error`
   */
  override handleError(err: unknown): void | Promise<void> {
    const output = this.output;
    // The output's own flag too: a body whose close() throws does so once the
    // whole response is out and BaseHandler.close() has reset `headersSent` (as
    // Python's does); an error page then would come after the response.
    if (output.sink.takenOver || this.headersSent || output.started) {
      this.logException(err);
      // A response already ended is whole: its connection may go on serving.
      output.cut();
      return;
    }
    return super.handleError(err);
  }

  /** One line on wsgi.errors about the body of this response. */
  #reportBody(what: string): void {
    const env = this.environ;
    const stderr = this.getStderr();
    // The target is the client's: escaped, as in the access log.
    const request = escapeLogLine(`${env?.REQUEST_METHOD} ${env?.REQUEST_URI}`);
    stderr.write(`the response body to ${request} ${what}\n`);
    stderr.flush();
  }
}
