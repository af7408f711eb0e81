#!/usr/bin/env node
// `npm run reliability:report`: docs/reliability.md from reliability/results/*.json,
// the figures each reliability suite writes (reliability/README.md has the format).
//
//   node scripts/reliability-report.js          rebuild the page from the results
//   node scripts/reliability-report.js --run    run every suite first (about 4 minutes)
//   node scripts/reliability-report.js --check  exit 1 if the page is out of date
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const RESULTS = "reliability/results";
const PAGE = "docs/reliability.md";

/** The suites in page order, with what `--run` runs for each (after one build). */
const SUITES = [
  {
    suite: "faults",
    title: "Fault injection",
    run: ["node", ["--test", "--test-concurrency=1", "build/tests/reliability/"]],
  },
  { suite: "soak", title: "Soak", run: ["node", ["build/reliability/soak.js"]] },
  {
    suite: "fuzz",
    title: "Coverage-guided fuzzing",
    run: ["node", ["build/reliability/fuzz/run.js"]],
  },
  {
    suite: "net-fuzz",
    title: "Network mutation fuzzing",
    run: ["node", ["build/reliability/net-fuzz.js", "--seconds", "60"]],
  },
  {
    suite: "form-flood",
    title: "A form larger than memory",
    run: ["node", ["build/reliability/form-flood.js", "--mib", "1024"]],
  },
  {
    suite: "hostile-clients",
    title: "Clients that never read",
    run: ["node", ["build/reliability/hostile-clients.js"]],
  },
  {
    suite: "misbehaving-apps",
    title: "Apps that misbehave outside the request",
    intro: [
      "What `wsgiref serve` does about them (issue 13), and where it stops:",
      "",
      "- A promise rejected with no handler, or an exception thrown outside a request (a timer,",
      "  a listener, a fire-and-forget `fetch()`), is logged, and the process keeps serving, alone",
      "  and in every worker: one line, `wsgiref: uncaught exception, logged; still serving:",
      "  Error: …`, then the stack, with the app's own file and line (TypeScript too). At most 20",
      "  in 10 s per process are logged; past that, one line gives the count.",
      "- With `--workers`, a worker that dies before it listens failed to start (five in a row and",
      "  the primary gives up); one that dies after is always replaced: at once if it had",
      "  listened for 1 s, else after 0.1 s, doubling with each early death in its slot, up to 2 s.",
      "- `--worker-timeout MS` (30 s; 0 off): a worker whose event loop misses its heartbeat that",
      "  long is killed and replaced. `--max-requests N` (`--max-requests-jitter J`) and",
      "  `--max-worker-memory BYTES` retire a worker: a new one starts; the old one stops",
      "  accepting (at once if another worker listens, else once its successor does), finishes",
      "  what it has and exits. `--graceful-timeout MS` (30 s) kills one still draining.",
      "- Left to `node:cluster` (its primary hands each connection to a worker in turn): a",
      "  connection handed to a worker that is stuck, or dies before taking it, is lost, its",
      "  client left waiting (one per stuck worker below); while every worker is down the shared",
      "  socket is closed and connections are refused (the back-to-back crashes below). Memory is",
      "  read four times a second: a fast leak passes the limit by what it leaks in 250 ms, and a",
      "  retiring worker keeps what it has until it has drained.",
    ],
    run: ["node", ["build/reliability/misbehaving-apps.js"]],
  },
];

/**
 * The hand-written part of the page: from this heading to the end, kept as it
 * is when the page is rebuilt (the bound of each resource and the test that
 * holds it are not results of a run).
 */
const KEPT_HEADING = "## Resource bounds";

const args = new Set(process.argv.slice(2));
if (args.has("--run")) runSuites();
let current = "";
try {
  current = readFileSync(PAGE, "utf8");
} catch {
  // A missing page is out of date too.
}
const page = render(readResults(), keptPart(current));
if (args.has("--check")) {
  if (current !== page) {
    console.error(`${PAGE} is out of date: run npm run reliability:report`);
    process.exit(1);
  }
  console.log(`${PAGE} is up to date`);
} else {
  writeFileSync(PAGE, page);
  console.log(`wrote ${PAGE}`);
}

function runSuites() {
  const step = (command, argv, env = process.env) => {
    console.log(`$ ${command} ${argv.join(" ")}`);
    const r = spawnSync(command, argv, { stdio: "inherit", env });
    if (r.status !== 0) {
      console.error(
        `reliability-report: ${command} ${argv.join(" ")} failed (${r.status ?? r.signal})`,
      );
      process.exit(1);
    }
  };
  step("npx", ["tsc", "-p", "tsconfig.json"]);
  for (const { run } of SUITES) {
    step(run[0], run[1], { ...process.env, WSGIREF_RELIABILITY_OUT: RESULTS });
  }
}

/** Every results file, grouped by suite (a suite may write several files). */
function readResults() {
  const bySuite = new Map();
  for (const name of readdirSync(RESULTS)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const data = JSON.parse(readFileSync(join(RESULTS, name), "utf8"));
    if (typeof data.suite !== "string" || !Array.isArray(data.rows)) {
      throw new Error(`${join(RESULTS, name)} is not a results file (reliability/README.md)`);
    }
    const files = bySuite.get(data.suite) ?? [];
    files.push({ ...data, file: name });
    bySuite.set(data.suite, files);
  }
  return bySuite;
}

/** The hand-written part of `page` (from `KEPT_HEADING` on), or "" if it has none. */
function keptPart(page) {
  const at = page.indexOf(`\n${KEPT_HEADING}\n`);
  return at === -1 ? "" : page.slice(at + 1);
}

function figure(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

function cell(text) {
  return String(text).replaceAll("|", "\\|").replaceAll("\n", " ");
}

function render(bySuite, kept) {
  const out = [
    "# Reliability",
    "",
    "Every fault, load and fuzz run of the server, with its figures. Generated by",
    "`npm run reliability:report` from `reliability/results/*.json` (`--run` runs the",
    "suites first); do not edit by hand, except the last section, Resource bounds,",
    "which is kept as written. How each suite works is in",
    "`reliability/README.md` of the source repository (the npm package leaves the",
    "suites out).",
    "",
  ];
  const totals = { requests: 0, faults: 0, inputs: 0, leaks: 0, runs: 0 };
  const sections = [];
  const known = new Set(SUITES.map((s) => s.suite));
  const order = [
    ...SUITES,
    ...[...bySuite.keys()].filter((s) => !known.has(s)).map((suite) => ({ suite, title: suite })),
  ];
  for (const { suite, title, intro } of order) {
    const files = bySuite.get(suite);
    if (files === undefined) continue;
    sections.push(`## ${title}`, "");
    if (intro !== undefined) sections.push(...intro, "");
    for (const data of files) {
      sections.push(
        `\`${data.command}\` — ${data.generatedAt.slice(0, 10)}, Node ${data.node}` +
          ` (\`reliability/results/${data.file}\`)`,
        "",
        "| run | kind | requests served | faults survived | inputs tried | leaks | detail |",
        "|---|---|---:|---:|---:|---:|---|",
      );
      for (const row of data.rows) {
        totals.runs += 1;
        totals.requests += row.requests ?? 0;
        totals.faults += row.faults ?? 0;
        totals.inputs += row.inputs ?? 0;
        totals.leaks += row.leaks ?? 0;
        sections.push(
          `| ${cell(row.name)} | ${row.kind} | ${figure(row.requests)} | ${figure(row.faults)} | ` +
            `${figure(row.inputs)} | ${figure(row.leaks)} | ${cell(row.detail ?? "")} |`,
        );
      }
      sections.push("");
    }
  }
  out.push(
    "| runs | requests served | faults survived | inputs tried | leaks |",
    "|---:|---:|---:|---:|---:|",
    `| ${figure(totals.runs)} | ${figure(totals.requests)} | ${figure(totals.faults)} | ` +
      `${figure(totals.inputs)} | ${figure(totals.leaks)} |`,
    "",
    ...sections,
  );
  const generated = `${out.join("\n").trimEnd()}\n`;
  return kept === "" ? generated : `${generated}\n${kept.trimEnd()}\n`;
}
