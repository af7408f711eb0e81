/**
 * The flags of `wsgiref serve` and `wsgiref static` that say where to listen
 * and what the application sees of its deployment (SPEC.md §11.7): `--host`,
 * `--port` and their `HOST`/`PORT` environment defaults, `--bind`,
 * `--root-path`, `--proxy-headers`, `--forwarded-allow-ips`, `--log-format`.
 */

import type { ParseArgsConfig } from "node:util";
import type { WSGIApplication } from "../types.js";
import { LOG_FORMATS } from "./access-log-format.js";
import { parseBind } from "./bind.js";
import { usageError } from "./cli-error.js";
import { DEFAULT_ALLOW_IPS, parseAllowedPeers, trustProxyHeaders } from "./proxy-headers.js";
import { mountAt, parseRootPath } from "./root-path.js";

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

const string = { type: "string" } as const;

/** The flags this module reads. */
export const DEPLOY_FLAGS: NonNullable<ParseArgsConfig["options"]> = {
  bind: string,
  "root-path": string,
  "proxy-headers": { type: "boolean" },
  "forwarded-allow-ips": string,
  "log-format": string,
};

/** Where to listen: a host and port, or a Unix socket's path. */
export interface ListenTarget {
  host: string;
  port: number;
  path?: string;
}

/**
 * Where the flags and `env` say to listen: `--bind`, else `--host`/`--port`,
 * else the `HOST`/`PORT` environment variables (as a platform sets them), else
 * 127.0.0.1 port 8000.
 */
export function listenTarget(values: Values, env: NodeJS.ProcessEnv): ListenTarget {
  const flagHost = typeof values.host === "string" ? values.host : undefined;
  const flagPort = typeof values.port === "string" ? values.port : undefined;
  if (typeof values.bind === "string") {
    if (flagHost !== undefined || flagPort !== undefined) {
      throw usageError("--bind cannot be used with --host or --port");
    }
    const target = parseBind(values.bind);
    return "path" in target ? { host: "", port: 0, path: target.path } : target;
  }
  const host = flagHost ?? (env.HOST || "127.0.0.1");
  const port =
    flagPort !== undefined
      ? parsePort(flagPort, "--port")
      : env.PORT
        ? parsePort(env.PORT, "PORT")
        : 8000;
  return { host, port };
}

function parsePort(text: string, name: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw usageError(`${name} must be an integer from 0 to 65535: '${text}'`);
  }
  return port;
}

/** The access-log format `--log-format` names: `text` (Python's, the default) or `json`. */
export function logFormat(values: Values): (typeof LOG_FORMATS)[number] {
  const format = values["log-format"] ?? "text";
  const known = LOG_FORMATS.find((name) => name === format);
  if (known === undefined) {
    throw usageError(`--log-format must be ${LOG_FORMATS.join(" or ")}: '${String(format)}'`);
  }
  return known;
}

/**
 * What the flags wrap the application in, checked now so a bad value fails
 * before anything loads: `--proxy-headers` (for the peers of
 * `--forwarded-allow-ips`, default 127.0.0.1 and ::1) inside `--root-path`, so
 * that a trusted `X-Forwarded-Prefix` replaces the root path.
 */
export function appWrapper(values: Values): (app: WSGIApplication) => WSGIApplication {
  const allowList = values["forwarded-allow-ips"];
  if (typeof allowList === "string" && values["proxy-headers"] !== true) {
    throw usageError("--forwarded-allow-ips needs --proxy-headers");
  }
  const peers =
    values["proxy-headers"] === true
      ? parseAllowedPeers(typeof allowList === "string" ? allowList : DEFAULT_ALLOW_IPS)
      : undefined;
  const root = typeof values["root-path"] === "string" ? parseRootPath(values["root-path"]) : "";
  return (app) => {
    let wrapped = peers === undefined ? app : trustProxyHeaders(app, peers);
    if (root !== "") wrapped = mountAt(wrapped, root);
    return wrapped;
  };
}
