/**
 * The options every in-process entry point shares (the Fetch handler, the test
 * client, the Lambda handler): the server's body limits with the server's
 * defaults, where `wsgi.errors` goes, the mount point and extra environ keys.
 */

import { expectObject, show } from "../internal/check.js";
import { StreamErrors } from "../streams/errors.js";
import type { ErrorStream, PartialEnvironment } from "../types.js";
import { checkScriptName } from "./mount.js";

/** Options of an entry point that runs an application in process. */
export interface GatewayOptions {
  /** Where the application is mounted (`SCRIPT_NAME`); `''`, the root, by default. */
  scriptName?: string;
  /** Largest request body in bytes (1 GiB, as the server): 413 past it. */
  maxBodySize?: number;
  /** Request bodies above this many bytes (1 MiB) are spooled to a temporary file. */
  spoolThreshold?: number;
  /** Most header fields in a request (100): 431 past it. */
  maxHeaders?: number;
  /**
   * How long a streamed request body may go without a chunk, in milliseconds
   * (30 000, as the server): 408 past it; 0 for no limit.
   */
  bodyTimeout?: number;
  /** `wsgi.errors` and the error log; a `StreamErrors` over `process.stderr` by default. */
  errors?: ErrorStream;
  /**
   * Extra environ keys, set over the request's own. `wsgi.input` and
   * `wsgi.errors` cannot be set here: the request body and `errors` are those.
   */
  environ?: PartialEnvironment;
  /** `wsgi.multiprocess` (false). */
  multiprocess?: boolean;
}

/** `GatewayOptions` checked, with the defaults filled in. */
export interface ResolvedGatewayOptions {
  readonly scriptName: string;
  readonly maxBodySize: number;
  readonly spoolThreshold: number;
  readonly maxHeaders: number;
  readonly bodyTimeout: number;
  readonly errors: ErrorStream;
  readonly environ: PartialEnvironment;
  readonly multiprocess: boolean;
}

/** The server's defaults (`ServerOptions`). */
const MAX_BODY_SIZE = 1024 * 1024 * 1024;
const SPOOL_THRESHOLD = 1024 * 1024;
const MAX_HEADERS = 100;
const BODY_TIMEOUT = 30_000;

function sizeOption(value: unknown, name: string, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < least) {
    const kind = least === 0 ? "a non-negative" : "a positive";
    throw new TypeError(`${name} must be ${kind} integer: ${show(value)}`);
  }
  return value as number;
}

/** The environ keys an entry point owns: the request body and the error stream. */
const OWNED_KEYS: Record<string, string> = {
  "wsgi.input": "the request body is wsgi.input; send it as the request's body",
  "wsgi.errors": "use the errors option",
};

/**
 * Check `options` of the entry point `name` and fill in the defaults. Throws a
 * `TypeError` for an unknown field or a bad value (`extra` names fields the
 * entry point has besides these).
 */
export function resolveGatewayOptions(
  options: GatewayOptions | undefined,
  name: string,
  extra: readonly string[] = [],
): ResolvedGatewayOptions {
  const given: GatewayOptions = options ?? {};
  expectObject(options ?? {}, `${name} options`);
  const known = new Set([
    "scriptName",
    "maxBodySize",
    "spoolThreshold",
    "maxHeaders",
    "bodyTimeout",
    "errors",
    "environ",
    "multiprocess",
    ...extra,
  ]);
  for (const field of Object.keys(given)) {
    if (!known.has(field))
      throw new TypeError(`${name} options have no field named ${show(field)}`);
  }
  const environ: PartialEnvironment = given.environ ?? {};
  expectObject(given.environ ?? {}, "environ");
  for (const [key, why] of Object.entries(OWNED_KEYS)) {
    if (key in environ) throw new TypeError(`environ must not set ${key}; ${why}`);
  }
  const errors: ErrorStream = given.errors ?? new StreamErrors(process.stderr);
  if (typeof errors?.write !== "function" || typeof errors.flush !== "function") {
    throw new TypeError(`errors must be an ErrorStream (write and flush): ${show(errors)}`);
  }
  const multiprocess = given.multiprocess ?? false;
  if (typeof multiprocess !== "boolean") {
    throw new TypeError(`multiprocess must be a boolean: ${show(multiprocess)}`);
  }
  return {
    scriptName: checkScriptName(given.scriptName ?? "", "scriptName"),
    maxBodySize: sizeOption(given.maxBodySize, "maxBodySize", MAX_BODY_SIZE, 0),
    spoolThreshold: sizeOption(given.spoolThreshold, "spoolThreshold", SPOOL_THRESHOLD, 0),
    maxHeaders: sizeOption(given.maxHeaders, "maxHeaders", MAX_HEADERS, 1),
    bodyTimeout: sizeOption(given.bodyTimeout, "bodyTimeout", BODY_TIMEOUT, 0),
    errors,
    environ,
    multiprocess,
  };
}
