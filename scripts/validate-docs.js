#!/usr/bin/env node
// The table of checks in docs/validate.md, generated from the CHECKS register of
// src/validate/checks.ts (compiled into build/ by `npm run build`), so that the
// documentation cannot drift from the code:
//
//   node scripts/validate-docs.js          rewrite the table in docs/validate.md
//   node scripts/validate-docs.js --check  exit 1 if the table is not what the code says
//
// tests/validate/docs.test.ts runs the second form.
import { readFileSync, writeFileSync } from "node:fs";
import { CHECKS } from "../build/src/validate/checks.js";

const DOC = new URL("../docs/validate.md", import.meta.url);
const BEGIN =
  "<!-- checks:begin: generated from src/validate/checks.ts by `node scripts/validate-docs.js`; do not edit by hand -->";
const END = "<!-- checks:end -->";

/** The peps.python.org anchor of a PEP 3333 section title (docutils' ids). */
function anchor(section) {
  return section
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** A table cell: pipes escaped, no line breaks. */
function cell(text) {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

const ORIGIN = {
  same: "same",
  worded: "same check; Python's bare `assert` has no message",
  adapted: "adapted",
  added: "**added**",
};

/** The generated table, one row per check in the register's order. */
export function renderTable() {
  const rows = [["#", "Check", "Side", "Catches", "Raises", "Message", "PEP 3333", "vs. Python"]];
  let n = 0;
  for (const [id, check] of Object.entries(CHECKS)) {
    n += 1;
    const pep = `[${check.section}](https://peps.python.org/pep-3333/#${anchor(check.section)})`;
    const origin = ORIGIN[check.origin] + (check.note === undefined ? "" : `: ${check.note}`);
    rows.push([
      String(n),
      `\`${id}\``,
      check.side,
      cell(check.catches),
      check.raises,
      `\`${cell(check.message)}\``,
      pep,
      cell(origin),
    ]);
  }
  // Columns padded to their widest cell, as Biome formats Markdown tables.
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((row) => width(row[i]))));
  const line = (cells) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i] - width(c))).join(" | ")} |`;
  return [line(rows[0]), line(widths.map((w) => "-".repeat(w))), ...rows.slice(1).map(line)].join(
    "\n",
  );
}

/** A cell's width in code points. */
function width(text) {
  return [...text].length;
}

/** The table's rows as trimmed cells, so that only content counts when comparing. */
function cells(text) {
  return text
    .split("\n")
    .filter((row) => row.startsWith("|"))
    .map((row) =>
      row
        .split(/(?<!\\)\|/)
        .map((c) => c.trim())
        .join("|"),
    )
    .filter((row) => !/^\|[-|]*\|$/.test(row));
}

/** `text` with the part between the markers replaced by the table. */
function withTable(text) {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`docs/validate.md must contain the markers ${BEGIN} and ${END}`);
  }
  return `${text.slice(0, begin + BEGIN.length)}\n\n${renderTable()}\n\n${text.slice(end)}`;
}

const current = readFileSync(DOC, "utf8");
const wanted = withTable(current);
if (process.argv.includes("--check")) {
  // Content only: a formatter may pad the cells differently.
  if (cells(current).join("\n") !== cells(wanted).join("\n")) {
    console.error(
      "docs/validate.md: the table of checks differs from src/validate/checks.ts; run `npm run build && node scripts/validate-docs.js`",
    );
    process.exit(1);
  }
} else if (current !== wanted) {
  writeFileSync(DOC, wanted);
  console.log("docs/validate.md: table of checks updated");
}
