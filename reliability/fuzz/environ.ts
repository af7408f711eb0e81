/**
 * Fuzz target: the environ built from raw request heads (`src/gateway/request-head.ts`
 * behind `src/simple-server/`), parsed by Node's own llhttp.
 *
 * The input is the bytes a client sends on one connection (one request, several
 * pipelined, or garbage). A `WSGIServer` on 127.0.0.1, port 0, started once and
 * kept for the run, serves them to an app that checks every environ it gets
 * (SPEC §7) and answers `200` with an empty body:
 * - `PATH_INFO` holds only latin-1 code points and, for an origin-form target,
 *   is the target's path percent-decoded as latin-1 bytes;
 * - `REQUEST_URI` is the raw target, as sent; `QUERY_STRING` is what follows its `?`;
 * - no `HTTP_` key comes from a header whose name has `_` (unless a field spelt
 *   with `-` gives the same key), and every `HTTP_` key is upper case without `-`;
 * - `CONTENT_LENGTH` is digits, and `wsgi.input` holds that many bytes (or `''`
 *   without a body, as in Python);
 * - `SERVER_PROTOCOL` is HTTP/1.0 or HTTP/1.1, `REQUEST_METHOD` a token.
 * On the client side every response must be 100, the app's 200, a 4xx, 501 or
 * 505 (nothing else comes out of bad input: a 500 would be our own error), and
 * nothing may follow a refusal on the connection. The connection must close
 * within a few seconds of the client's end of input.
 */

import { Buffer } from "node:buffer";
import { readdirSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { makeServer, type WSGIServer } from "../../src/simple-server.js";
import type { InputStream, WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { check, isLatin1, OracleError, percentDecodeLatin1 } from "./input.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_NAME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):/;
const ALLOWED = (status: number): boolean =>
  status === 100 ||
  status === 200 ||
  (status >= 400 && status < 500) ||
  status === 501 ||
  status === 505;
/** How long a connection may stay open after the client has sent everything. */
const CLOSE_WITHIN_MS = 3000;

/** A server the target sends its inputs to: where it listens, and how to stop it. */
export interface FuzzServer {
  port: number;
  close(): Promise<void>;
}

/** Start a server for `app` (the default: a `WSGIServer` with small limits). */
export type Listen = (app: WSGIApplication) => Promise<FuzzServer>;

/** The descriptors open when the server started and now, and the requests served. */
export interface LeakReport {
  fds: number;
  fdsAfter: number;
  leaks: number;
  served: number;
}

/** The CGI key each header name in `raw` would give, split by whether the name has `_`. */
function headerKeys(raw: string): { underscored: Set<string>; dashed: Set<string> } {
  const underscored = new Set<string>();
  const dashed = new Set<string>();
  for (const line of raw.split(/\r\n|\r|\n/)) {
    const match = HEADER_NAME.exec(line);
    if (match === null) continue;
    const name = match[1]!;
    const key = `HTTP_${name.toUpperCase().replaceAll("-", "_")}`;
    (name.includes("_") ? underscored : dashed).add(key);
  }
  return { underscored, dashed };
}

/** What SPEC §7 asks of an environ built from the bytes `raw`; throws an `OracleError`. */
function checkEnviron(environ: WSGIEnvironment, raw: string): void {
  const uri = environ.REQUEST_URI;
  const path = environ.PATH_INFO;
  check(
    typeof uri === "string" && typeof path === "string",
    "REQUEST_URI or PATH_INFO is not a string",
  );
  check(isLatin1(path), () => `PATH_INFO past latin-1: ${JSON.stringify(path)}`);
  check(
    raw.includes(` ${uri} `),
    () => `REQUEST_URI ${JSON.stringify(uri)} is not a target that was sent`,
  );
  const question = uri.indexOf("?");
  check(
    environ.QUERY_STRING === (question === -1 ? "" : uri.slice(question + 1)),
    "QUERY_STRING is not what follows '?'",
  );
  if (uri.startsWith("/")) {
    const target = question === -1 ? uri : uri.slice(0, question);
    check(
      path === percentDecodeLatin1(target),
      () => `PATH_INFO ${JSON.stringify(path)} is not ${JSON.stringify(target)} decoded`,
    );
  }
  check(/^HTTP\/1\.[01]$/.test(String(environ.SERVER_PROTOCOL)), "SERVER_PROTOCOL");
  check(TOKEN.test(String(environ.REQUEST_METHOD)), "REQUEST_METHOD is not a token");
  const { underscored, dashed } = headerKeys(raw);
  for (const key of Object.keys(environ)) {
    if (!key.startsWith("HTTP_")) continue;
    check(!/[a-z-]/.test(key), () => `environ key ${JSON.stringify(key)}`);
    check(
      !underscored.has(key) || dashed.has(key),
      () => `${key} comes from a header name with '_'`,
    );
  }
  // '' when the request has none, as Python's WSGIServer.setup_environ has it.
  const length = environ.CONTENT_LENGTH;
  check(
    length === undefined || (typeof length === "string" && /^\d*$/.test(length)),
    () => `CONTENT_LENGTH ${JSON.stringify(length)}`,
  );
  if (length !== undefined && length !== "") {
    const body = (environ["wsgi.input"] as InputStream).read();
    check(
      body.length === Number(length),
      () => `wsgi.input has ${body.length} bytes, CONTENT_LENGTH ${length}`,
    );
  }
}

/** The server the fuzzer runs against: Node's llhttp behind `WSGIServer`, small limits. */
export async function wsgiServer(app: WSGIApplication): Promise<FuzzServer> {
  const httpd: WSGIServer = await makeServer("127.0.0.1", 0, app, undefined, undefined, {
    quiet: true,
    // Small, so that fuzzed inputs reach the spooled and the refused paths.
    maxBodySize: 4096,
    spoolThreshold: 512,
    maxHeaders: 20,
    maxHeaderSize: 2048,
  });
  // Served for the run, but never what keeps the process alive.
  httpd.listener.unref();
  httpd.serveForever().catch((err: unknown) => {
    process.stderr.write(`serveForever() failed: ${String(err)}\n`);
  });
  return { port: httpd.serverAddress[1], close: () => httpd.serverClose() };
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * The target: one server, started on the first input and kept for the run, and
 * what the application saw of the input being tried.
 */
export class EnvironTarget {
  readonly #listen: Listen;
  readonly #closeWithinMs: number;
  readonly #reportOnExit: boolean;
  #server: Promise<FuzzServer> | undefined;
  #fds = 0;
  #current = "";
  #problems: string[] = [];
  #served = 0;

  /**
   * `listen` starts the server under test; `closeWithinMs` is how long a
   * connection may stay open after the client's end; `reportOnExit` writes the
   * `leakReport()` on stderr when the process exits (`FUZZ-LEAKS {...}`, which
   * run.ts reads: Jazzer.js ends the process with process.exit()).
   */
  constructor(options: { listen?: Listen; closeWithinMs?: number; reportOnExit?: boolean } = {}) {
    this.#listen = options.listen ?? wsgiServer;
    this.#closeWithinMs = options.closeWithinMs ?? CLOSE_WITHIN_MS;
    this.#reportOnExit = options.reportOnExit ?? false;
  }

  readonly #app: WSGIApplication = (environ, startResponse) => {
    this.#served += 1;
    try {
      checkEnviron(environ, this.#current);
    } catch (err) {
      this.#problems.push(err instanceof Error ? err.message : String(err));
    }
    startResponse("200 OK", [["Content-Length", "0"]]);
    return [];
  };

  #start(): Promise<FuzzServer> {
    this.#server ??= this.#listen(this.#app).then((server) => {
      this.#fds = openFds();
      if (this.#reportOnExit) {
        // Written synchronously: nothing asynchronous runs at exit.
        process.once("exit", () => {
          writeSync(2, `FUZZ-LEAKS ${JSON.stringify(this.leakReport())}\n`);
        });
      }
      return server;
    });
    return this.#server;
  }

  /** Try one input; throws an `OracleError` for what the server got wrong. */
  async fuzz(data: Uint8Array): Promise<void> {
    const server = await this.#start();
    const bytes = Buffer.from(data);
    this.#current = bytes.toString("latin1");
    this.#problems = [];
    const response = await exchange(server.port, bytes, this.#closeWithinMs);
    if (this.#problems.length > 0) throw new OracleError(this.#problems.join("; "));
    const got = statuses(response);
    got.forEach((status, i) => {
      check(ALLOWED(status), () => `status ${status} for bad input (responses: ${got.join(", ")})`);
      check(
        status < 400 || i === got.length - 1,
        () => `a response followed a ${status} on the same connection`,
      );
    });
  }

  /**
   * Descriptors now against when the server started: once every connection has
   * closed, and every spooled body's temporary file with it, none may be left.
   */
  leakReport(): LeakReport {
    const fdsAfter = openFds();
    return {
      fds: this.#fds,
      fdsAfter,
      leaks: Math.max(0, fdsAfter - this.#fds),
      served: this.#served,
    };
  }

  /** How many requests reached the app so far. */
  get served(): number {
    return this.#served;
  }

  /** Stop the server (for tests; a fuzzing run just exits). */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await (await server).close();
  }
}

/** Send `data` on a fresh connection; resolve to all the server sent, once it closes. */
function exchange(port: number, data: Buffer, closeWithinMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new OracleError(`the connection was still open ${closeWithinMs} ms after the client's end`),
      );
    }, closeWithinMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // The server may reset a connection it refused while input was unread.
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.end(data);
  });
}

/** The statuses of the responses in `bytes`, in order, as far as they can be framed. */
function statuses(bytes: Buffer): number[] {
  const found: number[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf("\r\n\r\n", at, "latin1");
    check(
      end !== -1,
      () =>
        `an incomplete response head: ${JSON.stringify(bytes.toString("latin1", at, at + 200))}`,
    );
    const head = bytes.toString("latin1", at, end);
    const match = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    check(match !== null, () => `not a status line: ${JSON.stringify(head.slice(0, 100))}`);
    const status = Number(match[1]);
    found.push(status);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (status === 100) at = end + 4;
    else if (length !== null) at = end + 4 + Number(length[1]);
    else break;
  }
  return found;
}

/** The target Jazzer.js runs: the real server, its leaks reported at exit. */
const target = new EnvironTarget({ reportOnExit: true });

export function fuzz(data: Uint8Array): Promise<void> {
  return target.fuzz(data);
}

/** Stop the server (for tests; a fuzzing run just exits). */
export function close(): Promise<void> {
  return target.close();
}

/** Seeds: request heads from tests/simple-server/ and tests/gateway/. */
export const seeds: readonly (readonly string[])[] = [
  ["GET / HTTP/1.1\r\nHost: a\r\n\r\n"],
  [
    "GET /sp%E4m/%2F?x=1&y HTTP/1.1\r\nHost: example.com:8080\r\nX-Forwarded-For: 1\r\nX_Forwarded_For: 2\r\n\r\n",
  ],
  [
    "POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
  ],
  ["POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["GET http://example.com/abs?q HTTP/1.1\r\nHost: example.com\r\n\r\n"],
  ["GET / HTTP/1.0\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"],
  ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"],
  [
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  ],
  ["PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"],
  ["OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["GET / HTTP/2.0\r\nHost: a\r\n\r\n"],
  ["BREW / HTTP/1.1\r\nHost: a\r\n\r\n"],
  ["GET /\xff\x80 HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xe9\r\n\r\n"],
  ["HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n"],
];
