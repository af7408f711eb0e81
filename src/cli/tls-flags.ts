/**
 * The flags of `wsgiref serve` and `wsgiref static` for HTTPS and HTTP/2
 * (SPEC.md §11.6): `--certfile FILE --keyfile FILE` (gunicorn's names) and
 * `--http2`, read into `ServerOptions.tls` and `ServerOptions.http2`.
 */

import { readFileSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import type { ServerOptions } from "../simple-server.js";
import { CliError, oneLine, usageError } from "./cli-error.js";

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** The flags this module reads. */
export const TLS_FLAGS: NonNullable<ParseArgsConfig["options"]> = {
  certfile: { type: "string" },
  keyfile: { type: "string" },
  http2: { type: "boolean" },
};

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${path}: ${oneLine(err)}`, { cause: err });
  }
}

/**
 * `tls` (the certificate chain and key, read now so a missing file fails before
 * anything loads) and `http2`, as the flags say. `--certfile` and `--keyfile`
 * go together.
 */
export function tlsOptions(values: Values): Pick<ServerOptions, "tls" | "http2"> {
  const certfile = values.certfile;
  const keyfile = values.keyfile;
  const options: Pick<ServerOptions, "tls" | "http2"> = {};
  if (typeof certfile === "string" || typeof keyfile === "string") {
    if (typeof certfile !== "string") throw usageError("--keyfile needs --certfile");
    if (typeof keyfile !== "string") throw usageError("--certfile needs --keyfile");
    options.tls = { cert: readPem(certfile, "--certfile"), key: readPem(keyfile, "--keyfile") };
  }
  if (values.http2 === true) options.http2 = true;
  return options;
}
