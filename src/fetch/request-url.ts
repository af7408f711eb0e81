/**
 * The parts of a Fetch `Request`'s URL the gateway reads, as the WHATWG URL
 * parser gives them. A URL already in the form the parser would serialize it to
 * (what a `Request` holds, and what servers such as @hono/node-server build from
 * an ordinary request target) is split as a string; anything else goes through
 * `new URL()`, so the parts are always the parser's.
 */

import { Buffer } from "node:buffer";

/** What the gateway reads of a request's URL; a `URL` is one. */
export interface RequestUrl {
  /** `http:` or `https:` (or another scheme, from `new URL()`). */
  readonly protocol: string;
  /** The host and, unless it is the scheme's default, `:port`. */
  readonly host: string;
  /** The host name; an IPv6 literal keeps its brackets. */
  readonly hostname: string;
  /** The port, `''` for the scheme's default. */
  readonly port: string;
  /** The path, from its `/`. */
  readonly pathname: string;
  /** `?` and the query, or `''` when the query is empty. */
  readonly search: string;
}

// A host the parser leaves as it is: lower-case labels of letters, digits and
// `-` whose last label is not a number, decimal or `0x` hex (the parser reads
// such a host as IPv4 and rewrites it), and no `xn--` label (the parser checks
// its Punycode).
const NAME_HOST = /^(?:[a-z0-9-]+\.)*[a-z0-9-]*[a-z-][a-z0-9-]*$/;
const HEX_LABEL = /(?:^|\.)0x[0-9a-f]*$/;
// Four decimal octets as the parser writes them: no leading zero, none past 255.
const IPV4_HOST =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// A port the parser keeps as written: no leading zero, at most 65535 (checked apart).
const PORT = /^[1-9]\d{0,4}$/;
// Path characters the parser neither escapes nor rewrites (no `\`, which it
// reads as `/`); dot segments are looked for apart.
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
// Query characters the parser leaves alone in a special scheme's URL.
const QUERY = /^[\x21\x24-\x26\x28-\x3b\x3d\x3f-\x7e]*$/;
// What the parser reads as a dot segment: `.` or `..` between slashes, the
// dots possibly written `%2e`.
const DOT_SEGMENT = /\/(?:\.|%2e)(?:\.|%2e)?(?:\/|$)/i;

/** The scheme and authority of a URL, split: what every URL of one origin shares. */
interface Origin {
  /** The URL up to the path (`http://127.0.0.1:8080`), as written. */
  readonly prefix: string;
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
}

/**
 * Reads request URLs into their parts, keeping the URL and the origin it split
 * last: the requests to one handler nearly all share an origin, which is then
 * only compared, not checked again (and the same URL again, as a client
 * polling one resource sends it, is only compared).
 */
export class RequestUrlReader {
  #origin: Origin | undefined;
  #href = "";
  #url: RequestUrl | undefined;

  /** The parts of `href`, a request's absolute URL, as `new URL(href)` gives them. */
  read(href: string): RequestUrl {
    if (href === this.#href && this.#url !== undefined) return this.#url;
    let origin = this.#origin;
    if (
      origin === undefined ||
      !href.startsWith(origin.prefix) ||
      href.charCodeAt(origin.prefix.length) !== 0x2f
    ) {
      origin = splitOrigin(href);
      if (origin === undefined) return new URL(href);
      this.#origin = { ...origin, prefix: flat(origin.prefix) };
    }
    const url = splitPath(href, origin);
    if (url === undefined) return new URL(href);
    this.#href = href;
    this.#url = url;
    return url;
  }
}

/**
 * A copy of `s` (ASCII) in one piece: a slice of a longer string is kept as a
 * view of it, which `startsWith` reads a character at a time, several times
 * slower than a string of its own.
 */
function flat(s: string): string {
  return Buffer.from(s, "latin1").toString("latin1");
}

/**
 * The scheme and authority of `href` split as a string, or `undefined` when the
 * parser might change any part of them (or the URL has no path).
 */
function splitOrigin(href: string): Origin | undefined {
  let protocol: string;
  let defaultPort: string;
  let start: number;
  if (href.startsWith("http://")) {
    protocol = "http:";
    defaultPort = "80";
    start = 7;
  } else if (href.startsWith("https://")) {
    protocol = "https:";
    defaultPort = "443";
    start = 8;
  } else {
    return undefined;
  }
  const slash = href.indexOf("/", start);
  if (slash === -1) return undefined;
  const authority = href.slice(start, slash);
  const colon = authority.indexOf(":");
  const hostname = colon === -1 ? authority : authority.slice(0, colon);
  let port = colon === -1 ? "" : authority.slice(colon + 1);
  const plainHost =
    IPV4_HOST.test(hostname) ||
    (NAME_HOST.test(hostname) && !HEX_LABEL.test(hostname) && !hostname.includes("xn--"));
  if (!plainHost) return undefined;
  if (port !== "") {
    if (!PORT.test(port) || Number(port) > 65535) return undefined;
    if (port === defaultPort) port = "";
  }
  return {
    prefix: href.slice(0, slash),
    protocol,
    host: port === "" ? hostname : `${hostname}:${port}`,
    hostname,
    port,
  };
}

/**
 * `href`, whose scheme and authority are `origin`, split as a string, or
 * `undefined` when the parser might change its path or query.
 */
function splitPath(href: string, origin: Origin): RequestUrl | undefined {
  const slash = origin.prefix.length;
  const question = href.indexOf("?", slash);
  const pathname = question === -1 ? href.slice(slash) : href.slice(slash, question);
  const query = question === -1 ? "" : href.slice(question);
  if (!PATH.test(pathname) || DOT_SEGMENT.test(pathname)) return undefined;
  if (query !== "" && !QUERY.test(query)) return undefined;
  return {
    protocol: origin.protocol,
    host: origin.host,
    hostname: origin.hostname,
    port: origin.port,
    pathname,
    search: query.length > 1 ? query : "",
  };
}
