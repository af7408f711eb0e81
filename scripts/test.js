#!/usr/bin/env node
// `npm test`: every test under build/tests/ (tsc emitted it in `pretest`) with V8
// coverage collected, then c8's line-coverage report, then a per-file floor on the
// modules that promise one.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Line-coverage floors, in percent, by source path prefix. */
const FLOORS = [
  ["src/util.ts", 95],
  ["src/streams", 95],
  ["src/headers.ts", 95],
  ["src/internal/", 95],
];

const rawDir = resolve("coverage/tmp");
rmSync("coverage", { recursive: true, force: true });
mkdirSync(rawDir, { recursive: true });

const tests = spawnSync("node", ["--test", "--test-concurrency=2", "build/tests/"], {
  stdio: "inherit",
  env: { ...process.env, NODE_V8_COVERAGE: rawDir },
});

dropNonFileEntries(rawDir);

const report = spawnSync(
  "npx",
  [
    "c8",
    "report",
    "--temp-directory=coverage/tmp",
    "--reporter=text",
    "--reporter=json-summary",
    "--exclude=build/tests/**",
    "--exclude=build/examples/**",
    "--exclude=build/bench/**",
  ],
  { stdio: "inherit" },
);
if (tests.status !== 0) process.exit(tests.status ?? 1);
if (report.status !== 0) process.exit(report.status ?? 1);

/**
 * Removes what V8 recorded for modules that are not files. tsx loads a CommonJS
 * app module through a `data:` URL with a source map, and c8 10 throws on any
 * source-map-cache key that is not a `file:` URL; those modules are the test's
 * temporary apps, never our source, so nothing of the report is lost.
 */
function dropNonFileEntries(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const data = JSON.parse(readFileSync(path, "utf8"));
    data.result = (data.result ?? []).filter(
      (entry) => entry.url.startsWith("file:") || entry.url.startsWith("node:"),
    );
    const cache = data["source-map-cache"] ?? {};
    for (const key of Object.keys(cache)) if (!key.startsWith("file:")) delete cache[key];
    writeFileSync(path, JSON.stringify(data));
  }
}

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
