/**
 * The targets of the soak run and how its figures are judged against them:
 * no unexpected error, RSS growth under 10% over the run, descriptors back to
 * their baseline, no temporary file left.
 */

import type { AbortReport } from "./aborter.js";
import type { Sample } from "./proc-sampler.js";
import type { LoadReport } from "./traffic.js";

/** RSS may grow by less than this fraction between the two readings compared. */
export const RSS_GROWTH_LIMIT = 0.1;
/**
 * The limit for runs shorter than 20 s (CI's 10 s run). V8's heap is still
 * finding its size under this load for tens of seconds (+11% between 2 s and
 * 10 s of a 10 s run on a busy machine, with no leak), so a short run can only
 * catch a gross leak; the 10% target is the 60 s run's.
 */
export const SHORT_RUN_RSS_GROWTH_LIMIT = 0.25;

/** The RSS growth limit for a run of `duration` seconds. */
export function rssGrowthLimit(duration: number): number {
  return duration < 20 ? SHORT_RUN_RSS_GROWTH_LIMIT : RSS_GROWTH_LIMIT;
}

/** Everything the run measured. */
export interface Figures {
  duration: number;
  connections: number;
  /** Every autocannon stream, the warm-up's included. */
  loads: LoadReport[];
  /** The unmeasured warm-up load of a short run, when there was one. */
  warmUp: { seconds: number; settled: boolean } | undefined;
  aborts: AbortReport;
  samples: Sample[];
  /** Descriptors of the idle server after the warm-up, before the load. */
  fdBaseline: number;
  /** Descriptors once the load had stopped and they had had time to close. */
  fdEnd: number | undefined;
  /** Leftover descriptors' targets, when `fdEnd` is above the baseline. */
  fdLeftover: string[];
  /** Descriptors still open on a spool file after the load. */
  spoolFds: number;
  /** Entries left in the server's temporary directory. */
  tempFiles: string[];
  /** Lines the server printed during the run besides its own life's (`serverLog()`). */
  serverLog: string[];
  /** Whether the server answered a request after the load. */
  aliveAfter: boolean;
  /** The server's exit code after SIGTERM. */
  exitCode: number | string | undefined;
}

/** The two RSS readings compared, and where they were taken. */
export interface RssWindow {
  /** Where the comparison starts: seconds into the load, and the RSS there (bytes). */
  from: { at: number; rss: number };
  /** Where it ends: the end of the load. */
  to: { at: number; rss: number };
  growth: number;
  peak: number;
  /** How the window was chosen, for the report. */
  rule: string;
}

/** One target: its name, what was measured, whether it was met. */
export interface Target {
  name: string;
  measured: string;
  ok: boolean;
}

/**
 * Compare RSS at the 10th second with the end; for runs shorter than 20 s,
 * at 20% of the run instead (10 s would leave too little run to compare),
 * after the warm-up load that such runs start with.
 */
export function rssWindow(
  samples: readonly Sample[],
  duration: number,
  warmUp?: Figures["warmUp"],
): RssWindow | undefined {
  const short = duration < 20;
  const fromAt = short ? duration * 0.2 : 10;
  // Samples land a few milliseconds after each whole second.
  const first = samples.find((s) => s.at >= fromAt - 0.05);
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last === first) return undefined;
  // Each end is the highest of the readings within a second of it (the last
  // three at the end): RSS dips for a moment after a collection, and comparing
  // a dip with a peak would say nothing about leaks.
  const highest = (near: (s: Sample) => boolean): number =>
    Math.max(...samples.filter(near).map((s) => s.rss));
  const from = { at: first.at, rss: highest((s) => Math.abs(s.at - first.at) <= 1.05) };
  const to = { at: last.at, rss: highest((s) => s.at >= last.at - 2.05) };
  const peak = Math.max(...samples.map((s) => s.rss));
  const warm =
    warmUp === undefined
      ? ""
      : `, after ${warmUp.seconds.toFixed(0)} s of unmeasured warm-up load` +
        (warmUp.settled ? " (until RSS stayed within 2% for 5 s)" : " (RSS had not settled)");
  const rule = short
    ? `run shorter than 20 s: compared at 20% (${fromAt} s) and 100% of it${warm}`
    : "compared at 10 s and at the end of the run";
  const how =
    "; each figure the highest 1-s reading within 1 s of it (within the last 2 s at the end)";
  return { from, to, growth: (to.rss - from.rss) / from.rss, peak, rule: rule + how };
}

/**
 * The lines the command prints about its own life (src/cli/banner.ts): the
 * serving line, a worker's start, a shutdown's first and last lines.
 */
const LIFE_LINES = [
  /^Serving HTTPS? on /,
  /^Worker \d+ listening \(\d+ of \d+\)$/,
  /^Shutting down on SIG[A-Z]+: /,
  /^Shut down cleanly$/,
];

/** The lines of the server's output (`--quiet`: no access log) besides those about its own life: errors only. */
export function serverLog(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !LIFE_LINES.some((life) => life.test(line)));
}

/** Count the unexpected errors of every kind. */
export function errorCounts(figures: Figures): Record<string, number> {
  const sum = (pick: (load: LoadReport) => number): number =>
    figures.loads.reduce((total, load) => total + pick(load), 0);
  return {
    non2xx: sum((l) => l.non2xx),
    // autocannon counts its timeouts among its errors; report them apart.
    socketErrors: sum((l) => l.errors - l.timeouts),
    timeouts: sum((l) => l.timeouts),
    mismatches: sum((l) => l.mismatches),
    abortClients: figures.aborts.unexpected,
    serverLog: figures.serverLog.length,
  };
}

/** Leaked descriptors plus spool descriptors plus temporary files. */
export function leakCount(figures: Figures): number {
  const fds = figures.fdEnd === undefined ? 0 : Math.max(0, figures.fdEnd - figures.fdBaseline);
  return fds + figures.spoolFds + figures.tempFiles.length;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Judge `figures` against every target. */
export function targets(figures: Figures): Target[] {
  const errors = errorCounts(figures);
  const unexpected = Object.values(errors).reduce((a, b) => a + b, 0);
  const window = rssWindow(figures.samples, figures.duration, figures.warmUp);
  const served = figures.loads.reduce((total, load) => total + load.ok, 0);
  const limit = rssGrowthLimit(figures.duration);
  return [
    {
      name: "requests served",
      measured: `${served} (2xx)`,
      ok: served > 0,
    },
    {
      name: "unexpected errors",
      measured:
        `${unexpected} (non-2xx ${errors.non2xx}, socket ${errors.socketErrors}, ` +
        `timeouts ${errors.timeouts}, bad bodies ${errors.mismatches}, ` +
        `aborting clients ${errors.abortClients}, server log lines ${errors.serverLog})`,
      ok: unexpected === 0,
    },
    {
      name: `RSS growth < ${limit * 100}%`,
      measured:
        window === undefined
          ? "too few samples"
          : `${signed(window.growth)} (${mib(window.from.rss)} at ${window.from.at.toFixed(1)} s → ` +
            `${mib(window.to.rss)} at ${window.to.at.toFixed(1)} s; peak ${mib(window.peak)})`,
      ok: window !== undefined && window.growth < limit,
    },
    {
      name: "fds back to baseline",
      measured: `${figures.fdBaseline} → ${figures.fdEnd ?? "server gone"}`,
      ok: figures.fdEnd !== undefined && figures.fdEnd <= figures.fdBaseline,
    },
    {
      name: "no spool file left",
      measured: `${figures.tempFiles.length} in the temp dir, ${figures.spoolFds} open`,
      ok: figures.tempFiles.length === 0 && figures.spoolFds === 0,
    },
    {
      name: "server alive, then clean exit",
      measured: `${figures.aliveAfter ? "answered" : "did not answer"} after the load; exit ${figures.exitCode ?? "?"}`,
      ok: figures.aliveAfter && figures.exitCode === 0,
    },
  ];
}

/** A fraction as a signed percentage: `+2.1%`. */
export function signed(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
}
