#!/usr/bin/env node
// Run the whole suite under c8 and print line coverage. `npm test` builds first
// (pretest), so this only runs what tsc emitted into build/.
import { spawnSync } from "node:child_process";

const run = (args) => {
  const r = spawnSync("npx", args, { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run([
  "c8",
  "--reporter=text",
  "--src=src",
  "--exclude=build/tests/**",
  "--exclude=build/examples/**",
  "--exclude=build/bench/**",
  "node",
  "--test",
  "--test-concurrency=2",
  "build/tests/",
]);
