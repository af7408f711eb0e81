/**
 * `npm run hostile`: clients that never read (issue 13). Each scenario starts its
 * own server (`wsgiref serve` or `wsgiref static`, `node bin/wsgiref.js ...`, a
 * process of its own), attacks it for a while and measures, from
 * /proc/<pid>/status, how much resident memory the attack cost, while a normal
 * client times one request after another:
 *
 * - pipelining without reading: connections that write `GET /x` requests as fast
 *   as the socket takes them and read nothing (reopened when the server closes
 *   them), against `serve` and `static`, and in the full run against a plain
 *   `node:http` server too (bench/servers/raw-http.ts), the baseline for what
 *   Node's parser allows; the flood runs in a process of its own
 *   (hostile/flood-process.ts), so the normal client's times are the server's;
 * - stalled downloads: connections that ask `static` for a 3 GiB file (sparse,
 *   made with truncate in a temporary directory, removed after), take its first
 *   bytes and read nothing more.
 *
 * Reported per scenario: peak RSS growth (and per hostile connection), the normal
 * client's times during the attack, the time to recover after it (until three
 * requests in a row are served within 100 ms) and the descriptors left.
 * Both runs enforce what the design guarantees (RSS growth per hostile
 * connection under a bound, a normal client served within 100 ms after the
 * attack, no descriptor left) and exit 1 when that is missed; the full run also
 * reports the issue's targets, met or missed (a missed one is a limit of
 * node:http that docs/reliability.md explains). `--short` (CI) runs smaller
 * attacks for 2 s each. `--tls` runs every attack over TLS, against servers
 * given a certificate that `openssl` makes for the run (HTTPS/1.1: the clients
 * offer only `http/1.1`; no plain node:http baseline). Prints a summary, writes
 * reliability/results/hostile-clients.json (hostile-clients-tls.json with
 * `--tls`; full run, unless `--no-write`).
 * Everything is on 127.0.0.1 and bounded in time; the only processes stopped
 * are the servers this run started, by PID.
 */

import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { certificateFlags } from "../bench/lib/certificate.js";
import { killAll, type Started, start, stop } from "../bench/lib/proc.js";
import { RssSampler } from "../bench/lib/rss.js";
import { probe, StalledDownloads } from "./hostile/clients.js";
import { fdCount, waitForFds } from "./soak/proc-sampler.js";

const BIN = fileURLToPath(new URL("../../bin/wsgiref.js", import.meta.url));
const RAW_SERVER = fileURLToPath(new URL("../bench/servers/raw-http.js", import.meta.url));
const FLOOD = fileURLToPath(new URL("./hostile/flood-process.js", import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL("../../reliability/results/", import.meta.url));
const MIB = 1024 * 1024;
/** A normal client is served within this (ms): the issue's target. */
const PROMPT_MS = 100;
/** How long recovery may take before the run gives up on it (ms). */
const RECOVERY_MAX_MS = 30_000;
/** How long the server's descriptors may take to close after an attack (ms). */
const FD_SETTLE_MS = 15_000;

interface Scenario {
  name: string;
  /** `raw`: a plain node:http server, the baseline (no bound of its own is judged). */
  command: "serve" | "static" | "raw";
  attack: "pipeline" | "downloads";
  connections: number;
  seconds: number;
  /**
   * RSS growth allowed per hostile connection (bytes): what the design
   * guarantees, judged in both runs and failing them when missed.
   */
  perConnection: number;
  /**
   * The issue's targets, judged and reported in the full run without failing it
   * (a missed one is a limit of node:http explained in docs/reliability.md):
   * RSS growth for the whole attack, and whether a normal client must be served
   * within PROMPT_MS throughout it.
   */
  issue?: { rss: number; promptDuring: boolean };
}

/** What one scenario measured. */
interface Outcome {
  scenario: Scenario;
  baseline: number;
  peak: number;
  growth: number;
  /** The normal client's times during the attack (ms; Infinity: unanswered). */
  during: number[];
  /** The normal client's times right after recovery (ms). */
  after: number[];
  /** From the end of the attack to the first of three prompt answers in a row (ms). */
  recovery: number;
  /** Hostile connections opened (reconnections included) and closed by the server. */
  opened: number;
  closedByServer: number;
  /** Bytes of hostile requests sent (pipelining), for the record. */
  written: number;
  fdBaseline: number;
  fdEnd: number | undefined;
  exitCode: number | string;
}

interface Judged {
  name: string;
  measured: string;
  ok: boolean;
}

interface Options {
  short: boolean;
  write: boolean;
  /** Every attack over TLS. */
  tls: boolean;
  command: string;
  results: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      short: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
    },
    strict: true,
  });
  const short = values.short === true;
  const tls = values.tls === true;
  const base = short ? "node build/reliability/hostile-clients.js --short" : "npm run hostile --";
  return {
    short,
    tls,
    write: !short && values["no-write"] !== true,
    command: tls ? `${base} --tls` : base.replace(/ --$/, ""),
    results: join(RESULTS_DIR, tls ? "hostile-clients-tls.json" : "hostile-clients.json"),
  };
}

/**
 * One 64 KiB read of minimal requests parsed (Node parses a read whole: some
 * 2,400 requests of about 1.5 KiB each, 3.6 MiB) before the connection is
 * closed, times the room V8 leaves above what is live before it collects: the
 * old space grew to some 50 MB between mark-compacts that left 10 MB under 20
 * such connections, and the peak per connection measured 3 to 8 MiB with the
 * machine more or less busy (the faster the server, the more reconnections a
 * second). Loose on purpose: what it must catch is an unbounded queue, which
 * grew a connection by 220 MiB a second.
 */
const PIPELINE_PER_CONNECTION = 32 * MIB;
/** A 64 KiB block, the socket and the request of one stalled download. */
const DOWNLOAD_PER_CONNECTION = 256 * 1024;
/**
 * What TLS adds to a connection: OpenSSL's state (an idle connection that
 * finished its handshake cost the server 49 KiB, against 7.6 KiB in clear
 * text) and, for a stalled download, the block again as encrypted records
 * queued on the socket beside the plain block they were made from.
 */
const TLS_PER_CONNECTION = 128 * 1024;

function scenarios(short: boolean, tls: boolean): Scenario[] {
  const over = tls ? " over TLS" : "";
  const pipeline = (command: "serve" | "static" | "raw"): Scenario => ({
    name: `pipelining without reading (${command === "raw" ? "plain node:http" : command})${over}`,
    command,
    attack: "pipeline",
    connections: short ? 20 : 100,
    seconds: short ? 2 : 10,
    perConnection: PIPELINE_PER_CONNECTION + (tls ? TLS_PER_CONNECTION : 0),
    ...(short ? {} : { issue: { rss: 64 * MIB, promptDuring: true } }),
  });
  const downloads: Scenario = {
    name: `stalled downloads of a 3 GiB file (static)${over}`,
    command: "static",
    attack: "downloads",
    connections: short ? 100 : 400,
    seconds: short ? 2 : 10,
    perConnection: DOWNLOAD_PER_CONNECTION + (tls ? TLS_PER_CONNECTION : 0),
    ...(short ? {} : { issue: { rss: 64 * MIB, promptDuring: false } }),
  };
  if (short) return [pipeline("serve"), downloads];
  // The plain node:http baseline speaks no TLS.
  return tls
    ? [pipeline("serve"), pipeline("static"), downloads]
    : [pipeline("serve"), pipeline("static"), pipeline("raw"), downloads];
}

/**
 * Start `wsgiref serve` (demoApp), `wsgiref static dir` or the plain node:http
 * server, with `tlsArgs` (the certificate's flags, or none); resolves once it
 * listens.
 */
async function startServer(
  scenario: Scenario,
  dir: string,
  tlsArgs: readonly string[],
): Promise<[Started, number]> {
  if (scenario.command === "raw") {
    const server = start(process.execPath, [RAW_SERVER]);
    const match = await server.waitFor(/listening \S+:(\d+)/, 15_000);
    return [server, Number(match[1])];
  }
  const where = scenario.command === "static" ? [dir] : [];
  const args = [BIN, scenario.command, ...where, "--host", "127.0.0.1", "--port", "0", "--quiet"];
  const server = start(process.execPath, [...args, ...tlsArgs]);
  const match = await server.waitFor(/Serving HTTPS? on \S+ port (\d+) \(/, 15_000);
  return [server, Number(match[1])];
}

/** Time normal requests one after another until `running()` is false. */
async function probeWhile(
  port: number,
  path: string,
  tls: boolean,
  running: () => boolean,
): Promise<number[]> {
  const times: number[] = [];
  while (running()) {
    times.push(await probe(port, path, tls));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return times;
}

/** Probe until three answers in a row come within PROMPT_MS; the time that took (ms). */
async function recover(port: number, path: string, tls: boolean): Promise<number> {
  const started = performance.now();
  let prompt = 0;
  let firstPrompt = started;
  while (prompt < 3 && performance.now() - started < RECOVERY_MAX_MS) {
    const at = performance.now();
    const ms = await probe(port, path, tls);
    if (ms <= PROMPT_MS) {
      if (prompt === 0) firstPrompt = at;
      prompt += 1;
    } else {
      prompt = 0;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return prompt < 3 ? Number.POSITIVE_INFINITY : firstPrompt - started;
}

async function run(scenario: Scenario, dir: string, tlsArgs: readonly string[]): Promise<Outcome> {
  const tls = tlsArgs.length > 0;
  const [server, port] = await startServer(scenario, dir, tlsArgs);
  const path = scenario.command === "static" ? "/small.txt" : "/";
  // Warm up: the first requests compile the server's code.
  for (let i = 0; i < 50; i++) await probe(port, path, tls);
  const fdBaseline = fdCount(server.pid) ?? 0;
  const sampler = new RssSampler(server.pid, 20);
  sampler.start();
  let attacking = true;
  const probing = probeWhile(port, path, tls, () => attacking);
  let opened: number;
  let closedByServer: () => number;
  let written = (): number => 0;
  let stopAttack: () => void | Promise<void>;
  if (scenario.attack === "pipeline") {
    const floodArgs = [FLOOD, String(port), String(scenario.connections), ...(tls ? ["tls"] : [])];
    const flood = start(process.execPath, floodArgs);
    await flood.waitFor(/flooding/, 15_000);
    opened = scenario.connections;
    let counts: { opened: number; closedByServer: number; written: number } | undefined;
    closedByServer = () => counts?.closedByServer ?? 0;
    written = () => counts?.written ?? 0;
    stopAttack = async () => {
      await stop(flood, 10_000);
      const line = flood.output().trim().split("\n").at(-1) ?? "";
      counts = JSON.parse(line) as typeof counts;
      opened = counts?.opened ?? opened;
    };
  } else {
    const downloads = new StalledDownloads(port, "/big.bin", scenario.connections, tls);
    await downloads.whenStarted(scenario.seconds * 1000);
    opened = scenario.connections;
    closedByServer = () => downloads.closedByServer;
    stopAttack = () => downloads.stop();
  }
  await new Promise((resolve) => setTimeout(resolve, scenario.seconds * 1000));
  attacking = false;
  const during = await probing;
  await stopAttack();
  const closed = closedByServer();
  const sent = written();
  const recovery = await recover(port, path, tls);
  const after: number[] = [];
  for (let i = 0; i < 10; i++) after.push(await probe(port, path, tls));
  const rss = sampler.stop();
  const fdEnd = await waitForFds(server.pid, fdBaseline, FD_SETTLE_MS);
  const exitCode = await stop(server, 10_000);
  return {
    scenario,
    baseline: rss.baseline,
    peak: rss.peak,
    growth: rss.growth,
    during,
    after,
    recovery,
    opened,
    closedByServer: closed,
    written: sent,
    fdBaseline,
    fdEnd,
    exitCode,
  };
}

const ms = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(0)} ms` : "unanswered";
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The targets the run enforces (its exit code), and the issue's, reported. */
function judge(o: Outcome): { enforced: Judged[]; issue: Judged[] } {
  const s = o.scenario;
  const worstDuring = Math.max(...o.during);
  const worstAfter = Math.max(...o.after);
  const perConnection = o.growth / s.connections;
  // The baseline's figures are reported beside ours, never judged as ours.
  const enforced: Judged[] =
    s.command === "raw"
      ? []
      : [
          {
            name: `${s.name}: RSS growth under ${(s.perConnection / 1024).toFixed(0)} KiB per hostile connection`,
            measured: `${(perConnection / 1024).toFixed(0)} KiB (${mib(o.growth)} for ${s.connections})`,
            ok: perConnection < s.perConnection,
          },
          {
            name: `${s.name}: a normal client served within ${PROMPT_MS} ms after the attack`,
            measured: `worst ${ms(worstAfter)} of 10, after ${ms(o.recovery)} of recovery`,
            ok: worstAfter <= PROMPT_MS,
          },
          {
            name: `${s.name}: descriptors back to their baseline`,
            measured: `${o.fdBaseline} → ${o.fdEnd ?? "?"}`,
            ok: o.fdEnd !== undefined && o.fdEnd <= o.fdBaseline,
          },
        ];
  const issue: Judged[] = [];
  if (s.issue !== undefined) {
    issue.push({
      name: `${s.name}: RSS growth under ${mib(s.issue.rss)}`,
      measured: mib(o.growth),
      ok: o.growth < s.issue.rss,
    });
    if (s.issue.promptDuring) {
      issue.push({
        name: `${s.name}: a normal client served within ${PROMPT_MS} ms during the attack`,
        measured: `worst ${ms(worstDuring)}, median ${ms(percentile(o.during, 50))} of ${o.during.length}`,
        ok: worstDuring <= PROMPT_MS,
      });
    }
  }
  return { enforced, issue };
}

function detail(o: Outcome): string {
  const s = o.scenario;
  const unanswered = o.during.filter((t) => !Number.isFinite(t)).length;
  return [
    `${s.connections} connections for ${s.seconds} s`,
    `RSS ${mib(o.baseline)} → peak ${mib(o.peak)} (+${mib(o.growth)}, ` +
      `${(o.growth / s.connections / 1024).toFixed(0)} KiB per hostile connection)`,
    `normal client during the attack: median ${ms(percentile(o.during, 50))}, ` +
      `p95 ${ms(percentile(o.during, 95))}, worst ${ms(Math.max(...o.during))} ` +
      `(${o.during.length} requests, ${unanswered} unanswered within 5 s)`,
    `recovery ${Number.isFinite(o.recovery) ? ms(o.recovery) : "none within 30 s"}, ` +
      `then worst ${ms(Math.max(...o.after))}`,
    s.attack === "pipeline"
      ? `${o.opened} hostile connections opened, ${o.closedByServer} closed by the server, ` +
        `${mib(o.written)} of requests sent`
      : `${o.closedByServer} of ${o.opened} closed by the server during the attack`,
    `fds ${o.fdBaseline} → ${o.fdEnd ?? "?"}`,
    ...judge(o).issue.map(
      (j) => `issue target ${j.ok ? "met" : "missed"}: ${j.name.slice(s.name.length + 2)}`,
    ),
  ].join("; ");
}

function writeResults(command: string, file: string, outcomes: readonly Outcome[]): void {
  const results = {
    suite: "hostile-clients",
    command,
    generatedAt: new Date().toISOString(),
    node: process.version,
    rows: outcomes.map((o) => ({
      name: o.scenario.name,
      kind: "load",
      requests: o.during.filter(Number.isFinite).length + o.after.length,
      faults: o.opened,
      inputs: null,
      leaks: o.fdEnd === undefined ? 1 : Math.max(0, o.fdEnd - o.fdBaseline),
      detail: detail(o),
    })),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

async function main(): Promise<number> {
  const { short, write, command, tls, results } = options();
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-hostile-"));
  const cleanUp = (): void => {
    // Only the servers this run started, by PID.
    killAll();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    cleanUp();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // The served files apart from the certificate: static must not serve the key.
    const served = join(dir, "files");
    mkdirSync(served);
    // Sparse: 3 GiB that take no disk.
    writeFileSync(join(served, "big.bin"), "");
    truncateSync(join(served, "big.bin"), 3 * 1024 * MIB);
    writeFileSync(join(served, "small.txt"), "a small file\n");
    const tlsArgs = tls ? certificateFlags(dir) : [];
    const outcomes: Outcome[] = [];
    for (const scenario of scenarios(short, tls)) {
      console.log(`${scenario.name}: ${scenario.connections} connections, ${scenario.seconds} s`);
      const outcome = await run(scenario, served, tlsArgs);
      console.log(`  ${detail(outcome)}`);
      outcomes.push(outcome);
    }
    const judged = outcomes.map(judge);
    const enforced = judged.flatMap((j) => j.enforced);
    const issue = judged.flatMap((j) => j.issue);
    console.log("\ntargets:");
    for (const j of enforced)
      console.log(`${j.ok ? "ok    " : "MISSED"}  ${j.name}: ${j.measured}`);
    if (issue.length > 0) {
      console.log(
        "\nissue 13's targets (reported; see docs/reliability.md for the ones node:http cannot meet):",
      );
      for (const j of issue) console.log(`${j.ok ? "met   " : "missed"}  ${j.name}: ${j.measured}`);
    }
    if (write) {
      writeResults(command, results, outcomes);
      console.log(`\nwrote ${results}`);
    }
    return enforced.every((j) => j.ok) ? 0 : 1;
  } finally {
    cleanUp();
  }
}

process.exitCode = await main();
