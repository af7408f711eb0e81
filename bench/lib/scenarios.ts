/**
 * What the benchmark measures: each scenario names its servers, its baseline (the
 * raw Node server answering the same bytes in the same run) and its targets from
 * issue 4.
 */

/** The scenario ids, in run order. */
export const SCENARIO_IDS = [
  "hello-50",
  "hello-1",
  "body-1m",
  "file-256m",
  "upload-64m",
  "workers-2",
  "validate-50",
  "fetch-50",
  "express-50",
  "hello-https",
  "hello-h2",
  "file-256m-h2",
] as const;

/** One of `SCENARIO_IDS`. */
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** The unit a scenario reports; `s` is the only one where lower is better. */
export type Unit = "req/s" | "GB/s" | "s";

/** A pass/fail line: `server`'s figure against `vs`'s (a ratio), or its RSS growth. */
export type Target =
  | { kind: "ratio"; server: string; vs: string; min?: number; max?: number }
  | { kind: "rss"; server: string; maxBytes: number };

/** One scenario. */
export interface Scenario {
  id: ScenarioId;
  title: string;
  /** One sentence: what is sent, how, and what is measured. */
  what: string;
  /** How load is applied: wrk for a duration, or curl transfers one at a time. */
  load:
    | { kind: "wrk"; path: string; connections: number }
    | { kind: "h2load"; path: string; requests: number; connections: number; streams: number }
    | { kind: "download"; path: string; runs: number }
    | { kind: "upload"; path: string; runs: number };
  unit: Unit;
  /** Server ids in run order; the baseline first. */
  servers: readonly string[];
  /** The server each ratio is taken against. */
  baseline: string;
  targets: readonly Target[];
}

const MIB = 1024 * 1024;
const PYTHON_SERVERS = ["wsgiref-py", "gunicorn", "waitress"];

/** Every scenario, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: "hello-50",
    title: "Hello world, keep-alive, 50 connections",
    what: "wrk, 1 thread, 50 keep-alive connections, GET / answering 13 bytes with Content-Length",
    load: { kind: "wrk", path: "/", connections: 50 },
    unit: "req/s",
    servers: ["raw", "raw-batched", "ours", ...PYTHON_SERVERS],
    baseline: "raw",
    targets: [
      { kind: "ratio", server: "ours", vs: "raw", min: 0.95 },
      { kind: "ratio", server: "ours", vs: "waitress", min: 3 },
    ],
  },
  {
    id: "hello-1",
    title: "Hello world, keep-alive, 1 connection",
    what:
      "wrk, 1 thread, 1 keep-alive connection, GET / (latency-bound: one request in flight); " +
      "beside the servers, a bridge that does only the least any WSGI gateway over node:http " +
      "must (servers/h1-floor-bridge.ts)",
    load: { kind: "wrk", path: "/", connections: 1 },
    unit: "req/s",
    servers: ["raw", "raw-batched", "ours", "floor-h1", ...PYTHON_SERVERS],
    baseline: "raw",
    targets: [{ kind: "ratio", server: "ours", vs: "raw", min: 0.9 }],
  },
  {
    id: "body-1m",
    title: "1 MiB response body, 10 connections",
    what: "wrk, 1 thread, 10 keep-alive connections, GET /1m answering 1 MiB from one buffer",
    load: { kind: "wrk", path: "/1m", connections: 10 },
    unit: "req/s",
    servers: ["raw", "raw-batched", "ours", ...PYTHON_SERVERS],
    baseline: "raw",
    targets: [{ kind: "ratio", server: "ours", vs: "raw", min: 1.0 }],
  },
  {
    id: "file-256m",
    title: "256 MiB file through FileWrapper",
    what:
      "curl, one download at a time, GET /file: the app returns wsgi.file_wrapper over the open " +
      "file (gunicorn answers with sendfile(); raw node:http pipes fs.createReadStream); " +
      "GB/s = 10^9 bytes/s, median of the runs",
    load: { kind: "download", path: "/file", runs: 5 },
    unit: "GB/s",
    servers: ["raw", "ours", "gunicorn"],
    baseline: "raw",
    targets: [
      { kind: "ratio", server: "ours", vs: "gunicorn", min: 1.0 },
      { kind: "rss", server: "ours", maxBytes: 32 * MIB },
    ],
  },
  {
    id: "upload-64m",
    title: "64 MiB upload",
    what:
      "curl -T, one upload at a time, POST /upload with Content-Length: the app reads wsgi.input " +
      "to the end (our server spools it to a temporary file first; raw node:http only counts " +
      "the bytes); seconds per upload, median of the runs",
    load: { kind: "upload", path: "/upload", runs: 7 },
    unit: "s",
    servers: ["raw", "ours"],
    baseline: "raw",
    targets: [
      { kind: "ratio", server: "ours", vs: "raw", max: 1.5 },
      { kind: "rss", server: "ours", maxBytes: 32 * MIB },
    ],
  },
  {
    id: "workers-2",
    title: "2 workers, hello world, 50 connections",
    what:
      "wrk, 1 thread, 50 keep-alive connections, GET /; `wsgiref serve --workers 2` against a " +
      "raw node:cluster of 2 node:http workers; servers on both cores, wrk shares core 1",
    load: { kind: "wrk", path: "/", connections: 50 },
    unit: "req/s",
    servers: ["raw-cluster", "ours-workers"],
    baseline: "raw-cluster",
    targets: [{ kind: "ratio", server: "ours-workers", vs: "raw-cluster", min: 0.9 }],
  },
  {
    id: "validate-50",
    title: "Hello world through validator(), 50 connections",
    what:
      "wrk, 1 thread, 50 keep-alive connections, GET /: our server with the benchmark app " +
      "wrapped in validator() (as `wsgiref serve --validate` does), against the same server " +
      "unwrapped in the same run (issue 5: at most 25% fewer req/s)",
    load: { kind: "wrk", path: "/", connections: 50 },
    unit: "req/s",
    servers: ["ours", "ours-validated"],
    baseline: "ours",
    targets: [{ kind: "ratio", server: "ours-validated", vs: "ours", min: 0.75 }],
  },
  {
    id: "fetch-50",
    title: "Hello world as a Fetch handler on @hono/node-server, 50 connections",
    what:
      "wrk, 1 thread, 50 keep-alive connections, GET /: the benchmark's WSGI app through " +
      "toFetchHandler as @hono/node-server's fetch, against a plain Hono app answering the same " +
      "bytes on the same server, in the same run (issue 16: at least 0.9x); and as yardsticks " +
      "the plain app reading every request header first (what PEP 3333 makes any bridge do) " +
      "and a bridge that does only the least any WSGI bridge must (servers/floor-bridge.ts)",
    load: { kind: "wrk", path: "/", connections: 50 },
    unit: "req/s",
    servers: ["hono", "hono-headers", "hono-wsgi", "hono-floor"],
    baseline: "hono",
    targets: [{ kind: "ratio", server: "hono-wsgi", vs: "hono", min: 0.9 }],
  },
  {
    id: "express-50",
    title: "Hello world mounted in Express 5 with toNodeListener, 50 connections",
    what:
      "wrk, 1 thread, 50 keep-alive connections, GET /app/: the benchmark's WSGI app mounted " +
      "under /app with toNodeListener, against an Express route answering the same bytes, in " +
      "the same run (issue 16: at least 0.9x)",
    load: { kind: "wrk", path: "/app/", connections: 50 },
    unit: "req/s",
    servers: ["express", "express-wsgi"],
    baseline: "express",
    targets: [{ kind: "ratio", server: "express-wsgi", vs: "express", min: 0.9 }],
  },
  {
    id: "hello-https",
    title: "Hello world over HTTPS/1.1, 50 connections",
    what:
      "wrk over TLS (https://, a P-256 certificate openssl makes for the run), 1 thread, 50 " +
      "keep-alive connections, GET / answering 13 bytes: our server with tls against raw " +
      "node:https with the same listener as the raw node:http baseline (issue 15: at least 0.9x)",
    load: { kind: "wrk", path: "/", connections: 50 },
    unit: "req/s",
    servers: ["raw-https", "ours-https"],
    baseline: "raw-https",
    targets: [{ kind: "ratio", server: "ours-https", vs: "raw-https", min: 0.9 }],
  },
  {
    id: "hello-h2",
    title: "Hello world over HTTP/2 (TLS), 10 connections x 10 streams",
    what:
      "h2load -c 10 -m 10 over TLS (ALPN h2), GET / answering 13 bytes: our server with tls " +
      "and http2 against a raw node:http2 secure server answering on its core API " +
      "(issue 15: at least 0.9x), and a bridge that does only the least any WSGI gateway " +
      "over node:http2 must (servers/h2-floor-bridge.ts)",
    load: { kind: "h2load", path: "/", requests: 60_000, connections: 10, streams: 10 },
    unit: "req/s",
    servers: ["raw-h2", "ours-h2", "floor-h2"],
    baseline: "raw-h2",
    targets: [{ kind: "ratio", server: "ours-h2", vs: "raw-h2", min: 0.9 }],
  },
  {
    id: "file-256m-h2",
    title: "256 MiB file through FileWrapper over HTTP/2 and HTTPS/1.1",
    what:
      "curl --http2 against curl --http1.1, both over TLS to our server, one download at a " +
      "time, GET /file (a FileWrapper, in 64 KiB blocks through TLS over both); " +
      "GB/s = 10^9 bytes/s, median of the runs (issue 15: h2 at least 0.8x)",
    load: { kind: "download", path: "/file", runs: 5 },
    unit: "GB/s",
    servers: ["ours-https", "ours-h2"],
    baseline: "ours-https",
    targets: [{ kind: "ratio", server: "ours-h2", vs: "ours-https", min: 0.8 }],
  },
];
