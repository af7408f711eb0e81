/**
 * The seam between `node:http` and WSGI: an `IncomingMessage` checked and turned
 * into an environ, its body received into a `SpooledInput` within limits, and a
 * file sent to a `ServerResponse` in large blocks.
 *
 * Node's own parser (llhttp) has already framed the request; what is left here is
 * what llhttp does not check (Host, the HTTP version, the final transfer coding,
 * the number of header fields) and what WSGI needs (CGI variables, a synchronous
 * `wsgi.input`).
 */

import { Buffer } from "node:buffer";
import { read } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { equalsFolded } from "../internal/ascii-fold.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { type ByteSource, closedError, InputBase, MemorySource } from "../streams/input-base.js";
import { SpooledInput } from "../streams/spooled-input.js";
import type { PartialEnvironment } from "../types.js";
import { sendFileByKernel } from "./kernel-sendfile.js";

/** The limits that apply to one request (see `ServerOptions`). */
export interface RequestLimits {
  /** Largest request body accepted, in bytes; past it, 413. */
  readonly maxBodySize: number;
  /** Bodies larger than this many bytes are spooled to a temporary file. */
  readonly spoolThreshold: number;
  /** Most header fields accepted; past it, 431. */
  readonly maxHeaders: number;
  /** How long a body may go without a byte, in milliseconds; past it, 408 (absent or 0: no limit). */
  readonly bodyTimeout?: number;
}

/**
 * What the request's header fields say about its framing and routing, read in
 * one pass over `rawHeaders` (Node's `req.headers` is built lazily, on first use).
 */
export interface RequestFacts {
  /** How many `Host` fields there are. */
  hosts: number;
  /** The value of the first `Host` field. */
  host: string | undefined;
  /** The `Content-Length` value (llhttp allows at most one, all digits). */
  contentLength: string | undefined;
  /** The `Transfer-Encoding` values, joined with `,`. */
  transferEncoding: string | undefined;
  /** Whether the client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
  /** The `Expect` values, joined with `, ` as Node joins them; undefined if none. */
  expect: string | undefined;
  /**
   * Whether it asks to upgrade the protocol, as llhttp reads it: an `Upgrade`
   * field and `upgrade` among the `Connection` options.
   */
  upgrade: boolean;
}

// RFC 9112 §3.2 and RFC 3986 §3.2.2: Host = uri-host [ ":" port ], where uri-host is
// an IP-literal in brackets or a reg-name (unreserved, pct-encoded, sub-delims); an
// empty value is allowed (a target URI without authority).
const VALID_HOST =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;

// RFC 9112 §3.2.2: absolute-form, `scheme "://" authority`, reduced to the path;
// group 1 is the scheme, group 2 the authority.
const ABSOLUTE_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;

// RFC 9110 §4.2.1, §4.2.4: the authority of an http(s) target, a host (not empty)
// and an optional port, without userinfo (a recipient treats it as an error).
const VALID_AUTHORITY =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]+)(?::[0-9]*)?$/;

// The schemes an HTTP server serves (RFC 9110 §4.2).
const HTTP_SCHEME = /^https?$/i;

// RFC 9110 §10.1.1, matched as Node matches it before its checkContinue event.
const EXPECT_CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

// A list field value with no element: empty, or commas and OWS only.
const EMPTY_LIST = /^[ \t,]*$/;

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/g;

// RFC 9110 §7.6.1: Connection = #connection-option; "upgrade" among them.
const CONNECTION_UPGRADE = /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i;

/** Read the header fields that decide whether and how a request is served. */
export function requestFacts(req: IncomingMessage): RequestFacts {
  const raw = req.rawHeaders;
  const facts: RequestFacts = {
    hosts: 0,
    host: undefined,
    contentLength: undefined,
    transferEncoding: undefined,
    expectContinue: false,
    expect: undefined,
    upgrade: false,
  };
  let upgradeField = false;
  let connectionUpgrade = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Compare lengths first, so most names are never compared at all.
    switch (name.length) {
      case 4:
        if (equalsFolded(name, "host")) {
          facts.hosts += 1;
          facts.host ??= raw[i + 1];
        }
        break;
      case 6:
        if (equalsFolded(name, "expect")) {
          const value = raw[i + 1]!;
          // An empty list asks for nothing (RFC 9110 §5.6.1: Expect = #expectation).
          if (EMPTY_LIST.test(value)) break;
          facts.expect = facts.expect === undefined ? value : `${facts.expect}, ${value}`;
          facts.expectContinue = EXPECT_CONTINUE.test(facts.expect);
        }
        break;
      case 7:
        if (equalsFolded(name, "upgrade")) upgradeField = true;
        break;
      case 10:
        if (equalsFolded(name, "connection")) {
          connectionUpgrade ||= CONNECTION_UPGRADE.test(raw[i + 1] as string);
        }
        break;
      case 14:
        if (equalsFolded(name, "content-length")) facts.contentLength = raw[i + 1];
        break;
      case 17:
        if (equalsFolded(name, "transfer-encoding")) {
          const value = raw[i + 1]!;
          const previous = facts.transferEncoding;
          facts.transferEncoding = previous === undefined ? value : `${previous},${value}`;
        }
        break;
    }
  }
  facts.upgrade = upgradeField && connectionUpgrade;
  return facts;
}

/**
 * Return the status a request must be refused with, or 0 to serve it.
 *
 * llhttp has refused malformed framing already (and no lenient mode is on).
 * Beyond it: any HTTP major version but 1 is 505; too many header fields, 431;
 * no `Host` in HTTP/1.1, two `Host` fields or an invalid one, 400 (RFC 9112
 * §3.2); a target of asterisk-form for a method but `OPTIONS`, or of
 * absolute-form whose scheme is not `http` or `https` or whose authority is not
 * a host and port, 400 (RFC 9112 §3.2.2, §3.2.4; RFC 9110 §4.2); a
 * `Transfer-Encoding` whose final coding is not `chunked`, or any in an HTTP/1.0
 * request, 400 (RFC 9112 §6.1); another coding before `chunked`, 501 (§6.1: a
 * coding the server does not understand); a `Content-Length` above
 * `maxBodySize`, 413; an HTTP/1.1 expectation other than `100-continue`, 417
 * (RFC 9110 §10.1.1).
 */
export function refusalStatus(
  req: IncomingMessage,
  facts: RequestFacts,
  limits: RequestLimits,
): number {
  if (req.httpVersionMajor !== 1) return 505;
  // Node keeps at most maxHeaders + 1 fields (the server's maxHeadersCount), enough to tell.
  if (req.rawHeaders.length > limits.maxHeaders * 2) return 431;
  if (facts.hosts > 1) return 400;
  if (facts.host === undefined ? req.httpVersionMinor >= 1 : !VALID_HOST.test(facts.host)) {
    return 400;
  }
  const target = req.url;
  // Origin-form, the usual case, starts with "/"; llhttp refused what is no target.
  if (target !== undefined && target.charCodeAt(0) !== 0x2f) {
    if (target === "*") {
      if (req.method !== "OPTIONS") return 400;
    } else {
      const absolute = ABSOLUTE_FORM.exec(target);
      if (
        absolute === null ||
        !HTTP_SCHEME.test(absolute[1] as string) ||
        !VALID_AUTHORITY.test(absolute[2] as string)
      ) {
        return 400;
      }
    }
  }
  const te = facts.transferEncoding;
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as
  // having faulty framing, and the connection closed after it. Refused, as nginx
  // does, rather than served and then closed: an HTTP/1.0 hop in front may not
  // know chunked and frame the body otherwise, so the body cannot be trusted
  // either, and SPEC §7 answers faulty framing 400 and closes. llhttp alone
  // de-chunks it and keeps the connection when asked (Connection: keep-alive).
  if (te !== undefined && (req.httpVersionMinor === 0 || !isChunkedLast(te))) return 400;
  // Every element is a coding and chunked is only the last (a comma in a quoted
  // parameter failed above): any comma is another coding before it, which would
  // reach the application still applied (gzip, chunked: a compressed body).
  if (te?.includes(",")) return 501;
  const length = facts.contentLength;
  if (length !== undefined && Number(length) > limits.maxBodySize) return 413;
  // Refused here, so that it closes the connection as every refusal does: Node's
  // own 417 kept it open, and the request after it was served (found by the
  // network fuzzer). HTTP/1.0 expectations are ignored, as Node ignores them.
  if (facts.expect !== undefined && req.httpVersionMinor >= 1 && !facts.expectContinue) return 417;
  return 0;
}

// RFC 9112 §7.3: transfer-coding = token *( OWS ";" OWS token "=" ( token / quoted-string ) ).
const TRANSFER_CODING =
  /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+=(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))*$/;

// OWS only: String.prototype.trim() would also strip NBSP and other Unicode spaces.
const OWS_AROUND = /^[ \t]+|[ \t]+$/g;

/**
 * Whether the Transfer-Encoding values are a list of transfer codings whose last
 * is `chunked` and no other is (RFC 9112 §6.3, §7: chunked is applied once).
 *
 * Every element is checked, not only the last (found by the network fuzzer): a
 * field `chunke\xa3`, `\xa0chunked` or `chunked;q=1` before a `chunked` field was
 * served, and the request after it too, though a peer that takes such a field
 * for `chunked` (or drops it) frames the body differently.
 */
function isChunkedLast(te: string): boolean {
  const elements = te.split(",");
  const last = elements.length - 1;
  for (let i = 0; i <= last; i++) {
    const coding = TRANSFER_CODING.exec((elements[i] as string).replace(OWS_AROUND, ""));
    if (coding === null) return false;
    if (((coding[1] as string).toLowerCase() === "chunked") !== (i === last)) return false;
  }
  return true;
}

/**
 * Percent-decode a path to bytes, then read them as latin-1, as Python's
 * `urllib.parse.unquote(path, "iso-8859-1")`: `%2F` becomes `/`, `%E4` `ä`, and a
 * `%` not followed by two hex digits stays as it is.
 */
export function unquotePath(path: string): string {
  if (!path.includes("%")) return path;
  return path.replace(PERCENT_ESCAPE, (sequence) =>
    String.fromCharCode(Number.parseInt(sequence.slice(1), 16)),
  );
}

/**
 * Split a request target into its path (absolute-form reduced to the path, `/`
 * when it has none) and its query.
 */
export function splitTarget(target: string): [path: string, query: string] {
  let rest = target;
  if (rest.charCodeAt(0) !== 0x2f && rest !== "*") {
    const absolute = ABSOLUTE_FORM.exec(rest);
    if (absolute !== null) {
      rest = rest.slice(absolute[0].length);
      if (rest.charCodeAt(0) !== 0x2f) rest = `/${rest}`;
    }
  }
  const question = rest.indexOf("?");
  return question === -1 ? [rest, ""] : [rest.slice(0, question), rest.slice(question + 1)];
}

// Header name -> [CGI name, environ key]: the same few names come with every
// request. Bounded, so a client sending random names cannot grow it.
const CGI_NAMES = new Map<string, readonly [string, string]>();
const CGI_NAMES_MAX = 1024;
// Names with `_` are dropped: `X_Forwarded_For` must not pose as `X-Forwarded-For`.
const DROPPED = ["", ""] as const;

function cgiName(name: string): readonly [string, string] {
  let entry = CGI_NAMES.get(name);
  if (entry === undefined) {
    if (name.includes("_")) {
      entry = DROPPED;
    } else {
      const cgi = name.toUpperCase().replaceAll("-", "_");
      entry = [cgi, `HTTP_${cgi}`];
    }
    if (CGI_NAMES.size < CGI_NAMES_MAX) CGI_NAMES.set(name, entry);
  }
  return entry;
}

/**
 * Build the CGI part of a request's environ over a copy of `base`, as Python's
 * `WSGIRequestHandler.get_environ` does.
 *
 * `REQUEST_METHOD`, `SERVER_PROTOCOL`, `PATH_INFO` (percent-decoded as latin-1),
 * `QUERY_STRING`, `REQUEST_URI` (the raw target), `REMOTE_ADDR`, `REMOTE_PORT`,
 * `CONTENT_TYPE` (`''` when absent), `CONTENT_LENGTH` (when sent), and one
 * `HTTP_*` key per header field name, repeated fields joined with `,`. As in
 * Python, a field whose CGI name is already a key (`Content-Type`,
 * `Content-Length`) is skipped; unlike Python, a name containing `_` is dropped.
 * For an absolute-form target, `HTTP_HOST`, `SERVER_NAME` and `SERVER_PORT`
 * (when it has a port) are its authority's, whatever `Host` says.
 */
export function requestEnviron(req: IncomingMessage, base: PartialEnvironment): PartialEnvironment {
  const target = req.url ?? "/";
  const [path, query] = splitTarget(target);
  const socket = req.socket;
  const protocol = `HTTP/${req.httpVersion}`;
  const method = req.method ?? "GET";
  const pathInfo = unquotePath(path);
  const address = socket.remoteAddress ?? "";
  const port = socket.remotePort === undefined ? "" : String(socket.remotePort);
  let env: PartialEnvironment;
  if (hasServerBaseKeys(base)) {
    // One object literal: V8 gives it a slot per key inside the object, and
    // room for as many more keys (the HTTP_* ones) before it would turn the
    // environ into a hash table. Copied and then grown key by key, it turns
    // into one after about a dozen, which costs microseconds per request.
    env = {
      SERVER_NAME: base.SERVER_NAME,
      GATEWAY_INTERFACE: base.GATEWAY_INTERFACE,
      SERVER_PORT: base.SERVER_PORT,
      REMOTE_HOST: base.REMOTE_HOST,
      CONTENT_LENGTH: base.CONTENT_LENGTH,
      SCRIPT_NAME: base.SCRIPT_NAME,
      "wsgi.input_terminated": base["wsgi.input_terminated"],
      SERVER_PROTOCOL: protocol,
      REQUEST_METHOD: method,
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      REQUEST_URI: target,
      REMOTE_ADDR: address,
      REMOTE_PORT: port,
      CONTENT_TYPE: "",
    };
  } else {
    // Not `{ ...base }`: V8 (11.3) makes an object spread from a non-empty one slow
    // to add properties to, some 20 µs per request.
    env = Object.assign({}, base);
    env.SERVER_PROTOCOL = protocol;
    env.REQUEST_METHOD = method;
    env.PATH_INFO = pathInfo;
    env.QUERY_STRING = query;
    env.REQUEST_URI = target;
    env.REMOTE_ADDR = address;
    env.REMOTE_PORT = port;
    env.CONTENT_TYPE = "";
  }
  const raw = req.rawHeaders;
  let contentType: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const [cgi, key] = cgiName(name);
    if (cgi === "") continue;
    if (cgi === "CONTENT_TYPE") {
      contentType ??= value;
    } else if (cgi === "CONTENT_LENGTH") {
      if (value !== "") env.CONTENT_LENGTH = value;
    } else if (!(cgi in env)) {
      const previous = env[key];
      env[key] = previous === undefined ? value : `${previous as string},${value}`;
    }
  }
  if (contentType !== undefined) env.CONTENT_TYPE = contentType;
  if (target.charCodeAt(0) !== 0x2f) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute !== null) useAuthority(env, absolute[2] as string);
  }
  return env;
}

/**
 * RFC 9112 §3.2.2: a server that gets an absolute-form target uses its authority
 * and ignores the `Host` field; so `HTTP_HOST` and `SERVER_NAME` are the
 * authority's, and `SERVER_PORT` its port when it has one (Werkzeug does the
 * same), or an application would build its URLs from the `Host` a client could
 * set apart from the target.
 */
function useAuthority(env: PartialEnvironment, authority: string): void {
  env.HTTP_HOST = authority;
  // The port follows the last ":" outside an IP literal's brackets.
  const colon = authority.lastIndexOf(":");
  const hasPort = colon > authority.lastIndexOf("]");
  env.SERVER_NAME = hasPort ? authority.slice(0, colon) : authority;
  if (hasPort && colon < authority.length - 1) env.SERVER_PORT = authority.slice(colon + 1);
}

/** The keys of `WSGIServer`'s own `baseEnviron`, in its order. */
export const SERVER_BASE_KEYS: readonly string[] = [
  "SERVER_NAME",
  "GATEWAY_INTERFACE",
  "SERVER_PORT",
  "REMOTE_HOST",
  "CONTENT_LENGTH",
  "SCRIPT_NAME",
  "wsgi.input_terminated",
];

/**
 * Whether `base` has exactly the keys of `WSGIServer`'s `baseEnviron`, in order
 * (checked on every request: a server's `baseEnviron` may be changed at any time).
 */
function hasServerBaseKeys(base: PartialEnvironment): boolean {
  let i = 0;
  for (const key in base) {
    if (key !== SERVER_BASE_KEYS[i]) return false;
    i++;
  }
  return i === SERVER_BASE_KEYS.length && Object.getOwnPropertySymbols(base).length === 0;
}

// Read-only, so one serves every empty input (each keeps its own position).
const NO_BYTES: ByteSource = new MemorySource(Buffer.alloc(0));

/**
 * `wsgi.input` for a request without a body: reads as an empty `BytesInput`
 * does, for the price of one small object (most requests have no body).
 */
export class EmptyInput extends InputBase {
  #closed = false;

  /** Always 0. */
  get length(): number {
    return 0;
  }

  /** Make later reads throw, as for a closed file. */
  close(): void {
    this.#closed = true;
  }

  protected override source(): ByteSource {
    if (this.#closed) throw closedError();
    return NO_BYTES;
  }
}

/** Why a request body was not received: the status to answer it with. */
export class BodyError extends Error {
  /** The HTTP status the request gets (413, or 400/408 for framing and timeouts). */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

// A function that stops the body being received on a socket, set while one is.
const kReceiving = Symbol("wsgiref.receiving");
type ReceivingSocket = Socket & { [kReceiving]?: (err: Error) => boolean };

/**
 * Stop receiving the body of the request on `socket`, if one is being received
 * and Node has not read all of it, so that its handler answers it with `status`
 * (a framing error or timeout that Node reports on the socket). Returns whether
 * there was one.
 */
export function failReceiving(socket: Socket, status: number, message: string): boolean {
  const fail = (socket as ReceivingSocket)[kReceiving];
  return fail?.(new BodyError(status, message)) ?? false;
}

/** How many bytes of a spooled body may wait for the disk before the client is paused. */
const UNWRITTEN_MAX = 2 * 1024 * 1024;

/**
 * Receive the whole request body into a `SpooledInput`, de-chunked by Node.
 *
 * Rejects with a `BodyError` (413) as soon as the body grows past `maxBodySize`,
 * with a `BodyError` (408) when no byte of it came for `bodyTimeout`, with the
 * `BodyError` given to `failReceiving`, or with a disconnect error when the
 * client goes away; the input is closed then. While the body goes to the
 * temporary file, the request is paused whenever more than `UNWRITTEN_MAX`
 * bytes wait to be written, so a fast client cannot fill memory.
 */
export function receiveBody(req: IncomingMessage, limits: RequestLimits): Promise<SpooledInput> {
  const input = new SpooledInput(limits.spoolThreshold);
  const socket = req.socket as ReceivingSocket;
  const max = limits.maxBodySize;
  const idleMax = limits.bodyTimeout ?? 0;
  return new Promise<SpooledInput>((resolve, reject) => {
    let settled = false;
    // Restarted by every chunk, and while the request is paused for the disk
    // (the server's wait, not the client's).
    let idle: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      settled = true;
      clearTimeout(idle);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", fail);
      req.off("close", onClose);
      if (socket[kReceiving] === failIncomplete) socket[kReceiving] = undefined;
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      cleanup();
      req.pause();
      input.close();
      reject(err);
    };
    const resume = (): void => {
      if (settled) return;
      idle?.refresh();
      req.resume();
    };
    // Bytes handed to the spool's file and not yet written: past UNWRITTEN_MAX
    // the request is paused until they are, so a fast client cannot fill the
    // memory; below it, chunks keep coming while the disk writes, and the
    // spool writes them together.
    let unwritten = 0;
    let paused = false;
    const onData = (chunk: Buffer): void => {
      idle?.refresh();
      if (input.length + chunk.length > max) {
        fail(new BodyError(413, `the request body is larger than maxBodySize (${max} bytes)`));
        return;
      }
      const writing = input.write(chunk);
      if (input.length <= input.threshold) return;
      unwritten += chunk.length;
      writing.then(() => {
        unwritten -= chunk.length;
        if (paused && unwritten <= UNWRITTEN_MAX / 2) {
          paused = false;
          resume();
        }
      }, fail);
      if (unwritten > UNWRITTEN_MAX && !paused) {
        paused = true;
        req.pause();
      }
    };
    const onEnd = (): void => {
      cleanup();
      input.end().then(
        () => resolve(input),
        (err: unknown) => {
          input.close();
          reject(err);
        },
      );
    };
    const onClose = (): void => {
      if (!req.complete) fail(streamDestroyedError("the request"));
    };
    if (idleMax > 0) {
      idle = setTimeout(() => {
        if (paused) idle?.refresh();
        else fail(new BodyError(408, `the request body stalled past bodyTimeout (${idleMax} ms)`));
      }, idleMax);
    }
    // An error Node reports once the body is complete is in what follows it (a
    // request it cannot parse): this request is served, and that error answered
    // after it.
    const failIncomplete = (err: Error): boolean => {
      if (req.complete) return false;
      fail(err);
      return true;
    };
    socket[kReceiving] = failIncomplete;
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", fail);
    req.once("close", onClose);
  });
}

/**
 * Wait until `res` is given its socket (when the responses before it on the
 * connection are sent); resolves to false if the connection closes first.
 */
export function whenAssigned(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (res.socket !== null) return Promise.resolve(true);
  const socket = req.socket;
  // Closed already: its "close" is not coming again.
  if (socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onSocket = (): void => {
      socket.off("close", onClose);
      resolve(true);
    };
    const onClose = (): void => {
      res.off("socket", onSocket);
      resolve(false);
    };
    res.once("socket", onSocket);
    socket.once("close", onClose);
  });
}

/**
 * How much of a file one read brings in. One block at a time per response, read
 * only once the socket has taken the one before: a client that stops reading
 * holds this much, however many such clients there are.
 */
const FILE_BLOCK = 64 * 1024;

function readBlock(fd: number, buffer: Buffer, max: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Position null: from the file's current position, which the read advances.
    read(fd, buffer, 0, Math.min(buffer.length, max), null, (err, bytesRead) => {
      if (err) reject(err);
      else resolve(bytesRead);
    });
  });
}

/** Wait for `res` to drain; reject with a disconnect error if it closes first. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off("drain", onDrain);
      reject(streamDestroyedError("the client connection"));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** What `sendFile` did: the bytes sent, and whether the file went on past the limit. */
export interface SentFile {
  sent: number;
  excess: boolean;
}

/**
 * Send the file open on `fd` from its current position to its end as the body of
 * `res` (whose headers are set): by sendfile(2) when the kernel route applies
 * (`kernel-sendfile.ts`), else in blocks of 64 KiB, one at a time: the next is
 * read once the socket has taken the last.
 *
 * Never sends more than `limit` bytes (the response's Content-Length): a file
 * longer than that is sent up to it and `excess` set. No read is in flight when
 * the promise settles, so the caller may close `fd` then. Rejects with a
 * disconnect error when the client goes away (or is dropped for not reading).
 */
export async function sendFile(
  fd: number,
  res: ServerResponse,
  limit = Number.POSITIVE_INFINITY,
): Promise<SentFile> {
  const byKernel = await sendFileByKernel(fd, res, limit);
  if (byKernel !== undefined) {
    if (byKernel.ended || byKernel.sent < limit) return { sent: byKernel.sent, excess: false };
    // The limit is reached: one byte more tells whether the file goes on past it.
    const more = await readBlock(fd, Buffer.allocUnsafe(1), 1);
    return { sent: byKernel.sent, excess: more > 0 };
  }
  let sent = 0;
  // One byte more than the limit leaves: a small file gets a small block.
  let block: Buffer = Buffer.allocUnsafeSlow(Math.min(FILE_BLOCK, limit + 1));
  for (;;) {
    // Each read asks for one byte more than the limit leaves: getting it tells a
    // file longer than the limit without reading further.
    const count = await readBlock(fd, block, limit - sent + 1);
    if (count === 0) return { sent, excess: false };
    if (res.destroyed) throw streamDestroyedError("the client connection");
    if (count > limit - sent) {
      // Past the limit: send what it leaves room for and stop (the caller ends
      // the response, so there is no drain to wait for).
      if (limit > sent) res.write(block.subarray(0, limit - sent));
      return { sent: limit, excess: true };
    }
    const mustWait = !res.write(count === block.length ? block : block.subarray(0, count));
    sent += count;
    if (mustWait) {
      // Once drained, the socket holds none of the block: it may be read into again.
      await drained(res);
    } else {
      // Taken without a wait, it may still be on its way out: use a new one.
      block = Buffer.allocUnsafeSlow(block.length);
    }
  }
}
