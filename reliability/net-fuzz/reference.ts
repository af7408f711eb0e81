/**
 * The oracle's reference framer: where each request on a connection ends, by
 * RFC 9112 read strictly, written apart from the server so that it can judge it.
 *
 * A request is *unambiguously framed* when:
 * - whatever CR and LF bytes come before its request-line belong to no request
 *   (RFC 9112 §2.2 lets a server skip empty lines there; llhttp skips any CR or
 *   LF, which moves no boundary);
 * - its head is a request-line and field lines, each ending in CRLF, then an
 *   empty line; no CR, LF or NUL appears anywhere else in the head (no bare CR,
 *   no bare LF, no LF-only line ends: §2.2);
 * - the request-line is `token 1*SP target 1*SP HTTP/DIGIT.DIGIT` with the
 *   target made of visible ASCII (§3, which lets a recipient split on runs of
 *   spaces: the line still ends at its CRLF);
 * - each field line is `token ":" OWS value OWS`, the value free of control
 *   characters but HTAB (RFC 9110 §5.5), and no line starts with whitespace
 *   (obs-fold, §5.2); no whitespace before the colon (§5.1);
 * - it has Transfer-Encoding or Content-Length, not both (§6.1, §6.3): every
 *   Transfer-Encoding element is a transfer-coding (a token and parameters,
 *   §7.3; no empty element), `chunked` appears once and last; or one
 *   Content-Length field that is 1*DIGIT (no list, no sign, no space inside);
 * - a chunked body is `1*HEXDIG [chunk-ext] CRLF data CRLF` chunks, a last chunk
 *   of zeros, trailer field lines and an empty line (§7.1), exactly;
 * - the whole of it has arrived.
 *
 * The next request starts right after; a request that is not persistent (HTTP/1.1
 * with `Connection: close`, HTTP/1.0 without `keep-alive`: §9.3) or that is not
 * HTTP/1.0 or 1.1 ends the connection. The framer stops at the first request that
 * is not unambiguously framed: nothing from there on may reach the application.
 *
 * Separately, it notes requests the server must refuse although they are framed
 * (SPEC §7: no Host in HTTP/1.1, two Host fields, an invalid Host; more header
 * fields than `maxHeaders`; a head past `maxHeaderSize`; a body above
 * `maxBodySize`), and those it may refuse, each with the statuses such a refusal
 * may have (`MAY_REFUSE`). Every other framed request must be served: a server
 * that refuses it is wrong.
 */

/** One request, as the reference frames it. */
export interface FramedRequest {
  start: number;
  end: number;
  method: string;
  target: string;
  version: string;
  headers: Array<[string, string]>;
  /** The body, de-chunked (latin-1). */
  body: string;
  /** Whether another request may follow on the connection. */
  persistent: boolean;
  /** Why the server must refuse it, though it is framed; undefined if it need not. */
  mustRefuse: string | undefined;
  /** Why the server may refuse it (see `MAY_REFUSE`); undefined if it must serve it. */
  mayRefuse: string | undefined;
  /** The statuses a refusal of it may have: empty when it must be served. */
  refuseWith: readonly number[];
}

/** The requests framed, then why framing stopped. */
export interface Framing {
  requests: FramedRequest[];
  /** Why the framer stopped: "end", "not persistent", or what was ambiguous. */
  stop: string;
  /** Where the request it stopped at starts. */
  stopAt: number;
}

/** The limits the server runs with, which decide `mustRefuse`. */
export interface ReferenceLimits {
  maxHeaders: number;
  maxBodySize: number;
  /**
   * The server's `maxHeaderSize`, as Node counts it: the bytes of the target and
   * of every field name and value.
   */
  maxHeaderSize: number;
}

// RFC 9112 §7.3: token *( OWS ";" OWS token "=" ( token / quoted-string ) ).
const CODING =
  /^[!#$%&'*+.^_`|~0-9a-z-]+(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9a-z-]+=(?:[!#$%&'*+.^_`|~0-9a-z-]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))*$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +([\x21-\x7e]+) +HTTP\/(\d)\.(\d)$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: field values exclude control characters
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
const CHUNK_LINE =
  /^([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?)*)$/;
// The Host rule of the server (src/gateway/request-head.ts), RFC 9112 §3.2.
const VALID_HOST =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?$/;

// OWS is SP and HTAB only (String.prototype.trim() would strip NBSP too).
function tokens(value: string): string[] {
  return value.split(",").map((t) => t.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase());
}

/** Parse field lines (a head's or a trailer's); a string says why they are not valid. */
function fieldLines(lines: string[]): Array<[string, string]> | string {
  const fields: Array<[string, string]> = [];
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) return "obs-fold";
    const m = FIELD_LINE.exec(line);
    if (m === null) return `bad field line ${JSON.stringify(line.slice(0, 40))}`;
    fields.push([m[1] as string, m[2] as string]);
  }
  return fields;
}

/** Read a head's lines from `at`; a string says why it is not valid. */
function headLines(text: string, at: number): { lines: string[]; end: number } | string {
  const end = text.indexOf("\r\n\r\n", at);
  if (end === -1) return "incomplete head";
  const head = text.slice(at, end);
  if (head.includes("\x00")) return "NUL in head";
  const lines = head.split("\r\n");
  for (const line of lines) {
    if (line.includes("\r")) return "bare CR in head";
    if (line.includes("\n")) return "bare LF in head";
  }
  return { lines, end: end + 4 };
}

/**
 * De-chunk a body from `at`; a string says why it is not valid. `spaced` says
 * whether a chunk line has whitespace (BWS around an extension's `;` or `=`).
 */
function chunkedBody(
  text: string,
  at: number,
): { body: string; end: number; spaced: boolean } | string {
  const parts: string[] = [];
  let p = at;
  let spaced = false;
  for (;;) {
    const eol = text.indexOf("\r\n", p);
    if (eol === -1) return "incomplete chunk size";
    const line = text.slice(p, eol);
    const m = CHUNK_LINE.exec(line);
    if (m === null) return `bad chunk line ${JSON.stringify(line.slice(0, 40))}`;
    spaced ||= /[ \t]/.test(line.replace(/"(?:[^"\\]|\\.)*"/g, ""));
    const digits = (m[1] as string).replace(/^0+/, "");
    if (digits.length > 12) return "chunk size too large";
    const size = digits === "" ? 0 : Number.parseInt(digits, 16);
    p = eol + 2;
    if (size === 0) break;
    if (p + size + 2 > text.length) return "incomplete chunk data";
    parts.push(text.slice(p, p + size));
    p += size;
    if (text.slice(p, p + 2) !== "\r\n") return "chunk data not followed by CRLF";
    p += 2;
  }
  // Trailer section, then the empty line.
  const lines: string[] = [];
  for (;;) {
    const eol = text.indexOf("\r\n", p);
    if (eol === -1) return "incomplete trailer";
    const line = text.slice(p, eol);
    p = eol + 2;
    if (line === "") break;
    if (line.includes("\r") || line.includes("\n") || line.includes("\x00")) {
      return "bare CR, LF or NUL in trailer";
    }
    lines.push(line);
  }
  const trailer = fieldLines(lines);
  if (typeof trailer === "string") return `trailer: ${trailer}`;
  return { body: parts.join(""), end: p, spaced };
}

/** A reason to refuse a framed request, and the statuses its refusal may have. */
type Reason = readonly [why: string, statuses: readonly number[]];

/**
 * The methods a server must implement or refuse only for cause: RFC 9110 §9's,
 * and PATCH (RFC 5789). Any other token is a method the server may not implement
 * (501, RFC 9110 §9.1).
 */
const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

// RFC 9112 §3.2 and RFC 3986 §3: the four forms of request-target, with the
// characters a URI may hold (pchar, query; an IP literal in brackets in an authority).
const ORIGIN_FORM =
  /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;
const ABSOLUTE_FORM =
  /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/[\]]|%[0-9A-Fa-f]{2})*(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;
const AUTHORITY_FORM = /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]+):[0-9]+$/;

/** Whether `target` is a valid request-target for `method` (RFC 9112 §3.2.1-§3.2.4). */
function validTarget(method: string, target: string): boolean {
  if (method === "CONNECT") return AUTHORITY_FORM.test(target);
  if (target === "*") return method === "OPTIONS";
  return ORIGIN_FORM.test(target) || ABSOLUTE_FORM.test(target);
}

/**
 * Why the server may refuse a framed request that it could also serve, with the
 * statuses it may use. Each is a refusal RFC 9110 or 9112 lets a server make; none
 * says 400 for a request that is valid and well-formed:
 * - a method other than `KNOWN_METHODS`: 501 (RFC 9110 §9.1: not implemented);
 *   `PRI`, 505: it begins the HTTP/2 connection preface (RFC 9113 §3.4), which
 *   llhttp refuses as a version it does not speak;
 * - a request-target that is not valid for its method: 400 (RFC 9112 §3.2; the
 *   reference frames it, as its boundaries are clear, but RFC 3986 does not let
 *   it be a URI); an absolute-form target whose scheme is not `http` or `https`
 *   (`localhost:80` is the scheme `localhost`): 400, a URI an HTTP server does
 *   not serve (RFC 9110 §4.2);
 * - a transfer coding other than `chunked` before it: 501 (RFC 9112 §6.1: a
 *   coding the server does not understand);
 * - an HTTP/1.1 expectation other than `100-continue`: 417 (RFC 9110 §10.1.1).
 * And two that RFC 9112 allows and llhttp refuses with 400, which the server keeps
 * (SPEC §7: everything llhttp refuses stays refused; its lenient modes stay off):
 * - whitespace in a chunk line (BWS around an extension's `;` and `=`, §7.1.1);
 * - an HTAB after a Content-Length value (OWS, RFC 9110 §5.5; a space is taken).
 */
function mayRefuse(
  method: string,
  target: string,
  minor: string,
  codings: readonly string[],
  expect: readonly string[],
  llhttp: { spacedChunkLine: boolean; tabAfterLength: boolean },
): Reason[] {
  const reasons: Reason[] = [];
  if (llhttp.spacedChunkLine) reasons.push(["whitespace in a chunk line", [400]]);
  if (llhttp.tabAfterLength) reasons.push(["HTAB after Content-Length", [400]]);
  if (method === "PRI") reasons.push(["PRI, the HTTP/2 connection preface", [505]]);
  else if (!KNOWN_METHODS.has(method)) reasons.push(["method not implemented", [501]]);
  if (!validTarget(method, target)) reasons.push(["invalid request-target", [400]]);
  else if (ABSOLUTE_FORM.test(target) && !/^https?:\/\//i.test(target)) {
    reasons.push(["a target URI not http or https", [400]]);
  }
  if (codings.some((c) => c !== "chunked")) reasons.push(["unknown transfer coding", [501]]);
  if (minor === "1" && expect.some((e) => e !== "" && e !== "100-continue")) {
    reasons.push(["unknown expectation", [417]]);
  }
  return reasons;
}

/** How many bytes of a head Node counts against `maxHeaderSize`: the target, every name and value. */
function headSize(target: string, headers: ReadonlyArray<readonly [string, string]>): number {
  return headers.reduce((sum, [name, value]) => sum + name.length + value.length, target.length);
}

/** Frame one request starting at `at`; a string says why it is not unambiguous. */
function frameOne(text: string, start: number, limits: ReferenceLimits): FramedRequest | string {
  let at = start;
  while (text[at] === "\r" || text[at] === "\n") at += 1;
  const head = headLines(text, at);
  if (typeof head === "string") return head;
  const [requestLine, ...rest] = head.lines;
  const rl = REQUEST_LINE.exec(requestLine ?? "");
  if (rl === null) return `bad request line ${JSON.stringify((requestLine ?? "").slice(0, 60))}`;
  const [, method, target, major, minor] = rl as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (major !== "1" || (minor !== "0" && minor !== "1")) return `version ${major}.${minor}`;
  const headers = fieldLines(rest);
  if (typeof headers === "string") return headers;
  const values = (name: string): string[] =>
    headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  const te = values("transfer-encoding");
  const cl = values("content-length");
  const expect = tokens(values("expect").join(","));
  const must: Reason[] = [];
  // Refused while the head is read (llhttp counts it), before any other check.
  const size = headSize(target, headers);
  if (size >= limits.maxHeaderSize) {
    must.push(["head too large", target.length >= limits.maxHeaderSize ? [414] : [431]]);
  }
  const hosts = values("host");
  if (hosts.length > 1) must.push(["two Host fields", [400]]);
  else if (hosts.length === 0 && minor === "1") must.push(["no Host", [400]]);
  else if (hosts.length === 1 && !VALID_HOST.test(hosts[0] as string)) {
    must.push(["invalid Host", [400]]);
  }
  if (headers.length > limits.maxHeaders) must.push(["too many header fields", [431]]);
  let body = "";
  let end = head.end;
  let codings: string[] = [];
  const llhttp = { spacedChunkLine: false, tabAfterLength: false };
  if (te.length > 0 && cl.length > 0) return "Content-Length and Transfer-Encoding";
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (te.length > 0 && minor === "0") return "Transfer-Encoding in HTTP/1.0";
  if (te.length > 0) {
    codings = tokens(te.join(","));
    if (!codings.every((c) => CODING.test(c))) return "Transfer-Encoding not a list of codings";
    const names = codings.map((c) => c.split(";")[0]?.replace(/[ \t]+$/, "") as string);
    if (names.at(-1) !== "chunked" || names.indexOf("chunked") !== names.length - 1) {
      return "Transfer-Encoding does not end in one chunked";
    }
    // chunked has no parameters (RFC 9112 §7): one given makes it some other coding.
    if (codings.at(-1) !== "chunked") return "chunked with parameters";
    codings = names;
    const chunked = chunkedBody(text, head.end);
    if (typeof chunked === "string") return chunked;
    ({ body, end } = chunked);
    llhttp.spacedChunkLine = chunked.spaced;
    if (body.length > limits.maxBodySize) must.push(["body too large", [413]]);
  } else if (cl.length > 0) {
    if (cl.length > 1) return "Content-Length repeated";
    const value = cl[0] as string;
    if (!/^\d+$/.test(value)) return `Content-Length ${JSON.stringify(value)}`;
    llhttp.tabAfterLength = /^Content-Length:[ \t]*\d+[ \t]*\t/im.test(head.lines.join("\n"));
    const length = Number(value);
    // llhttp holds a length in 64 bits: a longer one is malformed to it (400).
    if (BigInt(value) >= 2n ** 64n) must.push(["Content-Length past 64 bits", [400, 413]]);
    if (length > limits.maxBodySize) {
      // Framed, but refused before the body is read: the server closes.
      must.push(["body too large", [413]]);
      const may = mayRefuse(method, target, minor, [], expect, llhttp);
      return framed(start, head.end, method, target, minor, headers, "", false, must, may);
    }
    if (head.end + length > text.length) return "incomplete body";
    body = text.slice(head.end, head.end + length);
    end = head.end + length;
  }
  const connection = tokens(values("connection").join(","));
  // A request asking to upgrade is served without the upgrade, and the server
  // closes the connection after it (what Node read past its head is lost).
  const upgrade = connection.includes("upgrade") && values("upgrade").length > 0;
  const persistent =
    !upgrade && (minor === "1" ? !connection.includes("close") : connection.includes("keep-alive"));
  const may = mayRefuse(method, target, minor, codings, expect, llhttp);
  return framed(start, end, method, target, minor, headers, body, persistent, must, may);
}

function framed(
  start: number,
  end: number,
  method: string,
  target: string,
  minor: string,
  headers: Array<[string, string]>,
  body: string,
  persistent: boolean,
  must: readonly Reason[],
  may: readonly Reason[],
): FramedRequest {
  const version = `HTTP/1.${minor}`;
  const why = (reasons: readonly Reason[]): string | undefined =>
    reasons.length === 0 ? undefined : reasons.map(([reason]) => reason).join(", ");
  const refuseWith = [...new Set([...must, ...may].flatMap(([, statuses]) => statuses))];
  return {
    start,
    end,
    method,
    target,
    version,
    headers,
    body,
    persistent,
    mustRefuse: why(must),
    mayRefuse: why(may),
    refuseWith,
  };
}

/** Frame every request in `text` (latin-1), in order, until one is not unambiguous. */
export function frame(text: string, limits: ReferenceLimits): Framing {
  const requests: FramedRequest[] = [];
  let at = 0;
  while (at < text.length) {
    const one = frameOne(text, at, limits);
    if (typeof one === "string") return { requests, stop: one, stopAt: at };
    requests.push(one);
    at = one.end;
    if (one.mustRefuse !== undefined) return { requests, stop: one.mustRefuse, stopAt: at };
    if (!one.persistent) return { requests, stop: "not persistent", stopAt: at };
  }
  return { requests, stop: "end", stopAt: at };
}
