/**
 * The benchmark's results: rows per server, pass/fail checks against the targets,
 * and their rendering as Markdown and JSON.
 */

import { roundRatio } from "./ratio.js";
import type { Scenario, ScenarioId, Target, Unit } from "./scenarios.js";

/** One server's figures in one scenario. */
export interface Row {
  server: string;
  label: string;
  /** The median over the measured runs; undefined when skipped or failed. */
  value?: number;
  /** Every measured run, in order. */
  runs?: number[];
  /** Latency percentiles of the median run, from wrk. */
  p50Ms?: number;
  p99Ms?: number;
  /**
   * Server CPU seconds (user + system, workers included) per request for wrk
   * scenarios, per transfer for the others: the median over the runs.
   */
  cpuPerOp?: number;
  /** The server CPU seconds per request or per transfer of each run, in order. */
  cpuRuns?: number[];
  /** `cpuPerOp` over the baseline's. */
  cpuRatio?: number;
  /**
   * Peak minus baseline resident memory of the server's processes during the
   * measured runs (after the warm-up), in bytes.
   */
  rssGrowth?: number;
  /** The same during the first transfer, the warm-up of download and upload scenarios. */
  rssGrowthFirst?: number;
  /**
   * Over the baseline: the median of the rounds' ratios (`bench/lib/ratio.ts`),
   * with the lowest and highest round's.
   */
  ratio?: number;
  ratioLow?: number;
  ratioHigh?: number;
  /** Why there is no value, or what went wrong alongside it (wrk errors). */
  note?: string;
}

/** One target, checked. */
export interface Check {
  scenario: ScenarioId;
  target: string;
  actual: string;
  /** undefined when a server it needs did not run. */
  pass?: boolean;
}

/** One scenario's results. */
export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  what: string;
  unit: Unit;
  baseline: string;
  rows: Row[];
  checks: Check[];
}

/** Where and how the run happened. */
export interface RunMeta {
  date: string;
  machine: string;
  versions: Record<string, string>;
  pinning: string;
  settings: string;
  /** Always "preliminary" unless the run was taken on a quiet machine (`--final`). */
  status: "preliminary" | "final";
}

/** The whole run, as written to latest.json. */
export interface RunResult {
  meta: RunMeta;
  scenarios: ScenarioResult[];
}

const MIB = 1024 * 1024;

/** A figure in its unit, for tables. */
export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined) {
    return "—";
  }
  switch (unit) {
    case "req/s":
      return Math.round(value).toLocaleString("en-US");
    case "GB/s":
      return value.toFixed(2);
    case "s":
      return value.toFixed(3);
  }
}

function formatMs(ms: number | undefined): string {
  if (ms === undefined) {
    return "—";
  }
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

/** CPU per request in µs, or per transfer in ms. */
export function formatCpu(seconds: number | undefined, unit: Unit): string {
  if (seconds === undefined) {
    return "—";
  }
  return unit === "req/s" ? `${(seconds * 1e6).toFixed(1)} µs` : `${(seconds * 1e3).toFixed(0)} ms`;
}

function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? "—" : `${ratio.toFixed(2)}×`;
}

function formatMiB(bytes: number | undefined): string {
  return bytes === undefined ? "—" : `${(bytes / MIB).toFixed(1)} MiB`;
}

function labelOf(rows: readonly Row[], server: string): string {
  return rows.find((row) => row.server === server)?.label ?? server;
}

/** The target in words, e.g. `wsgiref ≥ 0.9× node:http (raw)`. */
function describe(target: Target, rows: readonly Row[], unit: Unit): string {
  const who = labelOf(rows, target.server);
  if (target.kind === "rss") {
    return `${who}: RSS growth after warm-up < ${formatMiB(target.maxBytes)}`;
  }
  const what = unit === "s" ? "time" : unit;
  const bound = target.min !== undefined ? `≥ ${target.min}×` : `≤ ${target.max ?? Number.NaN}×`;
  return `${who}: ${what} ${bound} ${labelOf(rows, target.vs)}`;
}

/** Check each target of `scenario` against its rows. */
export function evaluate(scenario: Scenario, rows: readonly Row[]): Check[] {
  return scenario.targets.map((target): Check => {
    const text = describe(target, rows, scenario.unit);
    const row = rows.find((each) => each.server === target.server);
    if (target.kind === "rss") {
      const growth = row?.rssGrowth;
      return growth === undefined
        ? { scenario: scenario.id, target: text, actual: "not measured" }
        : {
            scenario: scenario.id,
            target: text,
            actual: formatMiB(growth),
            pass: growth < target.maxBytes,
          };
    }
    const other = rows.find((each) => each.server === target.vs);
    if (row?.value === undefined || other?.value === undefined || other.value === 0) {
      const absent = row?.value === undefined ? target.server : target.vs;
      return { scenario: scenario.id, target: text, actual: `${absent} did not run` };
    }
    const compared = roundRatio(row.runs ?? [row.value], other.runs ?? [other.value]);
    if (compared === undefined) {
      return { scenario: scenario.id, target: text, actual: `${target.vs} measured 0` };
    }
    const ratio = compared.ratio;
    const pass =
      (target.min === undefined || ratio >= target.min) &&
      (target.max === undefined || ratio <= target.max);
    return { scenario: scenario.id, target: text, actual: formatRoundRatio(compared), pass };
  });
}

/** `0.93× (rounds 0.88–0.97)`; just the ratio when there is one round, or the runs did not pair. */
export function formatRoundRatio(compared: {
  ratio: number;
  low: number;
  high: number;
  paired?: boolean;
}): string {
  const ratio = `${compared.ratio.toFixed(2)}×`;
  return compared.paired === false || compared.low === compared.high
    ? ratio
    : `${ratio} (rounds ${compared.low.toFixed(2)}–${compared.high.toFixed(2)})`;
}

function verdict(check: Check): string {
  return check.pass === undefined ? "n/a" : check.pass ? "PASS" : "FAIL";
}

/** One scenario as a Markdown section. */
export function scenarioMarkdown(result: ScenarioResult): string {
  const baselineLabel = labelOf(result.rows, result.baseline);
  const wrk = result.unit === "req/s";
  const per = wrk ? "request" : "transfer";
  // wrk gives latency percentiles; the transfers have a first-transfer RSS figure instead.
  const columns: [string, (row: Row) => string][] = [
    ["server", (row) => row.label],
    [result.unit, (row) => formatValue(row.value, result.unit)],
    [
      `vs ${baselineLabel}`,
      (row) =>
        row.ratio === undefined
          ? formatRatio(undefined)
          : formatRoundRatio({
              ratio: row.ratio,
              low: row.ratioLow ?? row.ratio,
              high: row.ratioHigh ?? row.ratio,
            }),
    ],
    ...(wrk
      ? ([
          ["p50", (row) => formatMs(row.p50Ms)],
          ["p99", (row) => formatMs(row.p99Ms)],
        ] satisfies [string, (row: Row) => string][])
      : []),
    [`server CPU per ${per}`, (row) => formatCpu(row.cpuPerOp, result.unit)],
    [`CPU vs ${baselineLabel}`, (row) => formatRatio(row.cpuRatio)],
    ["RSS growth", (row) => formatMiB(row.rssGrowth)],
    ...(wrk
      ? []
      : ([["RSS growth, first transfer", (row) => formatMiB(row.rssGrowthFirst)]] satisfies [
          string,
          (row: Row) => string,
        ][])),
    ["note", (row) => (row.note ?? "").replaceAll("|", "\\|")],
  ];
  const lines = [
    `### ${result.title}`,
    "",
    result.what + ".",
    "",
    `| ${columns.map(([name]) => name).join(" | ")} |`,
    `|${columns.map(([name]) => (name === "server" || name === "note" ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of result.rows) {
    lines.push(`| ${columns.map(([, cell]) => cell(row)).join(" | ")} |`);
  }
  if (result.checks.length > 0) {
    lines.push("", "| target | actual | result |", "|---|---:|---|");
    for (const check of result.checks) {
      lines.push(`| ${check.target} | ${check.actual} | ${verdict(check)} |`);
    }
  }
  lines.push("");
  return lines.join("\n");
}

/** The whole run as a Markdown document. */
export function runMarkdown(run: RunResult): string {
  const checks = run.scenarios.flatMap((scenario) => scenario.checks);
  const versions = Object.entries(run.meta.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(", ");
  return [
    `# Benchmark results (${run.meta.status})`,
    "",
    `- Date: ${run.meta.date}`,
    `- Machine: ${run.meta.machine}`,
    `- Software: ${versions}`,
    `- Pinning: ${run.meta.pinning}`,
    `- Settings: ${run.meta.settings}`,
    "",
    "## Targets",
    "",
    "| scenario | target | actual | result |",
    "|---|---|---:|---|",
    ...checks.map(
      (check) => `| ${check.scenario} | ${check.target} | ${check.actual} | ${verdict(check)} |`,
    ),
    "",
    "## Scenarios",
    "",
    ...run.scenarios.map(scenarioMarkdown),
  ].join("\n");
}
