/**
 * Measure one scenario on several servers. All of them are started fresh (so RSS
 * growth starts from an unused process), warmed up, then loaded in turns — run 1
 * on each server, then run 2 on each, and so on — so that noise from other work on
 * the machine falls on every server alike rather than on whichever ran last.
 */

import type { Pinning } from "./cpu.js";
import { treeCpuSeconds } from "./cputime.js";
import { download, upload } from "./curl.js";
import { runH2load } from "./h2load.js";
import { stop } from "./proc.js";
import { median } from "./ratio.js";
import type { Row } from "./report.js";
import { RssSampler } from "./rss.js";
import type { Scenario } from "./scenarios.js";
import { launch, type Paths, type Running, type ServerSpec } from "./servers.js";
import { runWrk, type WrkResult } from "./wrk.js";

/** What a measurement needs to know. */
export interface MeasureContext {
  paths: Paths;
  pinning: Pinning;
  wrk: string | undefined;
  curl: boolean;
  /** Whether h2load is installed (HTTP/2 load). */
  h2load: boolean;
  env: NodeJS.ProcessEnv;
  /** The file `GET /file` sends and its size. */
  fileSize: number;
  /** The file uploads send, and its size. */
  uploadFile: string;
  uploadSize: number;
  durationS: number;
  warmupS: number;
  /** Measured wrk runs per server. */
  repeat: number;
}

/** An error as one line for a table cell, the output tail folded in. */
export function oneLine(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function wrkNote(result: WrkResult): string | undefined {
  const { connect, read, write, timeout } = result.socketErrors;
  const notes: string[] = [];
  if (result.non2xx > 0) {
    notes.push(`${result.non2xx} non-2xx`);
  }
  if (connect + read + write + timeout > 0) {
    notes.push(
      `socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`,
    );
  }
  return notes.length === 0 ? undefined : notes.join("; ");
}

/** One server under test in this scenario. */
interface Subject {
  spec: ServerSpec;
  row: Row;
  running?: Running;
  sampler?: RssSampler;
  wrk: WrkResult[];
  runs: number[];
  /** Server CPU seconds per request (wrk) or per transfer, one per run. */
  cpu: number[];
  failed?: string;
}

function active(subjects: readonly Subject[]): Subject[] {
  return subjects.filter(
    (subject) => subject.running !== undefined && subject.failed === undefined,
  );
}

/** What one unit of load measured. */
interface Measurement {
  /** req/s, GB/s or seconds, as the scenario's unit. */
  value: number;
  /** Server CPU seconds per request (wrk) or for the transfer. */
  cpu: number;
  wrk?: WrkResult;
}

/** Apply one unit of the scenario's load to `running`: one wrk run or one transfer. */
async function once(
  scenario: Scenario,
  running: Running,
  ctx: MeasureContext,
): Promise<Measurement> {
  const load = scenario.load;
  const url = running.base + load.path;
  const client = ctx.pinning.client;
  const before = treeCpuSeconds(running.process.pid);
  const used = (): number => treeCpuSeconds(running.process.pid) - before;
  switch (load.kind) {
    case "wrk": {
      const result = await runWrk({
        wrk: ctx.wrk!,
        url,
        connections: load.connections,
        durationS: ctx.durationS,
        cores: client,
      });
      const cpu = used() / Math.max(1, result.requests);
      return { value: result.requestsPerSec, cpu, wrk: result };
    }
    case "h2load": {
      const result = await runH2load({
        url,
        requests: load.requests,
        connections: load.connections,
        streams: load.streams,
        cores: client,
      });
      const cpu = used() / Math.max(1, result.requests);
      return { value: result.requestsPerSec, cpu };
    }
    case "download": {
      const got = await download(url, client, running.spec.h2 === true);
      if (got.status !== 200 || got.bytes !== ctx.fileSize) {
        throw new Error(`GET ${load.path} answered ${got.status} with ${got.bytes} bytes`);
      }
      return { value: got.bytes / got.seconds / 1e9, cpu: used() };
    }
    case "upload": {
      const sent = await upload(url, ctx.uploadFile, client);
      if (sent.status !== 200 || sent.body.trim() !== String(ctx.uploadSize)) {
        throw new Error(`POST ${load.path} answered ${sent.status}: ${sent.body.slice(0, 80)}`);
      }
      return { value: sent.seconds, cpu: used() };
    }
  }
}

/**
 * Warm each server up before measuring: a wrk run of `warmupS`, or one transfer.
 * The first transfer's RSS growth is kept (`rssGrowthFirst`): Node's own first
 * large read or write grows the process in a way later ones do not.
 */
async function warmUp(
  scenario: Scenario,
  subjects: readonly Subject[],
  ctx: MeasureContext,
): Promise<void> {
  const load = scenario.load;
  for (const subject of active(subjects)) {
    const running = subject.running!;
    try {
      if (load.kind === "h2load") {
        // A tenth of a measured run.
        await runH2load({
          url: running.base + load.path,
          requests: Math.ceil(load.requests / 10),
          connections: load.connections,
          streams: load.streams,
          cores: ctx.pinning.client,
        });
      } else if (load.kind === "wrk") {
        if (ctx.warmupS > 0) {
          await runWrk({
            wrk: ctx.wrk!,
            url: running.base + load.path,
            connections: load.connections,
            durationS: ctx.warmupS,
            cores: ctx.pinning.client,
          });
        }
      } else {
        const sampler = new RssSampler(running.process.pid);
        sampler.start();
        try {
          await once(scenario, running, ctx);
        } finally {
          subject.row.rssGrowthFirst = sampler.stop().growth;
        }
      }
    } catch (err) {
      subject.failed = `failed in warm-up: ${oneLine(err)}`;
    }
  }
}

function finish(subject: Subject): Row {
  const row = subject.row;
  if (subject.failed !== undefined || subject.runs.length === 0) {
    row.note = subject.failed ?? row.note ?? "no runs";
    return row;
  }
  const mid = median(subject.runs);
  row.value = mid;
  row.runs = subject.runs;
  row.cpuPerOp = median(subject.cpu);
  row.cpuRuns = subject.cpu;
  if (subject.wrk.length > 0) {
    // Latency from the run nearest the median, so the columns describe one run.
    const chosen = subject.wrk.reduce((best, result) =>
      Math.abs(result.requestsPerSec - mid) < Math.abs(best.requestsPerSec - mid) ? result : best,
    );
    row.p50Ms = chosen.latencyMs?.p50;
    row.p99Ms = chosen.latencyMs?.p99;
    const note = subject.wrk.map(wrkNote).find((each) => each !== undefined);
    if (note !== undefined) {
      row.note = note;
    }
  }
  if (subject.spec.multiProcess && subject.running?.process.descendants.size === 0) {
    row.note = [row.note, "no worker processes seen"].filter(Boolean).join("; ");
  }
  return row;
}

/**
 * Start each of `specs`, apply `scenario`'s load in turns, stop them; one row per
 * spec, in order. A server that is not installed or fails gets a row with a note.
 */
export async function measureScenario(
  scenario: Scenario,
  specs: readonly ServerSpec[],
  ctx: MeasureContext,
): Promise<Row[]> {
  const subjects: Subject[] = specs.map((spec) => ({
    spec,
    row: { server: spec.id, label: spec.label },
    wrk: [],
    runs: [],
    cpu: [],
  }));
  const needs =
    scenario.load.kind === "wrk"
      ? ctx.wrk === undefined
        ? "wrk not found (apt-get install -y wrk)"
        : undefined
      : scenario.load.kind === "h2load"
        ? ctx.h2load
          ? undefined
          : "h2load not found (apt-get install -y nghttp2-client)"
        : ctx.curl
          ? undefined
          : "curl not found (apt-get install -y curl)";
  try {
    for (const subject of subjects) {
      const missing = needs ?? subject.spec.missing(ctx.paths);
      if (missing !== undefined) {
        subject.failed = `skipped: ${missing}`;
        continue;
      }
      try {
        subject.running = await launch(subject.spec, ctx.paths, {
          cores: subject.spec.multiProcess ? ctx.pinning.workers : ctx.pinning.server,
          env: ctx.env,
        });
      } catch (err) {
        subject.failed = `failed to start: ${oneLine(err)}`;
      }
    }
    await warmUp(scenario, subjects, ctx);
    for (const subject of active(subjects)) {
      subject.sampler = new RssSampler(subject.running!.process.pid);
      subject.sampler.start();
    }
    const load = scenario.load;
    const rounds = load.kind === "wrk" || load.kind === "h2load" ? ctx.repeat : load.runs;
    for (let round = 0; round < rounds; round++) {
      for (const subject of active(subjects)) {
        try {
          const measured = await once(scenario, subject.running!, ctx);
          subject.runs.push(measured.value);
          subject.cpu.push(measured.cpu);
          if (measured.wrk !== undefined) {
            subject.wrk.push(measured.wrk);
          }
        } catch (err) {
          subject.failed = `failed: ${oneLine(err)}`;
        }
      }
    }
  } finally {
    for (const subject of subjects) {
      if (subject.sampler !== undefined) {
        subject.row.rssGrowth = subject.sampler.stop().growth;
      }
    }
    for (const subject of subjects) {
      if (subject.running !== undefined) {
        await stop(subject.running.process);
      }
    }
  }
  return subjects.map(finish);
}
