/**
 * The servers under test: how to start each one, how it says it is ready, and
 * whether it is installed. Each starts on 127.0.0.1 and a free port.
 */

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pinned } from "./cpu.js";
import { waitForHttp } from "./curl.js";
import { noteDescendants, type Started, start, stop } from "./proc.js";

/** Where the repository and the compiled files are. */
export interface Paths {
  /** The repository root (package.json). */
  root: string;
  /** The compiled tree (`build/`). */
  build: string;
}

/** A server the benchmark can start. */
export interface ServerSpec {
  /** Short id used on the command line and in results (`raw`, `ours`, `gunicorn`…). */
  id: string;
  /** Name for tables and the chart. */
  label: string;
  /** Multi-process servers run on every core; the others on the server core. */
  multiProcess: boolean;
  /** Why it cannot run here (with how to fix it), or undefined when it can. */
  missing(paths: Paths): string | undefined;
  /** The command line that starts it. */
  command(paths: Paths, nodeArgs: readonly string[]): [string, string[]];
  /** Printed once bound; group 1 is the port. */
  ready: RegExp;
  /** HTTPS, with the run's certificate (`https://` URLs, not checked by the clients). */
  tls?: boolean;
  /** HTTP/2 by ALPN: the clients that can (curl, h2load) speak h2 to it. */
  h2?: boolean;
  /** False for a server that speaks no HTTP/1.1: its ready line is all there is to wait for. */
  http1?: boolean;
}

/** Debian's interpreter, where apt installs gunicorn and waitress (not pyenv's). */
export const PYTHON = process.env.WSGIREF_BENCH_PYTHON ?? "/usr/bin/python3";

function pythonHas(module: string): boolean {
  try {
    execFileSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function compiled(paths: Paths, file: string, what: string): string | undefined {
  return existsSync(join(paths.build, file))
    ? undefined
    : `${join("build", file)} not found (${what}); run \`npx tsc -p tsconfig.json\``;
}

const LISTENING = /listening 127\.0\.0\.1:(\d+)/;

/**
 * `servers/raw-http.ts` with `args`: the plain listener, the batched one, or the
 * check-free WSGI bridge.
 */
function rawHttp(id: string, label: string, args: readonly string[]): ServerSpec {
  return {
    id,
    label,
    multiProcess: false,
    missing: (paths) => compiled(paths, "bench/servers/raw-http.js", "the raw node:http server"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/raw-http.js"), ...args],
    ],
    ready: LISTENING,
  };
}

/** `servers/ours.ts` with `args`, over TLS (`--tls`), with HTTP/2 when `h2`. */
function oursTls(id: string, label: string, h2: boolean): ServerSpec {
  return {
    id,
    label,
    multiProcess: false,
    missing: (paths) => compiled(paths, "bench/servers/ours.js", "the makeServer launcher"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [
        ...nodeArgs,
        join(paths.build, "bench/servers/ours.js"),
        "--tls",
        ...(h2 ? ["--http2"] : []),
      ],
    ],
    ready: LISTENING,
    tls: true,
    h2,
  };
}

/**
 * `servers/raw-https.ts`: node:https, or node:http2's secure server with `h2`
 * (`flags`: `--floor` answers through the check-free WSGI bridge).
 */
function rawTls(id: string, label: string, h2: boolean, flags: readonly string[] = []): ServerSpec {
  return {
    id,
    label,
    multiProcess: false,
    missing: (paths) => compiled(paths, "bench/servers/raw-https.js", "the raw TLS servers"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [
        ...nodeArgs,
        join(paths.build, "bench/servers/raw-https.js"),
        ...(h2 ? ["--h2"] : []),
        ...flags,
      ],
    ],
    ready: LISTENING,
    tls: true,
    h2,
    http1: !h2,
  };
}

/**
 * `servers/hono.ts` with `flags`; `needs`: a module of the build it also needs
 * (its path and what it is called), beside the Hono server itself.
 */
function honoServer(
  id: string,
  label: string,
  flags: readonly string[],
  needs?: readonly [string, string],
): ServerSpec {
  return {
    id,
    label,
    multiProcess: false,
    missing: (paths) =>
      (needs === undefined ? undefined : compiled(paths, needs[0], needs[1])) ??
      compiled(paths, "bench/servers/hono.js", "the Hono server"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/hono.js"), ...flags],
    ],
    ready: LISTENING,
  };
}

/** Every server, in table order. */
export const SERVERS: readonly ServerSpec[] = [
  rawHttp("raw", "node:http (raw)", []),
  rawHttp("raw-batched", "node:http (raw), ends batched", ["--batched"]),
  rawHttp("floor-h1", "a check-free WSGI bridge on node:http", ["--floor"]),
  {
    id: "ours",
    label: "wsgiref (this package)",
    multiProcess: false,
    missing: (paths) =>
      compiled(paths, "src/simple-server.js", "wsgiref/simple-server") ??
      compiled(paths, "bench/servers/ours.js", "the makeServer launcher"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/ours.js")],
    ],
    ready: LISTENING,
  },
  {
    id: "ours-validated",
    label: "wsgiref, validator()",
    multiProcess: false,
    missing: (paths) =>
      compiled(paths, "src/validate.js", "wsgiref/validate") ??
      compiled(paths, "bench/servers/ours.js", "the makeServer launcher"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/ours.js"), "--validate"],
    ],
    ready: LISTENING,
  },
  honoServer("hono", "Hono on @hono/node-server", []),
  honoServer("hono-headers", "Hono reading every request header", ["--read-headers"]),
  honoServer(
    "hono-wsgi",
    "toFetchHandler on @hono/node-server",
    ["--wsgi"],
    ["src/fetch.js", "wsgiref/fetch"],
  ),
  honoServer("hono-floor", "a check-free WSGI bridge on @hono/node-server", ["--floor"]),
  rawTls("raw-https", "node:https (raw)", false),
  oursTls("ours-https", "wsgiref, HTTPS/1.1", false),
  rawTls("raw-h2", "node:http2 (raw, TLS)", true),
  oursTls("ours-h2", "wsgiref, HTTP/2 (TLS)", true),
  rawTls("floor-h2", "a check-free WSGI bridge on node:http2", true, ["--floor"]),
  {
    id: "express",
    label: "Express 5 routes",
    multiProcess: false,
    missing: (paths) => compiled(paths, "bench/servers/express.js", "the Express server"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/express.js")],
    ],
    ready: LISTENING,
  },
  {
    id: "express-wsgi",
    label: "toNodeListener in Express 5",
    multiProcess: false,
    missing: (paths) =>
      compiled(paths, "src/node.js", "wsgiref/node") ??
      compiled(paths, "bench/servers/express.js", "the Express server"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/express.js"), "--wsgi"],
    ],
    ready: LISTENING,
  },
  {
    id: "raw-cluster",
    label: "node:cluster ×2 (raw)",
    multiProcess: true,
    missing: (paths) => compiled(paths, "bench/servers/raw-cluster.js", "the raw cluster"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [...nodeArgs, join(paths.build, "bench/servers/raw-cluster.js"), "2"],
    ],
    ready: LISTENING,
  },
  {
    id: "ours-workers",
    label: "wsgiref serve --workers 2",
    multiProcess: true,
    missing: (paths) => compiled(paths, "src/cli.js", "the wsgiref command"),
    command: (paths, nodeArgs) => [
      process.execPath,
      [
        ...nodeArgs,
        join(paths.build, "src/cli.js"),
        "serve",
        `${join(paths.build, "bench/servers/app.js")}:app`,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--quiet",
        "--workers",
        "2",
      ],
    ],
    ready: /Serving HTTP on \S+ port (\d+)/,
  },
  {
    id: "wsgiref-py",
    label: "Python wsgiref",
    multiProcess: false,
    missing: () => (existsSync(PYTHON) ? undefined : `${PYTHON} not found`),
    command: (paths) => [PYTHON, [join(paths.root, "bench/servers/python_server.py"), "wsgiref"]],
    ready: LISTENING,
  },
  {
    id: "gunicorn",
    label: "gunicorn (sync, 1 worker)",
    multiProcess: false,
    missing: () =>
      pythonHas("gunicorn")
        ? undefined
        : `not installed for ${PYTHON} (apt-get install -y python3-gunicorn, or run with --install)`,
    command: (paths) => [
      PYTHON,
      [
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--bind",
        "127.0.0.1:0",
        "--chdir",
        join(paths.root, "bench/servers"),
        "wsgi_app:app",
      ],
    ],
    ready: /Listening at: http:\/\/127\.0\.0\.1:(\d+)/,
  },
  {
    id: "waitress",
    label: "waitress (4 threads)",
    multiProcess: false,
    missing: () =>
      pythonHas("waitress")
        ? undefined
        : `not installed for ${PYTHON} (apt-get install -y python3-waitress, or run with --install)`,
    command: (paths) => [PYTHON, [join(paths.root, "bench/servers/python_server.py"), "waitress"]],
    ready: LISTENING,
  },
];

/** Look a server up by id. */
export function server(id: string): ServerSpec {
  const found = SERVERS.find((spec) => spec.id === id);
  if (found === undefined) {
    throw new Error(`no such server: ${id}`);
  }
  return found;
}

/** A running server. */
export interface Running {
  spec: ServerSpec;
  process: Started;
  port: number;
  /** `http://127.0.0.1:PORT` */
  base: string;
}

/** Options for `launch`. */
export interface LaunchOptions {
  cores: string | undefined;
  /** Extra `node` flags (`--cpu-prof`); ignored for Python servers. */
  nodeArgs?: readonly string[];
  env: NodeJS.ProcessEnv;
}

/** Start `spec` and wait until it answers `GET /` with 200. */
export async function launch(
  spec: ServerSpec,
  paths: Paths,
  options: LaunchOptions,
): Promise<Running> {
  const [cmd, args] = spec.command(paths, options.nodeArgs ?? []);
  const [pinnedCmd, pinnedArgs] = pinned(options.cores, cmd, args);
  const started = start(pinnedCmd, pinnedArgs, { cwd: paths.root, env: options.env });
  try {
    const match = await started.waitFor(spec.ready, 15_000);
    const port = Number(match[1]);
    const base = `${spec.tls ? "https" : "http"}://127.0.0.1:${port}`;
    // gunicorn prints its port before its worker is up, the cluster before every
    // worker accepts: wait for a real answer.
    if (spec.http1 !== false) await waitForHttp(`${base}/`, 15_000);
    noteDescendants(started);
    return { spec, process: started, port, base };
  } catch (err) {
    await stop(started);
    throw err;
  }
}
