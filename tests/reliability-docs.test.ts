/**
 * docs/reliability.md is generated from reliability/results/*.json by
 * scripts/reliability-report.js; this fails when a suite's figures changed and
 * the page was not rebuilt (`npm run reliability:report`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

describe("docs/reliability.md", () => {
  it("matches the committed results of every reliability suite", async () => {
    const { stdout } = await run(process.execPath, ["scripts/reliability-report.js", "--check"], {
      cwd: root,
    });
    assert.match(stdout, /is up to date/);
  });
});
