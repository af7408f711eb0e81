/**
 * The lines the `wsgiref` command prints on stdout about its own life: the
 * serving line once listening, worker starts, and what a shutdown waits for.
 * Errors and the access log go to stderr; these go to stdout, as Python's
 * `http.server` prints its serving line and "Keyboard interrupt received".
 */

/** Where a server listens: a TCP address, or a Unix socket's path. */
export type BoundAddress = { host: string; port: number } | { path: string };

/** What the serving line says besides the address. */
export interface BannerOptions {
  /** Worker processes (`--workers`); absent for one process. */
  workers?: number | undefined;
  /** Whether the server speaks HTTPS. */
  tls?: boolean | undefined;
}

/**
 * The serving line: Python's `wsgiref.simple_server` words, with the URL to
 * click that Python's `http.server` adds, and the worker count:
 * `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/, 2 workers) ...`.
 * A Unix socket has no URL: `Serving HTTP on unix:/run/app.sock (2 workers) ...`.
 */
export function servingLine(address: BoundAddress, options: BannerOptions = {}): string {
  const scheme = options.tls ? "HTTPS" : "HTTP";
  const workers = options.workers === undefined ? [] : [plural(options.workers, "worker")];
  if ("path" in address) {
    const inside = workers.length > 0 ? ` (${workers.join(", ")})` : "";
    return `Serving ${scheme} on unix:${address.path}${inside} ...`;
  }
  const { host, port } = address;
  // An IPv6 address goes in brackets in a URL (RFC 3986 §3.2.2), as Python does.
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `${scheme.toLowerCase()}://${urlHost}:${port}/`;
  return `Serving ${scheme} on ${host} port ${port} (${[url, ...workers].join(", ")}) ...`;
}

/** The line a worker's start adds: `Worker 1234 listening (2 of 4)`. */
export function workerLine(pid: number | undefined, listening: number, count: number): string {
  return `Worker ${pid} listening (${listening} of ${count})`;
}

/** The line a shutdown starts with: what it waits for. */
export function stoppingLine(signal: string, waitingFor: string): string {
  return `Shutting down on ${signal}: no new connections; ${waitingFor}`;
}

/** The line a clean shutdown ends with. */
export const STOPPED_LINE = "Shut down cleanly";

/** `1 worker`, `2 workers`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
