/**
 * `node build/reliability/misbehaving-apps.js`: applications that misbehave
 * outside the request, against `wsgiref serve` (issue 13). Stray rejections and
 * throwing timers (alone and in workers), a worker stuck in a loop, a request
 * that crashes its worker (one at a time, 100 times; and back to back), a worker
 * that leaks, and --max-requests recycling under load. Each scenario starts its
 * own server, reports its figures and its missed targets; the run writes
 * reliability/results/misbehaving-apps.json (`--out PATH` elsewhere) and exits 1
 * when a target is missed. `--short` (CI) runs a few of each. `--tls` serves
 * HTTPS (workers included) with a certificate `openssl` makes for the run,
 * and writes misbehaving-apps-tls.json. `--only NAME` (repeatable) runs those
 * scenarios alone (`recycling`: --max-requests under load), and writes a file
 * only with `--out`, so that a part does not stand for the whole.
 *
 * Everything is on 127.0.0.1, port 0; the only processes stopped are the
 * servers this run started and their workers, by PID.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { certificateFlags } from "../bench/lib/certificate.js";
import { killAll } from "../bench/lib/proc.js";
import {
  crashBurst,
  crashLoop,
  LONG,
  leakingWorker,
  type Result,
  recycling,
  SHORT,
  type Sizes,
  strayErrors,
  stuckWorker,
} from "./misbehaving-apps/scenarios.js";

const RESULTS_DIR = fileURLToPath(new URL("../../reliability/results/", import.meta.url));
/** The whole run gives up after this long (ms). */
const DEADLINE = { long: 15 * 60_000, short: 110_000 };

/** Every scenario, by the name `--only` takes, in the order a run takes them. */
const SCENARIOS = new Map<string, (sizes: Sizes) => Promise<Result>>([
  ["stray-errors", (sizes) => strayErrors(sizes, false)],
  ["stray-errors-workers", (sizes) => strayErrors(sizes, true)],
  ["stuck-worker", stuckWorker],
  ["crash-loop", crashLoop],
  ["crash-burst", crashBurst],
  ["leaking-worker", leakingWorker],
  ["recycling", recycling],
]);

interface Options {
  short: boolean;
  tls: boolean;
  /** The scenarios to run, by name. */
  only: string[];
  /** Where the figures go; undefined: nowhere (a part of the run without `--out`). */
  out: string | undefined;
  command: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      short: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      out: { type: "string" },
    },
    strict: true,
  });
  const short = values.short === true;
  const tls = values.tls === true;
  const only = values.only ?? [...SCENARIOS.keys()];
  for (const name of only) {
    if (!SCENARIOS.has(name)) {
      throw new RangeError(
        `--only takes one of ${[...SCENARIOS.keys()].join(", ")}: ${JSON.stringify(name)}`,
      );
    }
  }
  const part = values.only === undefined ? "" : values.only.map((n) => ` --only ${n}`).join("");
  const flags = `${short ? " --short" : ""}${tls ? " --tls" : ""}${part}`;
  const command = `node build/reliability/misbehaving-apps.js${flags}`;
  const results = join(RESULTS_DIR, tls ? "misbehaving-apps-tls.json" : "misbehaving-apps.json");
  const out = values.out ?? (values.only === undefined ? results : undefined);
  return { short, tls, only, out, command };
}

async function main(): Promise<number> {
  const { short, tls, only, out, command } = options();
  const certDir = tls ? mkdtempSync(join(tmpdir(), "wsgiref-misbehaving-")) : undefined;
  const sizes: Sizes = {
    ...(short ? SHORT : LONG),
    tls: certDir === undefined ? [] : certificateFlags(certDir),
  };
  const onSignal = (): void => {
    killAll();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const limit = short ? DEADLINE.short : DEADLINE.long;
  const deadline = setTimeout(() => {
    console.error(`misbehaving-apps: gave up after ${limit / 1000} s`);
    killAll();
    process.exit(1);
  }, limit);
  deadline.unref();

  const results: Result[] = [];
  try {
    for (const name of only) {
      const started = Date.now();
      const result = await (SCENARIOS.get(name) as (sizes: Sizes) => Promise<Result>)(sizes);
      results.push(result);
      const verdict = result.problems.length === 0 ? "ok" : `MISSED: ${result.problems.join("; ")}`;
      console.log(
        `${result.row.name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${verdict}`,
      );
      console.log(`  ${result.row.detail}`);
    }
  } finally {
    clearTimeout(deadline);
    killAll();
    if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
  }
  const passed = results.every((r) => r.problems.length === 0) ? 0 : 1;
  if (out === undefined) return passed;
  mkdirSync(dirname(out), { recursive: true });
  const data = {
    suite: "misbehaving-apps",
    command,
    generatedAt: new Date().toISOString(),
    node: process.version,
    rows: results.map((r) => r.row),
  };
  writeFileSync(out, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`wrote ${out}`);
  return passed;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(
      `misbehaving-apps: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    killAll();
    process.exitCode = 1;
  },
);
