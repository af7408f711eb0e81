/**
 * `npm run fuzz:net`: the network-level mutation fuzzer (issue 7). Mutates valid
 * requests, sends each to a live server over a fresh socket and checks the
 * oracle (reliability/net-fuzz/oracle.ts); prints a summary, writes
 * reliability/results/net-fuzz.json, and exits 1 with the reproducing seed and
 * input on any failure, or when it ran fewer inputs than `--min-inputs` (by
 * default the iterations asked for, at most 1,000: a run the time limit cuts
 * that short, or a harness that sends nothing, fails).
 *
 *   npm run fuzz:net -- [--iterations N] [--seconds S] [--seed X] [--only N] [--concurrency C]
 *     [--min-inputs N]
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type CampaignResult, type Failure, runCampaign } from "./net-fuzz/campaign.js";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "20000" },
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    only: { type: "string" },
    concurrency: { type: "string", default: "6" },
    "min-inputs": { type: "string" },
    out: { type: "string", default: "reliability/results/net-fuzz.json" },
  },
});

const seed = values.seed ?? String(Date.now());
const iterations = Number(values.iterations);
const seconds = Number(values.seconds);
const only = values.only === undefined ? undefined : Number(values.only);
const minInputs =
  values["min-inputs"] !== undefined
    ? Number(values["min-inputs"])
    : only === undefined
      ? Math.min(iterations, 1000)
      : 1;
for (const [flag, n] of [
  ["--iterations", iterations],
  ["--seconds", seconds],
  ["--min-inputs", minInputs],
] as const) {
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`net-fuzz: ${flag} must be a whole number: ${n}\n`);
    process.exit(2);
  }
}

function show(failure: Failure): string {
  const lines = [`FAIL input ${failure.n} (seed ${JSON.stringify(failure.seed)})`];
  for (const f of failure.failures) lines.push(`  - ${f}`);
  if (failure.input !== undefined) {
    lines.push(`  seed request: ${failure.input.seed}`);
    lines.push(`  mutations: ${failure.input.mutations.join("; ") || "(none)"}`);
    lines.push(
      `  pause: ${failure.input.pause}, half-close: ${failure.input.halfClose}, writes: ${failure.input.writes}`,
    );
    lines.push(`  sent: ${JSON.stringify(failure.input.segments.join("").slice(0, 2000))}`);
    lines.push(`  received: ${JSON.stringify(failure.received.slice(0, 2000))}`);
    lines.push(
      `  reproduce: npm run fuzz:net -- --seed ${JSON.stringify(failure.seed)} --only ${failure.n}`,
    );
  }
  return lines.join("\n");
}

function summary(r: CampaignResult): string {
  const classes = Object.entries(r.classes)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const statuses = Object.entries(r.statuses)
    .sort()
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");
  const stops = Object.entries(r.stops)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, v]) => `    ${v}\t${k}`)
    .join("\n");
  return [
    `net-fuzz: seed ${JSON.stringify(r.seed)}, ${r.inputs} inputs in ${r.seconds.toFixed(1)} s`,
    `  responses by class: ${classes}`,
    `  statuses: ${statuses}`,
    `  requests the application saw: ${r.appRequests}, bodies closed: ${r.appCloses}`,
    `  smuggled requests answered: ${r.smuggled}`,
    `  canaries: ${r.canaries}; fds ${r.fdsBefore} → ${r.fdsAfter}; leaks ${r.leaks}`,
    `  where the reference framer stopped (top reasons):\n${stops}`,
    `  failures: ${r.failures.length} (at least ${minInputs} inputs required)`,
  ].join("\n");
}

const result = await runCampaign({
  seed,
  iterations,
  seconds,
  only,
  concurrency: Number(values.concurrency),
  minInputs,
  onFailure: (f) => process.stderr.write(`${show(f)}\n`),
});
process.stdout.write(`${summary(result)}\n`);

const command = `npm run fuzz:net -- --iterations ${iterations} --seconds ${seconds} --seed ${seed}`;
const classes = Object.entries(result.classes)
  .sort()
  .map(([k, v]) => `${k} ${v}`)
  .join(", ");
const fiveXx = Object.keys(result.statuses)
  .filter((s) => s.startsWith("5"))
  .join(" and ");
if (only === undefined) {
  const file = {
    suite: "net-fuzz",
    command,
    generatedAt: new Date().toISOString(),
    node: process.version,
    rows: [
      {
        name: `mutated requests to a live server, seed ${seed}, ${result.seconds.toFixed(0)} s`,
        kind: "fuzz",
        requests: result.appRequests,
        faults: null,
        inputs: result.inputs,
        leaks: result.leaks,
        detail:
          `responses ${classes} (5xx: ${fiveXx || "none"}); smuggled answered: ${result.smuggled}; ` +
          `${result.canaries} canaries answered; fds ${result.fdsBefore} → ${result.fdsAfter}; ` +
          `${result.appRequests} bodies closed once each; ${result.failures.length} oracle failures`,
        smuggledAnswered: result.smuggled,
        responsesByClass: result.classes,
        responsesByStatus: result.statuses,
        seconds: Number(result.seconds.toFixed(1)),
        seed,
      },
    ],
  };
  mkdirSync("reliability/results", { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(file, null, 2)}\n`);
}
if (result.failures.length > 0) process.exit(1);
