/**
 * The request stage every entry point shares: a request's head (method, target,
 * version, header fields, peer) checked for what must be refused and turned into
 * the CGI part of its environ.
 *
 * Transport-independent: a `node:http` `IncomingMessage` is a `RequestHead` as it
 * is (no copy per request); other transports and adapters (HTTP/2, the Fetch API,
 * Lambda, the test client) describe their request in the same shape. Node's parser
 * (llhttp) frames HTTP/1.1 requests; what is checked here is what it does not
 * check (Host, the HTTP version, the final transfer coding, the number of header
 * fields).
 */

import type { IncomingHttpHeaders } from "node:http2";
import { equalsFolded } from "../internal/ascii-fold.js";
import { asciiSet, inAsciiSet } from "../internal/field-chars.js";
import type { PartialEnvironment } from "../types.js";

/** Where a request came from (a `net.Socket` is one). */
export interface RequestPeer {
  /** The client's address; absent for a Unix socket or an in-process request. */
  readonly remoteAddress?: string | undefined;
  /** The client's port. */
  readonly remotePort?: number | undefined;
}

/**
 * A request's head, in the names `node:http`'s `IncomingMessage` uses, so that
 * one is a `RequestHead` without a copy.
 */
export interface RequestHead {
  /** The method (`GET`); absent is read as `GET`. */
  readonly method?: string | undefined;
  /** The request target as sent (`/path?query`, `*`, or absolute-form). */
  readonly url?: string | undefined;
  /** `1.1`, `1.0`, `2.0`. */
  readonly httpVersion: string;
  /** The major version (1 for HTTP/1.x). */
  readonly httpVersionMajor: number;
  /** The minor version. */
  readonly httpVersionMinor: number;
  /** Header names and values, alternating, names with their case, in order. */
  readonly rawHeaders: readonly string[];
  /** The peer: `REMOTE_ADDR` and `REMOTE_PORT`. */
  readonly socket: RequestPeer;
}

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
// empty value is allowed (a target URI without authority). `isValidHost` reads a
// reg-name itself and leaves only an IP literal to this.
const VALID_HOST =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;

// The characters of a reg-name besides letters and digits, as in VALID_HOST.
const REG_NAME_OTHERS = asciiSet("._~!$&'()*+,;=%-");

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
export function requestFacts(req: RequestHead): RequestFacts {
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
 * Beyond it: a request line without a version (what llhttp reads as HTTP/0.9),
 * 400, as the first line of a connection gets it from the server's front; any
 * other HTTP major version but 1, 505; too many header fields, 431;
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
  req: RequestHead,
  facts: RequestFacts,
  limits: RequestLimits,
): number {
  if (req.httpVersionMajor !== 1) return req.httpVersionMajor === 0 ? 400 : 505;
  return fieldsRefusalStatus(req, facts, limits, req.httpVersionMinor >= 1);
}

/**
 * `refusalStatus` past the version: the fields and target of a request read as
 * HTTP/1.1's when `http11` (an HTTP/2 request is), else as HTTP/1.0's.
 */
function fieldsRefusalStatus(
  req: RequestHead,
  facts: RequestFacts,
  limits: Pick<RequestLimits, "maxBodySize" | "maxHeaders">,
  http11: boolean,
): number {
  // Node keeps at most maxHeaders + 1 fields (the server's maxHeadersCount), enough to tell.
  if (req.rawHeaders.length > limits.maxHeaders * 2) return 431;
  if (facts.hosts > 1) return 400;
  if (facts.host === undefined ? http11 : !isValidHost(facts.host)) {
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
  if (te !== undefined && (!http11 || !isChunkedLast(te))) return 400;
  // Every element is a coding and chunked is only the last (a comma in a quoted
  // parameter failed above): any comma is another coding before it, which would
  // reach the application still applied (gzip, chunked: a compressed body).
  if (te?.includes(",")) return 501;
  const length = facts.contentLength;
  if (length !== undefined && Number(length) > limits.maxBodySize) return 413;
  // Refused here, so that it closes the connection as every refusal does: Node's
  // own 417 kept it open, and the request after it was served. HTTP/1.0
  // expectations are ignored, as Node ignores them.
  if (facts.expect !== undefined && http11 && !facts.expectContinue) return 417;
  return 0;
}

/**
 * Whether `host` matches VALID_HOST. Every request has a `Host`, nearly always a
 * reg-name: read by a loop, which costs less than a regular expression's call.
 */
function isValidHost(host: string): boolean {
  if (host.charCodeAt(0) === 0x5b) return VALID_HOST.test(host);
  const length = host.length;
  let i = 0;
  for (; i < length; i++) {
    const c = host.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122);
    if (!alnum && !inAsciiSet(REG_NAME_OTHERS, c)) break;
  }
  if (i === length) return true;
  if (host.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
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
 * Every element is checked, not only the last: a
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

// Names with `_` are dropped: `X_Forwarded_For` must not pose as `X-Forwarded-For`.
const DROPPED = ["", ""] as const;

/**
 * The field names most requests bring, lower case as HTTP/2 and the Fetch API
 * give them; `COMMON_CGI_NAMES` holds each in that case and in the case HTTP/1.1
 * clients write it.
 */
const COMMON_FIELDS = [
  "host",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "accept-charset",
  "connection",
  "keep-alive",
  "content-type",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "expect",
  "upgrade",
  "te",
  "cookie",
  "authorization",
  "proxy-authorization",
  "referer",
  "origin",
  "cache-control",
  "pragma",
  "range",
  "if-range",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
  "dnt",
  "priority",
  "forwarded",
  "via",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
  "x-real-ip",
  "x-request-id",
  "x-requested-with",
  "upgrade-insecure-requests",
  "sec-fetch-site",
  "sec-fetch-mode",
  "sec-fetch-user",
  "sec-fetch-dest",
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];

/** `name`'s CGI name and environ key (`User-Agent`: `USER_AGENT`, `HTTP_USER_AGENT`). */
function translateName(name: string): readonly [string, string] {
  if (name.includes("_")) return DROPPED;
  const cgi = name.toUpperCase().replaceAll("-", "_");
  return [cgi, `HTTP_${cgi}`];
}

/**
 * Field name -> [CGI name, environ key] for the common names, built once at
 * load and never changed after: a cache that requests filled would be state
 * shared by every server in the process, and one client sending a thousand
 * made-up names would fill it for all of them.
 */
const COMMON_CGI_NAMES: ReadonlyMap<string, readonly [string, string]> = new Map(
  COMMON_FIELDS.flatMap((lower) => {
    const [cgi, key] = translateName(lower);
    const entry = [propertyName(cgi), propertyName(key)] as const;
    // Title-Case, as HTTP/1.1 clients send them (`DNT` and `TE` as well).
    const title = lower.replace(/(?:^|-)[a-z]/g, (start) => start.toUpperCase());
    const names = new Set([lower, title, lower.length <= 3 ? lower.toUpperCase() : title]);
    return [...names].map((name) => [name, entry] as const);
  }),
);

/** `name`'s CGI name and environ key: from the table of common names, else made for it. */
function cgiName(name: string): readonly [string, string] {
  return COMMON_CGI_NAMES.get(name) ?? translateName(name);
}

/**
 * `key` as V8 keeps a property's name (an internalized string). A key built by
 * concatenation is not one: each `env[key]` and `key in env` with it would look
 * it up in V8's string table again, and leave the access site megamorphic.
 */
function propertyName(key: string): string {
  return Object.keys({ [key]: 0 })[0] ?? key;
}

/**
 * Build the CGI part of a request's environ over a copy of `base`, as Python's
 * `WSGIRequestHandler.get_environ` does. `symbolFree`: the caller built `base`
 * and gave it no symbol key.
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
export function requestEnviron(
  req: RequestHead,
  base: PartialEnvironment,
  symbolFree = false,
): PartialEnvironment {
  const target = req.url ?? "/";
  const [path, query] = splitTarget(target);
  const socket = req.socket;
  const version = req.httpVersion;
  // The usual versions without a new string for them.
  const protocol = version === "1.1" ? "HTTP/1.1" : version === "2" ? "HTTP/2" : `HTTP/${version}`;
  const method = req.method ?? "GET";
  const pathInfo = unquotePath(path);
  const address = socket.remoteAddress ?? "";
  const port = socket.remotePort === undefined ? "" : String(socket.remotePort);
  // One object literal: V8 gives it a slot per key inside the object, and
  // room for as many more keys (the HTTP_* ones) before it would turn the
  // environ into a hash table. Copied and then grown key by key, it turns
  // into one after about a dozen keys, slower to build and to read. Built
  // first and dropped for a base that does not start with the server's keys:
  // one pass over the base then both checks its keys and copies the others.
  let env: PartialEnvironment = {
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
  let i = 0;
  for (const key in base) {
    if (i < SERVER_BASE_KEYS.length) {
      if (key !== SERVER_BASE_KEYS[i]) break;
      i++;
    } else if (!(key in env)) {
      // The base's other keys (`HTTPS` of a TLS server, a Fetch request's
      // `SERVER_SOFTWARE`), none of them replacing the request's own.
      env[key] = base[key];
    }
  }
  // Symbol keys are not enumerated above: a base that may have one is copied
  // whole (asking costs more than the rest of the copy, so a caller that built
  // the base without any says so).
  if (
    i < SERVER_BASE_KEYS.length ||
    (!symbolFree && Object.getOwnPropertySymbols(base).length !== 0)
  ) {
    // Not `{ ...base }`: V8 (11.3) makes an object spread from a non-empty one slow
    // to add properties to.
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
    const entry = cgiName(name);
    const cgi = entry[0];
    if (cgi === "") continue;
    if (cgi === "CONTENT_TYPE") {
      contentType ??= value;
    } else if (cgi === "CONTENT_LENGTH") {
      if (value !== "") env.CONTENT_LENGTH = value;
    } else if (!(cgi in env)) {
      const key = entry[1];
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
 * An HTTP/2 request's head in the request stage's shape, from its header block
 * (node:http2's `headers` and `rawHeaders`, core API or compatibility API
 * alike): `:method` and `:path`, `:authority` as `Host` (RFC 9113 §8.3.1: the
 * one a client sends directly), `cookie` fields joined with `; ` (§8.2.3), the
 * other fields as they came, pseudo-headers dropped.
 */
export function http2Head(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  peer: RequestPeer,
): RequestHead {
  const authority = headers[":authority"];
  const hasAuthority = typeof authority === "string";
  // `:authority` first, taken out again if a `host` field came.
  const fields: string[] = hasAuthority ? ["host", authority] : [];
  let cookies: string[] | undefined;
  let host = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    // A pseudo-header: read apart, above.
    if (name.charCodeAt(0) === 0x3a) continue;
    if (name === "cookie") {
      cookies ??= [];
      cookies.push(value);
      continue;
    }
    if (name === "host" && !host) {
      host = true;
      if (hasAuthority) fields.splice(0, 2);
    }
    fields.push(name, value);
  }
  if (cookies !== undefined) fields.push("cookie", cookies.join("; "));
  return {
    method: headers[":method"],
    url: headers[":path"],
    httpVersion: "2",
    httpVersionMajor: 2,
    httpVersionMinor: 0,
    rawHeaders: fields,
    // The session's peer as it is: every stream of the session has the same.
    socket: peer,
  };
}

/**
 * Why an HTTP/2 request must be refused (its status), or 0: `CONNECT` is 405
 * (no tunnel is offered), a `Host` that names another authority than
 * `:authority` 400 (RFC 9113 §8.3.1), then `refusalStatus`'s checks read as
 * HTTP/1.1's (a `Host`, here from `:authority`, is required; HTTP/2 forbids
 * `Transfer-Encoding`, which nghttp2 refuses before this).
 */
export function http2RefusalStatus(
  head: RequestHead,
  headers: IncomingHttpHeaders,
  limits: Pick<RequestLimits, "maxBodySize" | "maxHeaders">,
): number {
  if (headers[":method"] === "CONNECT") return 405;
  const authority = headers[":authority"];
  const host = headers.host;
  if (typeof authority === "string" && typeof host === "string" && authority !== host) return 400;
  return fieldsRefusalStatus(head, requestFacts(head), limits, true);
}
