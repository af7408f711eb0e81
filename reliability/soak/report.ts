/**
 * The soak run's output: a summary table on stdout, and
 * reliability/results/soak.json in the format of reliability/README.md.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { errorCounts, type Figures, leakCount, rssWindow, signed, type Target } from "./verdict.js";

/** Render `rows` as a plain table with a header line. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The summary printed at the end: the load per stream, the aborted clients, the targets. */
export function summary(figures: Figures, judged: readonly Target[]): string {
  const loads = table(
    ["stream", "conns", "pipelining", "2xx", "non-2xx", "errors", "timeouts", "bad bodies", "MiB"],
    figures.loads.map((l) => [
      l.name,
      String(l.connections),
      String(l.pipelining),
      String(l.ok),
      String(l.non2xx),
      String(l.errors - l.timeouts),
      String(l.timeouts),
      String(l.mismatches),
      (l.bytes / 1024 / 1024).toFixed(0),
    ]),
  );
  const aborted = Object.entries(figures.aborts.aborted)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const verdicts = table(
    ["target", "measured", "result"],
    judged.map((t) => [t.name, t.measured, t.ok ? "ok" : "MISSED"]),
  );
  const problems = [
    ...figures.loads.flatMap((l) => l.problems.map((p) => `${l.name}: ${p}`)),
    ...figures.aborts.problems.map((p) => `aborting client: ${p}`),
    ...figures.serverLog.slice(0, 10).map((p) => `server: ${p}`),
    ...(figures.fdLeftover.length > 0 ? [`leftover fds: ${figures.fdLeftover.join(", ")}`] : []),
    ...figures.tempFiles.map((f) => `temp file left: ${f}`),
  ];
  const window = rssWindow(figures.samples, figures.duration, figures.warmUp);
  return [
    `soak: ${figures.duration} s, ${figures.connections} connections`,
    "",
    loads,
    "",
    `aborted clients (expected): ${aborted}`,
    `spool in use: up to ${maxSpool(figures)} temporary files open at once during the load`,
    ...(window === undefined ? [] : [`RSS ${window.rule}`]),
    "",
    verdicts,
    ...(problems.length > 0 ? ["", "first problems seen:", ...problems.map((p) => `  ${p}`)] : []),
  ].join("\n");
}

/** The most spool files the samples saw open at once. */
function maxSpool(figures: Figures): number {
  return Math.max(0, ...figures.samples.map((s) => s.spool));
}

/** The one-line `detail` of the results row. */
function detail(figures: Figures): string {
  const window = rssWindow(figures.samples, figures.duration, figures.warmUp);
  const errors = errorCounts(figures);
  const unexpected = Object.values(errors).reduce((a, b) => a + b, 0);
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const aborted = Object.values(figures.aborts.aborted).reduce((a, b) => a + b, 0);
  const rss =
    window === undefined
      ? "RSS: too few samples"
      : `RSS ${signed(window.growth)} between ${window.from.at.toFixed(1)} s and ` +
        `${window.to.at.toFixed(1)} s (${mib(window.from.rss)} → ${mib(window.to.rss)} MiB, ` +
        `peak ${mib(window.peak)} MiB; each end the highest of its neighbouring 1-s readings)` +
        (figures.warmUp === undefined
          ? ""
          : ` (run under 20 s: 20% to 100% of it, after ${figures.warmUp.seconds.toFixed(0)} s of warm-up load)`);
  return [
    rss,
    `fds ${figures.fdBaseline} → ${figures.fdEnd ?? "?"}`,
    `${unexpected} unexpected errors (${errors.non2xx} non-2xx, ${errors.socketErrors} socket errors, ` +
      `${errors.timeouts} timeouts, ${errors.mismatches} bad bodies, ` +
      `${errors.abortClients} aborting-client surprises, ${errors.serverLog} server log lines)`,
    `${aborted} clients aborted mid-request or mid-response as planned`,
    `${figures.tempFiles.length} temp files left (up to ${maxSpool(figures)} open at once under load)`,
  ].join("; ");
}

/** Write the results file for `figures`. */
export function writeResults(path: string, command: string, figures: Figures): void {
  const requests = figures.loads.reduce((total, load) => total + load.ok, 0);
  const results = {
    suite: "soak",
    command,
    generatedAt: new Date().toISOString(),
    node: process.version,
    rows: [
      {
        name: `mixed traffic, ${figures.connections} connections, ${figures.duration} s`,
        kind: "load",
        requests,
        faults: null,
        inputs: null,
        leaks: leakCount(figures),
        detail: detail(figures),
      },
    ],
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
