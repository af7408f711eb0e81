/**
 * The fuzz targets, one file each beside this one: what each covers and how the
 * fuzzer drives it. `run.ts` fuzzes them; `tests/reliability/fuzz-targets.test.ts`
 * runs each oracle over its seeds.
 */

/** One fuzz target. */
export interface Target {
  /** The name `--target` takes, and the file (`<name>.ts`) that holds it. */
  readonly name: string;
  /** What is fuzzed, for the results table. */
  readonly surface: string;
  /** Whether `fuzz()` is synchronous (Jazzer.js `--sync`: far more inputs a second). */
  readonly sync: boolean;
  /** The longest input libFuzzer makes (`-max_len`). */
  readonly maxLen: number;
  /**
   * The fewest inputs a second a run must execute (`outcome.ts`): about a
   * twentieth of what a 4 s run does on a busy 2-core machine, so that only a
   * harness that is broken or stuck falls under it.
   */
  readonly minInputsPerSecond: number;
  /**
   * Jazzer.js bug detectors to leave off: only where the target itself does what
   * the detector looks for (the environ target connects to its own server).
   */
  readonly disableBugDetectors?: readonly string[];
}

export const TARGETS: readonly Target[] = [
  {
    name: "headers",
    surface: "Headers and addHeader",
    sync: true,
    maxLen: 256,
    minInputsPerSecond: 500,
  },
  {
    name: "shift-path-info",
    surface: "util.shiftPathInfo",
    sync: true,
    maxLen: 256,
    minInputsPerSecond: 500,
  },
  {
    name: "request-uri",
    surface: "util.requestUri / applicationUri quoting",
    sync: true,
    maxLen: 256,
    minInputsPerSecond: 500,
  },
  {
    name: "cookies",
    surface: "Set-Cookie formatting and Cookie parsing",
    sync: true,
    maxLen: 256,
    minInputsPerSecond: 500,
  },
  {
    name: "form",
    surface: "urlencoded and multipart forms (busboy) within limits",
    sync: false,
    maxLen: 1024,
    minInputsPerSecond: 200,
  },
  {
    name: "environ",
    surface: "environ from raw request heads (node:http, WSGIServer)",
    sync: false,
    maxLen: 1024,
    minInputsPerSecond: 20,
    disableBugDetectors: ["^ssrf$"],
  },
];

/** The module of a target: `fuzz(data)`, the oracle, and `seeds`, its fields. */
export interface TargetModule {
  fuzz(data: Uint8Array): void | Promise<void>;
  readonly seeds: readonly (readonly string[])[];
  close?(): Promise<void>;
}
