/**
 * The CHECKS register against the code and the documentation: docs/validate.md's
 * table is what scripts/validate-docs.js generates from it, every entry is raised
 * somewhere, and every place that raises one is preceded by a comment naming the
 * PEP 3333 section of its entry (validate.ts reads as a checklist, STYLE.md §4).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CHECKS, type CheckId, SECTIONS } from "../../src/validate/checks.js";

const run = promisify(execFile);
const root = new URL("../../../", import.meta.url);
const script = fileURLToPath(new URL("scripts/validate-docs.js", root));

/** The validator's source files, as text, by path. */
const sources = new Map<string, string>(
  [
    "src/validate.ts",
    ...readdirSync(new URL("src/validate/", root)).map((name) => `src/validate/${name}`),
  ].map((path) => [path, readFileSync(new URL(path, root), "utf8")]),
);

/** A place in the code that raises a check. */
interface Site {
  path: string;
  line: number;
  id: string;
  /** The lines before it. */
  before: string[];
}

/** Every place that raises a check: `fail("id"` or `warn(seen, "id"`. */
function raisingSites(): Site[] {
  const sites: Site[] = [];
  for (const [path, text] of sources) {
    const lines = text.split("\n");
    lines.forEach((line, index) => {
      const match = /\b(?:fail\(|warn\(\w+, )"([\w-]+)"/.exec(line);
      if (match) {
        sites.push({ path, line: index + 1, id: match[1]!, before: lines.slice(0, index) });
      }
    });
  }
  return sites;
}

describe("validator's CHECKS register", () => {
  it("is what docs/validate.md's table says (node scripts/validate-docs.js --check)", async () => {
    await run(process.execPath, [script, "--check"]);
  });

  it("has every entry raised somewhere in the code", () => {
    const raised = new Set(raisingSites().map((site) => site.id));
    // The finalizer writes this one to stderr, by its message.
    raised.add(
      [...sources.values()].some((text) => text.includes('CHECKS["body-not-closed"]'))
        ? "body-not-closed"
        : "",
    );
    assert.deepEqual(
      Object.keys(CHECKS).filter((id) => !raised.has(id)),
      [],
    );
  });

  it("has each raising site preceded by a comment naming the PEP 3333 section of its entry", () => {
    const sites = raisingSites();
    assert.ok(sites.length >= Object.keys(CHECKS).length - 1);
    for (const site of sites) {
      const comment = site.before.findLast((line) => /^\s*\/\/ /.test(line)) ?? "";
      const section = SECTIONS.find((name) => comment.trim().startsWith(`// ${name}: `));
      assert.equal(
        section,
        CHECKS[site.id as CheckId].section,
        `${site.path}:${site.line} (${site.id}) follows the comment ${JSON.stringify(comment.trim())}`,
      );
    }
  });

  it("gives every entry a section, a side, what it catches and a message", () => {
    for (const [id, check] of Object.entries(CHECKS)) {
      assert.match(id, /^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      assert.ok(SECTIONS.includes(check.section), id);
      assert.ok(check.catches.length > 0 && check.message.length > 0, id);
      assert.ok(check.origin === "same" || "note" in check || check.origin === "worded", id);
    }
  });
});
