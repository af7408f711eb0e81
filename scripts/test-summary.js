// A node:test reporter for `npm test` (scripts/test.js): writes one JSON object
// with every skipped test and its reason (suites too: Node 20's own summary
// counts only skipped tests, not skipped suites), every test that failed, and
// the duration of every test and of every file, for the slowest-tests list.

/**
 * @param {AsyncIterable<{ type: string, data: any }>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* summary(source) {
  const skipped = [];
  const failed = [];
  const tests = [];
  /** @type {Record<string, number>} */
  const files = {};
  let passed = 0;
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { name, nesting, file, skip, details } = event.data;
    const isSuite = details?.type === "suite";
    const duration = details?.duration_ms ?? 0;
    if (skip !== undefined && skip !== false) {
      skipped.push({ file, name, reason: skip === true ? "" : String(skip) });
      continue;
    }
    if (event.type === "test:fail") {
      failed.push({ file, name, error: String(details?.error?.message ?? details?.error ?? "") });
    } else if (!isSuite) {
      passed += 1;
    }
    if (!isSuite && name !== file) tests.push({ file, name, ms: Math.round(duration) });
    // Top-level tests and suites of a file run one after another: their sum is the file's time.
    if (nesting === 0 && name !== file && file !== undefined) {
      files[file] = (files[file] ?? 0) + duration;
    }
  }
  tests.sort((a, b) => b.ms - a.ms);
  const byFile = Object.entries(files)
    .map(([file, ms]) => ({ file, ms: Math.round(ms) }))
    .sort((a, b) => b.ms - a.ms);
  yield `${JSON.stringify({ passed, failed, skipped, slowest: tests.slice(0, 15), files: byFile }, null, 2)}\n`;
}
