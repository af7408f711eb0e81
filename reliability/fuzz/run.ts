/**
 * `npm run fuzz`: coverage-guided fuzzing of the parsing surfaces we own, with
 * Jazzer.js (libFuzzer driving JavaScript that Jazzer.js instruments for edge
 * coverage and comparison feedback), one process per target (`targets.ts`).
 *
 * Usage: `node build/reliability/fuzz/run.js [--target NAME]... [--seconds S | --runs N]`
 * (default 30 s per target; `--short` is 4 s each from libFuzzer seed 1, what CI
 * runs; `--seed N` fixes the seed of any run). Only `build/src/`
 * is instrumented, so the coverage figures are the package's own edges. The
 * corpus each target grows is kept in `build/fuzz/<target>/corpus` for the next
 * run; its seeds (`seeds` in the target's file) are written beside it anew. A
 * finding stops that target, leaves the input in `build/fuzz/<target>/` and fails
 * the run; so does a leak, or fewer inputs executed than the target's floor
 * (`outcome.ts`). The figures go to `reliability/results/fuzz.json`.
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { encodeFields } from "./input.js";
import { jazzerEnvironment } from "./jazzer-compat.js";
import { minInputs, type Outcome, problems, readOutcome } from "./outcome.js";
import { TARGETS, type Target, type TargetModule } from "./targets.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");

function usage(message: string): never {
  process.stderr.write(
    `fuzz: ${message}\nusage: run.js [--target NAME]... [--seconds S | --runs N | --short] [--seed N]\n`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    seconds: { type: "string" },
    runs: { type: "string" },
    short: { type: "boolean", default: false },
    seed: { type: "string" },
    out: { type: "string", default: join(root, "reliability/results/fuzz.json") },
  },
});

const names = values.target ?? TARGETS.map((t) => t.name);
const chosen = names.map(
  (name) =>
    TARGETS.find((t) => t.name === name) ??
    usage(`no target ${JSON.stringify(name)}; targets: ${TARGETS.map((t) => t.name).join(", ")}`),
);
if (values.seconds !== undefined && values.runs !== undefined)
  usage("give --seconds or --runs, not both");
const positive = (text: string, what: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) usage(`${what} must be a positive integer: ${text}`);
  return n;
};
const runs = values.runs === undefined ? undefined : positive(values.runs, "--runs");
const seconds =
  values.seconds === undefined ? (values.short ? 4 : 30) : positive(values.seconds, "--seconds");
// CI's short run starts libFuzzer from a fixed seed, as the network fuzzer's CI run
// does: a gate should fail on a change, not on the draw. Longer runs draw afresh.
const seed =
  values.seed === undefined ? (values.short ? 1 : undefined) : positive(values.seed, "--seed");

/** Write a target's seeds as corpus files, named by their hash as libFuzzer names its own; returns how many. */
async function writeSeeds(target: Target, dir: string): Promise<number> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const module = (await import(`./${target.name}.js`)) as TargetModule;
  for (const fields of module.seeds) {
    const data = encodeFields(fields);
    writeFileSync(join(dir, createHash("sha1").update(data).digest("hex")), data);
  }
  await module.close?.();
  return module.seeds.length;
}

function fuzzTarget(target: Target, env: Record<string, string>): Promise<Outcome> {
  const dir = join(root, "build/fuzz", target.name);
  const corpus = join(dir, "corpus");
  const seedDir = join(dir, "seeds");
  mkdirSync(corpus, { recursive: true });
  const cli = createRequire(import.meta.url).resolve("@jazzer.js/core/dist/cli.js");
  const args = [
    cli,
    join(here, `${target.name}.js`),
    corpus,
    seedDir,
    "--includes",
    join(root, "build/src/"),
    ...(target.sync ? ["--sync"] : []),
    ...(target.disableBugDetectors ?? []).flatMap((pattern) => ["--disableBugDetectors", pattern]),
    "--",
    runs === undefined ? `-max_total_time=${seconds}` : `-runs=${runs}`,
    `-max_len=${target.maxLen}`,
    ...(seed === undefined ? [] : [`-seed=${seed}`]),
    "-print_final_stats=1",
    `-artifact_prefix=${dir}/`,
  ];
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const outcome = readOutcome(target, output, code, signal, (Date.now() - started) / 1000);
      if (outcome.crashes > 0) {
        writeFileSync(join(dir, "output.txt"), output);
        process.stderr.write(`${output.slice(-6000)}\n`);
      }
      resolvePromise(outcome);
    });
  });
}

async function main(): Promise<void> {
  const env = jazzerEnvironment(join(root, "build/fuzz"), join(root, "reliability/fuzz"));
  const outcomes: Outcome[] = [];
  let failed = false;
  for (const target of chosen) {
    const seeds = await writeSeeds(target, join(root, "build/fuzz", target.name, "seeds"));
    const outcome = await fuzzTarget(target, env);
    outcomes.push(outcome);
    const saved = readdirSync(join(root, "build/fuzz", target.name, "corpus")).length;
    const floor = minInputs(target, seeds, runs === undefined ? { seconds } : { runs });
    process.stdout.write(
      `fuzz ${target.name}: ${outcome.inputs} inputs in ${outcome.seconds.toFixed(1)} s ` +
        `(floor ${floor}), cov ${outcome.edges} edges, ft ${outcome.features}, ` +
        `corpus ${outcome.corpus} (${saved} kept), ${outcome.crashes} crashes, ${outcome.leaks} leaks` +
        `${outcome.finding ? `: ${outcome.finding}` : ""}\n`,
    );
    for (const problem of problems(outcome, floor)) {
      process.stderr.write(`fuzz ${target.name}: FAIL ${problem}\n`);
      failed = true;
    }
  }
  const budget = runs === undefined ? `${seconds} s` : `${runs} runs`;
  const command =
    process.env.npm_lifecycle_event === "fuzz"
      ? "npm run fuzz"
      : `node ${relative(root, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(" ")}`.trim();
  const result = {
    suite: "fuzz",
    command,
    generatedAt: new Date().toISOString(),
    node: process.version,
    rows: outcomes.map((o) => ({
      name: `${o.target.surface} (Jazzer.js, ${budget})`,
      kind: "fuzz",
      requests: o.requests,
      faults: null,
      inputs: o.inputs,
      leaks: o.leaks,
      detail:
        `${o.crashes} crashes; coverage ${o.edges} edges, ${o.features} features of build/src/, ` +
        `corpus ${o.corpus} inputs${o.leakDetail}${o.finding ? `; finding: ${o.finding}` : ""}`,
    })),
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  if (failed) process.exitCode = 1;
}

await main();
