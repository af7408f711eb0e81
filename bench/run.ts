/**
 * `npm run bench`: this package's server against raw `node:http` (and Python's
 * wsgiref, gunicorn and waitress when installed) under wrk and curl, each figure
 * taken in the same run as its baseline and printed as a ratio, with pass/fail
 * against the targets of issue 4. Writes bench/results/latest.{json,md} and
 * req-per-s.svg. See bench/README.md.
 *
 * Run after building: `node build/bench/run.js [--duration 5] [--only hello-50,…]`.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeCertificate } from "./lib/certificate.js";
import { barChart } from "./lib/chart.js";
import { pinSelf, planPinning } from "./lib/cpu.js";
import { hasCurl } from "./lib/curl.js";
import { hasH2load } from "./lib/h2load.js";
import { type MeasureContext, measureScenario } from "./lib/measure.js";
import { killAll } from "./lib/proc.js";
import { profileServers } from "./lib/profile-run.js";
import { median, roundRatio } from "./lib/ratio.js";
import {
  evaluate,
  formatCpu,
  formatValue,
  type Row,
  type RunMeta,
  type RunResult,
  runMarkdown,
  type ScenarioResult,
} from "./lib/report.js";
import { SCENARIO_IDS, SCENARIOS, type Scenario, type ScenarioId } from "./lib/scenarios.js";
import { type Paths, PYTHON, SERVERS, server } from "./lib/servers.js";
import { findWrk } from "./lib/wrk.js";

const MIB = 1024 * 1024;
const FILE_SIZE = 256 * MIB;
const UPLOAD_SIZE = 64 * MIB;

const HELP = `Usage: node build/bench/run.js [options]   (npm run bench -- [options])

Options:
  --duration S     whole seconds per measured wrk run (default 3)
  --warmup S       whole seconds of wrk warm-up before each measured run (default 1; 0: none)
  --repeat N       measured wrk runs per server, taken in turns across the servers;
                   the median is reported (default 3)
  --passes N       run the scenarios N times over, one after the other, and pool each
                   scenario's rounds from every pass (N x repeat rounds), so that they
                   are spread over the whole run rather than one stretch of it (default 1)
  --only LIST      scenarios to run, comma-separated (default all):
                   ${SCENARIO_IDS.join(", ")}
  --servers LIST   servers to run, comma-separated (default all):
                   ${SERVERS.map((spec) => spec.id).join(", ")}
  --install        apt-get install wrk, python3-gunicorn and python3-waitress when missing (root)
  --profile        instead of the scenarios, profile raw node:http and our server (or the
                   --servers given) on hello world with node --cpu-prof and print the
                   top self-time frames
  --final          label the results final rather than preliminary (use on a quiet machine)
  --no-write       print only; leave bench/results/ as it is
  -h, --help       this text
`;

interface Options {
  durationS: number;
  warmupS: number;
  repeat: number;
  passes: number;
  scenarios: readonly Scenario[];
  servers: ReadonlySet<string>;
  install: boolean;
  profile: boolean;
  /** The servers `--profile` profiles. */
  profiled: readonly string[];
  final: boolean;
  write: boolean;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/** A whole number from a flag (wrk takes whole seconds). */
function whole(text: string | undefined, name: string, fallback: number, zero = false): number {
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !zero)) {
    fail(`--${name} must be a ${zero ? "non-negative" : "positive"} whole number: ${text}`);
  }
  return value;
}

function list<T extends string>(text: string | undefined, known: readonly T[], name: string): T[] {
  if (text === undefined) {
    return [...known];
  }
  const items = text.split(",").filter((item) => item !== "");
  for (const item of items) {
    if (!known.includes(item as T)) {
      fail(`--${name} has an unknown entry: ${item} (known: ${known.join(", ")})`);
    }
  }
  return items as T[];
}

const FLAGS = {
  duration: { type: "string" },
  warmup: { type: "string" },
  repeat: { type: "string" },
  passes: { type: "string" },
  only: { type: "string" },
  servers: { type: "string" },
  install: { type: "boolean" },
  profile: { type: "boolean" },
  final: { type: "boolean" },
  "no-write": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function parseFlags() {
  return parseArgs({ options: FLAGS, strict: true, allowPositionals: false }).values;
}

function parseOptions(): Options {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags();
  } catch (err) {
    fail(`${(err as Error).message}\n${HELP}`);
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const only = new Set<ScenarioId>(list(values.only, SCENARIO_IDS, "only"));
  const serverIds = SERVERS.map((spec) => spec.id);
  return {
    durationS: whole(values.duration, "duration", 3),
    warmupS: whole(values.warmup, "warmup", 1, true),
    repeat: whole(values.repeat, "repeat", 3),
    passes: whole(values.passes, "passes", 1),
    scenarios: SCENARIOS.filter((scenario) => only.has(scenario.id)),
    servers: new Set(list(values.servers, serverIds, "servers")),
    install: values.install === true,
    profile: values.profile === true,
    profiled:
      values.servers === undefined ? ["raw", "ours"] : list(values.servers, serverIds, "servers"),
    final: values.final === true,
    write: values["no-write"] !== true,
  };
}

/** Everything the run needs. */
interface Context extends MeasureContext {
  options: Options;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Install Debian packages with apt-get when allowed; say what to do otherwise. */
function aptInstall(packages: readonly string[], allowed: boolean): void {
  if (packages.length === 0) {
    return;
  }
  const command = `apt-get install -y ${packages.join(" ")}`;
  if (!allowed) {
    log(`missing Debian packages; to include them: ${command} (as root), or run with --install`);
    return;
  }
  if (process.getuid?.() !== 0) {
    log(`--install needs root; run: sudo ${command}`);
    return;
  }
  log(`installing: ${command}`);
  const result = spawnSync("apt-get", ["install", "-y", ...packages], { stdio: "inherit" });
  if (result.status !== 0) {
    log(
      `apt-get failed (${result.status ?? result.signal}); continuing without ${packages.join(", ")}`,
    );
  }
}

function pythonModuleMissing(module: string): boolean {
  return spawnSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" }).status !== 0;
}

/** Write `size` bytes of one random 1 MiB block, repeated, to `path`. */
function makeFile(path: string, size: number): void {
  const block = randomBytes(MIB);
  const fd = openSync(path, "w");
  try {
    for (let written = 0; written < size; written += MIB) {
      writeSync(fd, block, 0, Math.min(MIB, size - written));
    }
  } finally {
    closeSync(fd);
  }
}

function progress(scenario: Scenario, row: Row): void {
  const figures =
    row.value === undefined
      ? (row.note ?? "")
      : [
          `${formatValue(row.value, scenario.unit)} ${scenario.unit}`,
          row.ratio === undefined ? "" : `${row.ratio.toFixed(2)}× ${scenario.baseline}`,
          row.p50Ms === undefined ? "" : `p50 ${row.p50Ms.toFixed(2)} ms`,
          row.p99Ms === undefined ? "" : `p99 ${row.p99Ms.toFixed(2)} ms`,
          row.cpuPerOp === undefined ? "" : `CPU ${formatCpu(row.cpuPerOp, scenario.unit)}`,
          row.rssGrowth === undefined ? "" : `RSS +${(row.rssGrowth / MIB).toFixed(1)} MiB`,
          row.rssGrowthFirst === undefined
            ? ""
            : `(first ${(row.rssGrowthFirst / MIB).toFixed(1)} MiB)`,
          row.note ?? "",
        ]
          .filter((part) => part !== "")
          .join("  ");
  log(`  ${row.label.padEnd(28)} ${figures}`);
}

/** Measure `scenario` once (one pass): a row per server, with its ratio within the pass. */
async function measurePass(scenario: Scenario, ctx: Context, pass: number): Promise<Row[]> {
  const passes = ctx.options.passes;
  log(`\n== ${scenario.id}: ${scenario.title}${passes > 1 ? ` (pass ${pass} of ${passes})` : ""}`);
  const specs = scenario.servers.filter((id) => ctx.options.servers.has(id)).map(server);
  const rows = await measureScenario(scenario, specs, ctx);
  compare(rows, scenario.baseline);
  for (const row of rows) {
    progress(scenario, row);
  }
  return rows;
}

/** Set each row's ratios to the baseline's row (see ratio.ts). */
function compare(rows: readonly Row[], baselineId: string): void {
  const baseline = rows.find((row) => row.server === baselineId);
  const baseCpu = baseline?.cpuPerOp;
  for (const row of rows) {
    const compared = row.value === undefined ? undefined : roundRatio(row.runs, baseline?.runs);
    if (compared !== undefined) {
      row.ratio = compared.ratio;
      row.ratioLow = compared.low;
      row.ratioHigh = compared.high;
    }
    if (row.cpuPerOp !== undefined && baseCpu !== undefined && baseCpu > 0) {
      row.cpuRatio = row.cpuPerOp / baseCpu;
    }
  }
}

/**
 * One server's rows from every pass as one row: the rounds of all passes in
 * order (so they still pair up with the baseline's, pass by pass), the medians
 * over all of them, the largest RSS growth, latency from the pass nearest the
 * median.
 */
function pool(rows: readonly Row[]): Row {
  const first = rows[0] as Row;
  const measured = rows.filter((row) => row.value !== undefined && row.runs !== undefined);
  const notes = [...new Set(rows.map((row) => row.note).filter((note) => note !== undefined))];
  const pooled: Row = { server: first.server, label: first.label };
  if (notes.length > 0) pooled.note = notes.join("; ");
  if (measured.length === 0) return pooled;
  if (measured.length < rows.length) {
    pooled.note = [`measured in ${measured.length} of ${rows.length} passes`, ...notes].join("; ");
  }
  const runs = measured.flatMap((row) => row.runs as number[]);
  const value = median(runs);
  pooled.value = value;
  pooled.runs = runs;
  const cpuRuns = measured.flatMap((row) => row.cpuRuns ?? []);
  if (cpuRuns.length > 0) pooled.cpuPerOp = median(cpuRuns);
  pooled.cpuRuns = cpuRuns;
  const nearest = measured.reduce((best, row) =>
    Math.abs((row.value as number) - value) < Math.abs((best.value as number) - value) ? row : best,
  );
  pooled.p50Ms = nearest.p50Ms;
  pooled.p99Ms = nearest.p99Ms;
  const largest = (pick: (row: Row) => number | undefined): number | undefined => {
    const values = rows.map(pick).filter((each) => each !== undefined);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  pooled.rssGrowth = largest((row) => row.rssGrowth);
  pooled.rssGrowthFirst = largest((row) => row.rssGrowthFirst);
  return pooled;
}

/** A scenario's result from the rows of each pass (one pass: its rows as they are). */
function scenarioResult(scenario: Scenario, passes: readonly Row[][]): ScenarioResult {
  const ids = (passes[0] ?? []).map((row) => row.server);
  const rows =
    passes.length === 1
      ? (passes[0] as Row[])
      : ids.map((id) => pool(passes.map((rows) => rows.find((row) => row.server === id) as Row)));
  compare(rows, scenario.baseline);
  return {
    id: scenario.id,
    title: scenario.title,
    what: scenario.what,
    unit: scenario.unit,
    baseline: scenario.baseline,
    rows,
    checks: evaluate(scenario, rows),
  };
}

function version(cmd: string, args: readonly string[]): string | undefined {
  const result = spawnSync(cmd, args, { encoding: "utf8" });
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n")[0];
  return result.error === undefined && text !== undefined && text !== "" ? text : undefined;
}

/** Where and how the run happened; `started` and `load1` are taken before the first server starts. */
function meta(ctx: Context, started: Date, load1: number): RunMeta {
  const versions: Record<string, string> = { "Node.js": process.version };
  const add = (name: string, value: string | undefined, pattern: RegExp): void => {
    const match = value?.match(pattern);
    if (match?.[1] !== undefined) {
      versions[name] = match[1];
    }
  };
  if (ctx.wrk !== undefined) {
    add("wrk", version(ctx.wrk, ["--version"]), /wrk (\S+)/);
  }
  add("curl", version("curl", ["--version"]), /curl (\S+)/);
  add("Python", version(PYTHON, ["--version"]), /Python (\S+)/);
  for (const module of ["gunicorn", "waitress"]) {
    add(
      module,
      version(PYTHON, ["-c", `import importlib.metadata as m; print(m.version("${module}"))`]),
      /^(\d\S*)/,
    );
  }
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const { options } = ctx;
  return {
    date: started.toISOString(),
    machine:
      `${cpu}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ` +
      `Linux ${release()}; load average ${load1.toFixed(2)} at start`,
    versions,
    pinning: ctx.pinning.note,
    settings:
      `wrk ${options.durationS} s per run after ${options.warmupS} s warm-up, ` +
      `${options.repeat} run(s) per server (median)` +
      (options.passes > 1
        ? ` in each of ${options.passes} passes over the scenarios, the rounds pooled; `
        : "; ") +
      `scenarios ${options.scenarios.map((scenario) => scenario.id).join(", ")}; ` +
      `servers ${[...options.servers].join(", ")}`,
    status: options.final ? "final" : "preliminary",
  };
}

function writeResults(run: RunResult, paths: Paths): void {
  const dir = join(paths.root, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(join(dir, "latest.md"), runMarkdown(run));
  const hello = run.scenarios.find((scenario) => scenario.id === "hello-50");
  const bars = hello?.rows.filter((row) => row.value !== undefined) ?? [];
  if (bars.length > 0) {
    const svg = barChart({
      title: "Hello world, keep-alive, 50 connections (req/s, higher is better)",
      subtitle: `${run.meta.date.slice(0, 10)} · ${run.meta.status} · ${run.meta.machine.split(";")[0]}`,
      unit: "req/s",
      bars: bars.map((row) => ({
        label: row.label,
        value: row.value ?? 0,
        highlight: row.server === "ours",
      })),
    });
    writeFileSync(join(dir, "req-per-s.svg"), svg);
  }
  log(
    `\nwrote ${join("bench/results", "latest.json")}, latest.md${bars.length > 0 ? ", req-per-s.svg" : ""}`,
  );
}

/** `--profile`: profile the servers asked for, print and write the summary. */
async function profile(ctx: Context): Promise<void> {
  let sections: string[];
  try {
    sections = await profileServers(ctx.options.profiled, ctx, log);
  } catch (err) {
    fail((err as Error).message);
  }
  if (ctx.options.write && sections.length > 0) {
    writeFileSync(
      join(ctx.paths.root, "bench/results/profile.md"),
      [
        `# CPU profile, hello world (${new Date().toISOString()})`,
        "",
        "`node --cpu-prof`, self time per function mapped to TypeScript via source maps. " +
          "Regenerate with `npm run bench -- --profile`.",
        "",
        ...sections,
      ].join("\n"),
    );
    log("wrote bench/results/profile.md");
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const paths: Paths = { root, build: join(root, "build") };
  const pinning = planPinning();
  // Keep this process (its timers, its RSS sampling) off the server's core.
  pinSelf(pinning.client);

  let wrk = findWrk();
  const missingPackages: string[] = [];
  if (wrk === undefined) {
    missingPackages.push("wrk");
  }
  const wantsPython = ["gunicorn", "waitress"].filter((id) => options.servers.has(id));
  for (const module of wantsPython) {
    if (pythonModuleMissing(module)) {
      missingPackages.push(`python3-${module}`);
    }
  }
  aptInstall(missingPackages, options.install);
  wrk ??= findWrk();
  if (wrk === undefined) {
    log("wrk not found: wrk scenarios are skipped (install: apt-get install -y wrk)");
  }

  const tmp = mkdtempSync(join(tmpdir(), "wsgiref-bench-"));
  const cleanUp = (): void => {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanUp();
      process.exit(130);
    });
  }
  const file = join(tmp, "file-256m.bin");
  // The TLS servers' certificate, made for the run (cheap: one openssl call).
  const certificate = makeCertificate(tmp);
  const uploadFile = join(tmp, "upload-64m.bin");
  const ctx: Context = {
    options,
    paths,
    pinning,
    wrk,
    curl: hasCurl(),
    h2load: hasH2load(),
    env: {
      ...process.env,
      WSGIREF_BENCH_FILE: file,
      WSGIREF_BENCH_CERT: certificate.cert,
      WSGIREF_BENCH_KEY: certificate.key,
    },
    fileSize: FILE_SIZE,
    uploadFile,
    uploadSize: UPLOAD_SIZE,
    durationS: options.durationS,
    warmupS: options.warmupS,
    repeat: options.repeat,
  };
  log(`pinning: ${pinning.note}`);
  try {
    if (options.profile) {
      await profile(ctx);
      return;
    }
    const ids = new Set(options.scenarios.map((scenario) => scenario.id));
    if (ids.has("file-256m") || ids.has("file-256m-h2")) {
      makeFile(file, FILE_SIZE);
    }
    if (ids.has("upload-64m")) {
      makeFile(uploadFile, UPLOAD_SIZE);
    }
    const started = new Date();
    const load1 = loadavg()[0] ?? 0;
    const passes: Row[][][] = options.scenarios.map(() => []);
    for (let pass = 1; pass <= options.passes; pass++) {
      for (const [i, scenario] of options.scenarios.entries()) {
        passes[i]?.push(await measurePass(scenario, ctx, pass));
      }
    }
    const results = options.scenarios.map((scenario, i) =>
      scenarioResult(scenario, passes[i] ?? []),
    );
    const run: RunResult = { meta: meta(ctx, started, load1), scenarios: results };
    log(`\n${runMarkdown(run)}`);
    if (options.write) {
      writeResults(run, paths);
    }
  } finally {
    cleanUp();
  }
}

await main();
