/**
 * `ServerOptions`: the limits and behaviour of a `WSGIServer`, their defaults
 * and their checks.
 */

import type { SecureContextOptions } from "node:tls";
import { show } from "../internal/check.js";

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
  /**
   * Time for a client to send its headers (20 000): 408 and close past it. A new
   * connection's counts from its accept (over TLS, its handshake's end): one
   * that has sent nothing by then is closed.
   */
  headersTimeout?: number;
  /** Time for a client to send its whole request (300 000): 408 and close past it. */
  requestTimeout?: number;
  /**
   * Time a request body may go without a byte (30 000): 408 and close past it;
   * 0 for none. `requestTimeout` still bounds the whole request; this one frees
   * the body buffer of a client that stopped sending long before that.
   */
  bodyTimeout?: number;
  /**
   * Time a response may go without the client taking a byte of it (60 000, as
   * nginx's `send_timeout`): its connection is closed past it; 0 for none. Only
   * a stall counts, never a slow but steady client.
   */
  sendTimeout?: number;
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
  /**
   * Node's secure-context options (`cert`, `key`, `ca`, `pfx`, `passphrase`…):
   * the server speaks HTTPS (`wsgi.url_scheme` `https`, `HTTPS` `on`). None:
   * clear text.
   */
  tls?: SecureContextOptions | undefined;
  /**
   * Offer HTTP/2 (false): with `tls`, ALPN offers `h2` and `http/1.1` on the
   * same port; without, a connection that opens with the HTTP/2 preface is
   * served as h2c and any other as HTTP/1.1.
   */
  http2?: boolean;
  /** Most streams one HTTP/2 connection may have open at once (100). */
  maxConcurrentStreams?: number;
}

/** `ServerOptions` with every default filled in. */
export type ResolvedServerOptions = Readonly<Required<Omit<ServerOptions, "tls">>> & {
  /** `ServerOptions.tls`: undefined for clear text. */
  readonly tls: SecureContextOptions | undefined;
};
const DEFAULTS: ResolvedServerOptions = {
  maxBodySize: 1024 * 1024 * 1024,
  spoolThreshold: 1024 * 1024,
  maxHeaderSize: 64 * 1024,
  maxHeaders: 100,
  headersTimeout: 20_000,
  requestTimeout: 300_000,
  bodyTimeout: 30_000,
  sendTimeout: 60_000,
  keepAliveTimeout: 5_000,
  quiet: false,
  workers: 1,
  tls: undefined,
  http2: false,
  maxConcurrentStreams: 100,
};

// Options that must be at least 1; the other numbers may be 0.
const POSITIVE = new Set(["maxHeaderSize", "maxHeaders", "workers", "maxConcurrentStreams"]);

/** Check `options` and fill in the defaults. */
export function resolveOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  if (options === undefined) return DEFAULTS;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object: ${show(options)}`);
  }
  const resolved: Record<string, unknown> = { ...DEFAULTS };
  for (const [name, value] of Object.entries(options)) {
    if (!(name in DEFAULTS)) throw new TypeError(`options has no field named ${show(name)}`);
    if (value === undefined) continue;
    if (name === "quiet" || name === "http2") {
      if (typeof value !== "boolean")
        throw new TypeError(`${name} must be a boolean: ${show(value)}`);
    } else if (name === "tls") {
      if (typeof value !== "object" || value === null) {
        throw new TypeError(`tls must be an object of secure-context options: ${show(value)}`);
      }
    } else if (!Number.isSafeInteger(value) || (value as number) < (POSITIVE.has(name) ? 1 : 0)) {
      const least = POSITIVE.has(name) ? "a positive" : "a non-negative";
      throw new TypeError(`${name} must be ${least} integer: ${show(value)}`);
    }
    resolved[name] = value;
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
export function checkingInterval(options: ResolvedServerOptions): number {
  const timeouts = [options.headersTimeout, options.requestTimeout].filter((t) => t > 0);
  if (timeouts.length === 0) return 1000;
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}
