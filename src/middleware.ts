/**
 * `wsgiref/middleware`: WSGI middleware for deployment. `proxyFix` reads the
 * `X-Forwarded-*` headers a reverse proxy adds, so that the application sees the
 * client's address, scheme, host, port and mount prefix instead of the proxy's.
 *
 * Port of Werkzeug's `werkzeug.middleware.proxy_fix.ProxyFix`, stricter about
 * what it trusts: a value that is not well formed is never used.
 */

// isIP is a pure function; nothing here opens a socket.
import { isIP } from "node:net";
import { show } from "./internal/check.js";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "./types.js";

/** How many values of each `X-Forwarded-*` header to trust, counted from the right. */
export interface ProxyFixOptions {
  /** `X-Forwarded-For` (1): `REMOTE_ADDR`. */
  xFor?: number;
  /** `X-Forwarded-Proto` (1): `wsgi.url_scheme`. */
  xProto?: number;
  /** `X-Forwarded-Host` (0): `HTTP_HOST`, `SERVER_NAME`, and `SERVER_PORT` when it has a port. */
  xHost?: number;
  /** `X-Forwarded-Port` (0): `SERVER_PORT` and the port of `HTTP_HOST`. */
  xPort?: number;
  /** `X-Forwarded-Prefix` (0): `SCRIPT_NAME`. */
  xPrefix?: number;
}

/** The environ key under which `proxyFix` keeps the values it replaced. */
const PROXY_FIX_ORIG = "wsgiref.proxy_fix.orig";

/** The environ values `proxyFix` may replace, as they were before it ran. */
export interface ProxyFixOrig {
  /** The peer's address: the proxy's. */
  REMOTE_ADDR: unknown;
  /** The scheme the proxy was reached by. */
  "wsgi.url_scheme": unknown;
  /** The `Host` the proxy sent. */
  HTTP_HOST: unknown;
  /** The server's name. */
  SERVER_NAME: unknown;
  /** The server's port. */
  SERVER_PORT: unknown;
  /** The mount point before a forwarded prefix. */
  SCRIPT_NAME: unknown;
}

const OPTION_NAMES = ["xFor", "xProto", "xHost", "xPort", "xPrefix"] as const;
const DEFAULTS: Required<ProxyFixOptions> = { xFor: 1, xProto: 1, xHost: 0, xPort: 0, xPrefix: 0 };

/**
 * A trust count past which no real chain of proxies goes; also bounds the work
 * spent on one header, which is read from its right end only as far as trusted.
 */
const MAX_TRUSTED = 32;

// A DNS name is at most 253 characters; an IPv6 literal with a zone, in
// brackets, well under 100. Anything longer is not a host any proxy forwards.
const MAX_HOST = 253;
/** The longest X-Forwarded-Prefix taken: a mount path, not a URL. */
const MAX_PREFIX = 1024;

// RFC 3986 §3.2.2 reg-name (unreserved, pct-encoded, sub-delims less the comma,
// which separates the header's values), not empty.
const REG_NAME = /^(?:[0-9A-Za-z._~!$&'()*+;=-]|%[0-9A-Fa-f]{2})+$/;
// RFC 3986 §3.3: a path of segments of pchar (the comma excluded as above).
const PREFIX = /^(?:\/(?:[0-9A-Za-z._~!$&'()*+;=:@-]|%[0-9A-Fa-f]{2})*)+$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Wrap `app` so that it sees the request as the client sent it to the proxy in
 * front: `REMOTE_ADDR` from `X-Forwarded-For`, `wsgi.url_scheme` from
 * `X-Forwarded-Proto`, `HTTP_HOST` and `SERVER_NAME` (and `SERVER_PORT` when it
 * has a port) from `X-Forwarded-Host`, `SERVER_PORT` (and the port of
 * `HTTP_HOST`) from `X-Forwarded-Port`, `SCRIPT_NAME` from `X-Forwarded-Prefix`.
 *
 * Each option is how many proxies set that header: the value trusted is that
 * many from the right (each proxy appends one), and a header with fewer values
 * than that is not trusted at all, since the client wrote it. 0 ignores the
 * header. A value that is malformed is ignored and the environ key keeps its
 * value: an entry of `X-Forwarded-For` that is not an IP address, a proto other
 * than `http` or `https`, a host that fails the Host grammar (or is longer than
 * 253 characters), a port outside 1–65535, a prefix that is not an absolute
 * path or has an empty, `.` or `..` segment. A host trusted without a port sets
 * `SERVER_PORT` to the scheme's default port (443 for https, else 80), so that
 * `SERVER_NAME` and `SERVER_PORT` name the same place (Werkzeug leaves the
 * server's own port). The values replaced, fixed or not, are kept under
 * `environ["wsgiref.proxy_fix.orig"]`.
 *
 * Only trust what your proxy sets: use it only behind a proxy that overwrites
 * or appends to these headers, and only for connections that come from it (the
 * command line's `--forwarded-allow-ips` checks the peer).
 *
 * Throws a `TypeError` for an `app` that is not a function or options of the
 * wrong type, a `RangeError` for a count that is negative, not an integer or
 * above 32.
 *
 * @example
 * import { proxyFix } from "wsgiref/middleware";
 * export const app = proxyFix(myApp, { xFor: 1, xProto: 1, xHost: 1 });
 * @see Werkzeug's `werkzeug.middleware.proxy_fix.ProxyFix`
 */
export function proxyFix(app: WSGIApplication, options: ProxyFixOptions = {}): WSGIApplication {
  if (typeof app !== "function") {
    throw new TypeError(`app must be a function: ${show(app)}`);
  }
  const trust = checkOptions(options);
  return (environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody | Promise<WSGIBody> => {
    fixEnviron(environ, trust);
    return app(environ, startResponse);
  };
}

function checkOptions(options: unknown): Required<ProxyFixOptions> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object: ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(`options has an unknown key: ${show(key)}`);
    }
  }
  const trust = { ...DEFAULTS };
  for (const name of OPTION_NAMES) {
    const value: unknown = Reflect.get(options, name);
    if (value === undefined) continue;
    if (typeof value !== "number") {
      throw new TypeError(`options.${name} must be a number: ${show(value)}`);
    }
    if (!Number.isInteger(value) || value < 0 || value > MAX_TRUSTED) {
      throw new RangeError(
        `options.${name} must be an integer from 0 to ${MAX_TRUSTED}: ${show(value)}`,
      );
    }
    trust[name] = value;
  }
  return trust;
}

/** Apply the trusted, well-formed `X-Forwarded-*` values to `environ`. */
function fixEnviron(environ: WSGIEnvironment, trust: Required<ProxyFixOptions>): void {
  const orig: ProxyFixOrig = {
    REMOTE_ADDR: environ.REMOTE_ADDR,
    "wsgi.url_scheme": environ["wsgi.url_scheme"],
    HTTP_HOST: environ.HTTP_HOST,
    SERVER_NAME: environ.SERVER_NAME,
    SERVER_PORT: environ.SERVER_PORT,
    SCRIPT_NAME: environ.SCRIPT_NAME,
  };
  environ[PROXY_FIX_ORIG] = orig;

  const forwardedFor = trusted(environ.HTTP_X_FORWARDED_FOR, trust.xFor);
  if (forwardedFor !== undefined && isIP(forwardedFor) !== 0) {
    environ.REMOTE_ADDR = forwardedFor;
  }

  const proto = trusted(environ.HTTP_X_FORWARDED_PROTO, trust.xProto)?.toLowerCase();
  if (proto === "http" || proto === "https") {
    environ["wsgi.url_scheme"] = proto;
  }

  const host = parseHost(trusted(environ.HTTP_X_FORWARDED_HOST, trust.xHost));
  if (host !== undefined) {
    environ.HTTP_HOST = host.port === undefined ? host.name : `${host.name}:${host.port}`;
    environ.SERVER_NAME = host.name;
    environ.SERVER_PORT = host.port ?? (environ["wsgi.url_scheme"] === "https" ? "443" : "80");
  }

  const port = parsePort(trusted(environ.HTTP_X_FORWARDED_PORT, trust.xPort));
  if (port !== undefined) {
    const current = parseHost(
      typeof environ.HTTP_HOST === "string" ? environ.HTTP_HOST : undefined,
    );
    if (current !== undefined) environ.HTTP_HOST = `${current.name}:${port}`;
    environ.SERVER_PORT = port;
  }

  const prefix = parsePrefix(trusted(environ.HTTP_X_FORWARDED_PREFIX, trust.xPrefix));
  if (prefix !== undefined) {
    environ.SCRIPT_NAME = prefix;
  }
}

/**
 * The value `count` places from the right of the comma-separated `header`, or
 * `undefined` when there are fewer values (the leftmost ones came from the
 * client, not from a proxy). Reads only the header's last `count` values.
 */
function trusted(header: unknown, count: number): string | undefined {
  if (count === 0 || typeof header !== "string" || header === "") return undefined;
  let end = header.length;
  for (let seen = 1; seen < count; seen++) {
    // lastIndexOf clamps a negative start to 0: stop at the left end instead.
    end = end > 0 ? header.lastIndexOf(",", end - 1) : -1;
    if (end < 0) return undefined;
  }
  const start = end > 0 ? header.lastIndexOf(",", end - 1) + 1 : 0;
  // RFC 9110 §5.6.1: optional whitespace around each list element.
  return header.slice(start, end).trim();
}

/** `host[:port]` split, or `undefined` when it is not a well-formed Host value. */
function parseHost(value: string | undefined): { name: string; port?: string } | undefined {
  if (value === undefined || value === "") return undefined;
  let name = value;
  let port: string | undefined;
  const colon = value.lastIndexOf(":");
  // A colon after the closing bracket of an IPv6 literal, or in a name without one.
  if (colon >= 0 && (value.startsWith("[") ? value.lastIndexOf("]") < colon : true)) {
    port = parsePort(value.slice(colon + 1));
    if (port === undefined) return undefined;
    name = value.slice(0, colon);
  }
  if (name.length > MAX_HOST) return undefined;
  if (name.startsWith("[")) {
    if (!name.endsWith("]") || isIP(name.slice(1, -1)) !== 6) return undefined;
  } else if (!REG_NAME.test(name)) {
    return undefined;
  }
  return port === undefined ? { name } : { name, port };
}

/** A port from 1 to 65535 in decimal (at most 5 digits), normalised, or `undefined`. */
function parsePort(value: string | undefined): string | undefined {
  if (value === undefined || !PORT.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? String(port) : undefined;
}

/**
 * A mount prefix as `SCRIPT_NAME`: an absolute path without empty, `.` or
 * `..` segments, percent-decoded to bytes read as latin-1 (as `PATH_INFO` is), with
 * no trailing slash (`/` alone is the root: `''`); `undefined` when malformed.
 */
function parsePrefix(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_PREFIX || !PREFIX.test(value)) return undefined;
  const path = value.replace(/\/+$/, "");
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  // An empty segment too: `//host` as SCRIPT_NAME makes a relative redirect
  // leave for another host.
  const segments = decoded.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "" || segment === "." || segment === "..") return undefined;
  }
  return decoded;
}
