/**
 * The `wsgiref` command (SPEC.md §10): `serve`, `static` and `cgi`. Argument
 * parsing and process wiring only; the work is in `cli/` and the library.
 *
 * Every error a user can cause ends the process with one line on stderr and a
 * non-zero exit code (2 for usage mistakes); `NODE_DEBUG=wsgiref` adds the stack.
 */

import cluster from "node:cluster";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { debuglog, type ParseArgsConfig, parseArgs } from "node:util";
import { claimSocketPath } from "./cli/bind.js";
import { CliError, oneLine, usageError } from "./cli/cli-error.js";
import { runPrimary, runWorker } from "./cli/cluster.js";
import { HELP } from "./cli/help.js";
import { appWrapper, DEPLOY_FLAGS, listenTarget, logFormat } from "./cli/listen-flags.js";
import { loadApp, parseTarget } from "./cli/load-app.js";
import { followReloader, reloadedPort, runReloader } from "./cli/reload.js";
import { type ListenOptions, serveAlone } from "./cli/serve.js";
import { staticApp } from "./cli/static-app.js";
import { TLS_FLAGS, tlsOptions } from "./cli/tls-flags.js";
import { WORKER_FLAGS, type WorkerPolicy, workerPolicy } from "./cli/worker-policy.js";
import { CGIHandler } from "./handlers/index.js";
import type { ServerOptions } from "./simple-server.js";
import type { WSGIApplication } from "./types.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

const debug = debuglog("wsgiref");
const string = { type: "string" } as const;
const flag = { type: "boolean" } as const;
const COMMON: Options = { help: { type: "boolean", short: "h" } };
const LISTEN: Options = {
  ...COMMON,
  host: string,
  port: string,
  quiet: flag,
  ...DEPLOY_FLAGS,
  ...TLS_FLAGS,
};
/** One flag per numeric `ServerOptions` field, with the smallest value it takes. */
const LIMITS = {
  "max-body-size": ["maxBodySize", 0],
  "spool-threshold": ["spoolThreshold", 0],
  "max-header-size": ["maxHeaderSize", 1],
  "max-headers": ["maxHeaders", 1],
  "headers-timeout": ["headersTimeout", 0],
  "request-timeout": ["requestTimeout", 0],
  "body-timeout": ["bodyTimeout", 0],
  "send-timeout": ["sendTimeout", 0],
  "keep-alive-timeout": ["keepAliveTimeout", 0],
} as const;
const SERVE: Options = {
  ...LISTEN,
  workers: string,
  validate: flag,
  reload: flag,
  ...WORKER_FLAGS,
};
for (const name of Object.keys(LIMITS)) SERVE[name] = string;

/** Parse `args` for `command`, or print its help and return `undefined` for `--help`. */
function parse(command: string, args: string[], options: Options, most: number) {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' own messages are long and suggest '--'; keep their first sentence.
    throw usageError(
      `${
        oneLine(err)
          .replace(/^TypeError: /, "")
          .split(". ")[0]
      }; see 'wsgiref ${command} --help'`,
    );
  }
  if (parsed.values.help) {
    console.log(HELP[command]);
    return undefined;
  }
  if (parsed.positionals.length > most) {
    throw usageError(
      `too many arguments for 'wsgiref ${command}': ${parsed.positionals.join(" ")}`,
    );
  }
  return parsed;
}

/** Read `--name`'s value as an integer from `min` to `max`, or `undefined` when absent. */
function integer(values: Values, name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const text = values[name];
  if (typeof text !== "string") return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw usageError(`--${name} must be an integer ${range}: '${text}'`);
  }
  return value;
}

function listenOptions(values: Values, workers = 1): ListenOptions {
  const server: ServerOptions & Record<string, unknown> = {
    quiet: values.quiet === true,
    workers,
    ...tlsOptions(values),
  };
  for (const [name, [field, min]] of Object.entries(LIMITS)) {
    const value = integer(values, name, min);
    if (value !== undefined) server[field] = value;
  }
  const target = listenTarget(values, process.env);
  const port = reloadedPort(target.port);
  return { ...target, port, logFormat: logFormat(values), server };
}

/** Listen with `options`: alone, or as the primary or a worker of `workers`. */
async function serve(
  makeApp: () => Promise<WSGIApplication>,
  options: ListenOptions,
  workers?: number,
  policy?: WorkerPolicy,
): Promise<number> {
  if (options.path !== undefined && cluster.isPrimary) await claimSocketPath(options.path);
  if (workers === undefined) return serveAlone(makeApp, options);
  if (cluster.isPrimary) return runPrimary(workers, options, policy);
  return runWorker(makeApp, options, policy);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === "-h" || command === "--help") {
    console.log(HELP[""]);
    return 0;
  }
  if (command === "--version" || command === "-V") {
    const { version } = createRequire(import.meta.url)("wsgiref/package.json") as {
      version: string;
    };
    console.log(`wsgiref ${version} (Node.js ${process.versions.node})`);
    return 0;
  }
  if (command === "serve") {
    const parsed = parse(command, args, SERVE, 1);
    if (!parsed) return 0;
    const { values, positionals } = parsed;
    const workers = integer(values, "workers", 1);
    const options = listenOptions(values, workers);
    const policy = workerPolicy((name, min) => integer(values, name, min), workers);
    const wrap = appWrapper(values);
    const module = positionals[0];
    if (values.reload === true) {
      if (workers !== undefined) throw usageError("--reload cannot be used with --workers");
      if (module === undefined)
        throw usageError("--reload needs a MODULE whose directory to watch");
      const directory = dirname(resolve(parseTarget(module).path));
      return runReloader({
        args: [command, ...args.filter((arg) => arg !== "--reload")],
        directory,
      });
    }
    followReloader();
    return serve(
      async () => wrap(await loadApp(module, values.validate === true)),
      options,
      workers,
      policy,
    );
  }
  if (command === "static") {
    const parsed = parse(command, args, LISTEN, 1);
    if (!parsed) return 0;
    const dir = parsed.positionals[0] ?? ".";
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw new CliError(`directory not found: ${dir}`);
    const wrap = appWrapper(parsed.values);
    return serve(async () => wrap(staticApp(dir)), listenOptions(parsed.values));
  }
  if (command === "cgi") {
    const parsed = parse(command, args, { ...COMMON, validate: flag }, 1);
    if (!parsed) return 0;
    const module = parsed.positionals[0];
    if (module === undefined)
      throw usageError("'wsgiref cgi' needs a MODULE; see 'wsgiref cgi --help'");
    await new CGIHandler().run(await loadApp(module, parsed.values.validate === true));
    return 0;
  }
  throw usageError(
    command === undefined
      ? "missing command; see 'wsgiref --help'"
      : `unknown command '${command}'; see 'wsgiref --help'`,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof CliError;
    process.stderr.write(`wsgiref: ${known ? err.message : `internal error: ${oneLine(err)}`}\n`);
    debug("%O", known ? (err.cause ?? err) : err);
    process.exit(known ? err.exitCode : 1);
  },
);
