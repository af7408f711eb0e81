/**
 * What one target's Jazzer.js run came to, read from its output, and whether
 * it passes: no crash or finding, no leak, and at least as many inputs as its
 * floor (a harness that runs none, or a handful, fails instead of passing
 * quietly).
 */

import type { Target } from "./targets.js";

/** What a target with a server reports on exit (`FUZZ-LEAKS {...}` on stderr). */
export interface LeakReport {
  fds: number;
  fdsAfter: number;
  leaks: number;
  served: number;
}

/** What one target's run came to. */
export interface Outcome {
  target: Target;
  inputs: number;
  seconds: number;
  edges: number;
  features: number;
  corpus: number;
  crashes: number;
  leaks: number;
  /** What the target measured of its leaks (environ: descriptors before and after), or "". */
  leakDetail: string;
  /** Requests the target's server served, or null. */
  requests: number | null;
  finding: string;
}

/** The last libFuzzer status line's figures: `#N ... cov: E ft: F corp: C/...`. */
const STATUS = /^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)\//;

/** Read a finished run from everything it printed, its exit code or signal, and its duration. */
export function readOutcome(
  target: Target,
  output: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  seconds: number,
): Outcome {
  const lines = output.split("\n");
  let last: RegExpExecArray | null = null;
  for (const line of lines) last = STATUS.exec(line) ?? last;
  const executed = /stat::number_of_executed_units: (\d+)/.exec(output);
  const leaks = /^FUZZ-LEAKS (\{.*\})$/m.exec(output);
  const measured = leaks === null ? undefined : (JSON.parse(leaks[1]!) as LeakReport);
  const ok = code === 0 && signal === null;
  const finding = ok
    ? ""
    : (
        lines.find((l) => /Uncaught Exception|==\d+==|Error:/.test(l)) ?? `exit ${code ?? signal}`
      ).trim();
  return {
    target,
    inputs: Number(executed?.[1] ?? last?.[1] ?? 0),
    seconds,
    edges: Number(last?.[2] ?? 0),
    features: Number(last?.[3] ?? 0),
    corpus: Number(last?.[4] ?? 0),
    crashes: ok ? 0 : 1,
    leaks: measured?.leaks ?? 0,
    leakDetail: measured === undefined ? "" : `; fds ${measured.fds} → ${measured.fdsAfter}`,
    requests: measured?.served ?? null,
    finding,
  };
}

/**
 * The fewest inputs a run must execute: `runs` when the run is counted in runs,
 * else the target's `minInputsPerSecond` for the seconds given; never fewer
 * than its seeds, which every run starts with.
 */
export function minInputs(
  target: Target,
  seeds: number,
  budget: { seconds: number } | { runs: number },
): number {
  const floor =
    "runs" in budget ? budget.runs : Math.floor(target.minInputsPerSecond * budget.seconds);
  return Math.max(seeds, floor);
}

/** What is wrong with a run: empty when it passes. */
export function problems(outcome: Outcome, floor: number): string[] {
  const found: string[] = [];
  if (outcome.crashes > 0) found.push(`crash or finding: ${outcome.finding}`);
  if (outcome.leaks > 0) found.push(`${outcome.leaks} leaks${outcome.leakDetail}`);
  if (outcome.inputs < floor) {
    found.push(`${outcome.inputs} inputs executed, fewer than the floor of ${floor}`);
  }
  return found;
}
