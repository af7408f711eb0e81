/**
 * The flags of `wsgiref serve --workers` that keep workers healthy: recycling
 * after a number of requests or past a memory size, the watchdog for a worker
 * whose event loop is stuck, and how long a worker told to stop may take.
 * gunicorn's names where it has the flag (`--max-requests`,
 * `--max-requests-jitter`, `--graceful-timeout`); its `--timeout` is
 * `--worker-timeout` here, beside `--headers-timeout` and `--request-timeout`.
 */

import { usageError } from "./cli-error.js";

/** How the primary keeps its workers healthy. Times in milliseconds, sizes in bytes. */
export interface WorkerPolicy {
  /** A worker retires (is replaced, then drains) after this many requests; 0 never. */
  maxRequests: number;
  /** Each worker's `maxRequests` is raised by up to this much, at random, so they do not retire together. */
  maxRequestsJitter: number;
  /** A listening worker silent for this long (its event loop blocked) is killed; 0 never. */
  workerTimeout: number;
  /** A worker told to stop (retiring, or SIGTERM) and still running after this long is killed. */
  gracefulTimeout: number;
  /** A worker whose resident set passes this many bytes retires; 0 never. */
  maxWorkerMemory: number;
}

/** gunicorn's defaults: no recycling, 30 s for the watchdog and for a drain. */
export const DEFAULT_POLICY: WorkerPolicy = {
  maxRequests: 0,
  maxRequestsJitter: 0,
  workerTimeout: 30_000,
  gracefulTimeout: 30_000,
  maxWorkerMemory: 0,
};

/** Each flag, the `WorkerPolicy` field it sets, and the smallest value it takes. */
const FLAGS = {
  "max-requests": ["maxRequests", 0],
  "max-requests-jitter": ["maxRequestsJitter", 0],
  "worker-timeout": ["workerTimeout", 0],
  "graceful-timeout": ["gracefulTimeout", 0],
  "max-worker-memory": ["maxWorkerMemory", 0],
} as const;

/** The flags, as `parseArgs` options. */
export const WORKER_FLAGS = Object.fromEntries(
  Object.keys(FLAGS).map((name) => [name, { type: "string" } as const]),
);

/**
 * The policy the flags give, read through `integer` (the command's reader of
 * integer flags: `undefined` when absent, a usage error when bad). The flags
 * need `--workers`: one process alone has no one to replace it.
 */
export function workerPolicy(
  integer: (name: string, min: number) => number | undefined,
  workers: number | undefined,
): WorkerPolicy {
  const policy = { ...DEFAULT_POLICY };
  for (const [name, [field, min]] of Object.entries(FLAGS)) {
    const value = integer(name, min);
    if (value === undefined) continue;
    if (workers === undefined) throw usageError(`--${name} needs --workers`);
    policy[field] = value;
  }
  return policy;
}
