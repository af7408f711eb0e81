#!/usr/bin/env node
// `npm test`: every test under build/tests/ (tsc emitted it in `pretest`), under c8
// so line coverage is printed, then a per-file floor on the modules that promise one.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Line-coverage floors, in percent, by source path prefix. */
const FLOORS = [
  ["src/util.ts", 95],
  ["src/streams", 95],
  ["src/headers.ts", 95],
  ["src/internal/", 95],
];

const r = spawnSync(
  "npx",
  [
    "c8",
    "--reporter=text",
    "--reporter=json-summary",
    "--exclude=build/tests/**",
    "--exclude=build/examples/**",
    "--exclude=build/bench/**",
    "node",
    "--test",
    "--test-concurrency=2",
    "build/tests/",
  ],
  { stdio: "inherit" },
);
if (r.status !== 0) process.exit(r.status ?? 1);

const summary = JSON.parse(readFileSync("coverage/coverage-summary.json", "utf8"));
const root = `${process.cwd()}/`;
let failed = false;
for (const [file, data] of Object.entries(summary)) {
  const path = file.startsWith(root) ? file.slice(root.length) : file;
  const floor = FLOORS.find(([prefix]) => path.startsWith(prefix))?.[1];
  if (floor !== undefined && data.lines.pct < floor) {
    console.error(
      `coverage: ${path} has ${data.lines.pct}% of lines covered, below its floor of ${floor}%`,
    );
    failed = true;
  }
}
if (failed) process.exit(1);
console.log("coverage: every module is at or above its floor");
