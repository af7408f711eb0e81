/**
 * Summarise a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function
 * and per file, with compiled positions mapped back to the TypeScript source
 * through the `.js.map` files tsc writes next to them.
 */

import { existsSync, readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  /** Samples per source line (1-based, in the compiled file), when V8 recorded them. */
  positionTicks?: { line: number; ticks: number }[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** One line of the summary. */
export interface Frame {
  /** `functionName file:line`, the file relative to the repository when inside it. */
  name: string;
  /** Self time in milliseconds. */
  selfMs: number;
  /** Share of the time the process was busy (idle excluded). */
  share: number;
}

/** What `summarise` returns. */
export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: Frame[];
  files: Frame[];
  /** The hottest lines of the repository's own code (not node_modules), with their text. */
  lines: Frame[];
}

function isProfile(value: unknown): value is CpuProfile {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { nodes?: unknown }).nodes) &&
    typeof (value as { startTime?: unknown }).startTime === "number"
  );
}

const maps = new Map<string, SourceMap | undefined>();

function sourceMapFor(path: string): SourceMap | undefined {
  if (!maps.has(path)) {
    const mapPath = `${path}.map`;
    maps.set(
      path,
      existsSync(mapPath)
        ? new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")) as SourceMapPayload)
        : undefined,
    );
  }
  return maps.get(path);
}

/**
 * The first mapping on a compiled line (0-based), so a whole line maps to the
 * TypeScript statement it starts with rather than to the previous line.
 */
function lineEntry(map: SourceMap, line: number): { source: string; line: number } | undefined {
  for (let column = 0; column < 400; column += 2) {
    const entry = map.findEntry(line, column);
    if (!("originalSource" in entry) || entry.originalSource === undefined) {
      continue;
    }
    if (entry.generatedLine === line) {
      return { source: entry.originalSource, line: entry.originalLine };
    }
    if (entry.generatedLine > line) {
      return undefined;
    }
  }
  return undefined;
}

const sources = new Map<string, string[]>();

/** Line `line` (1-based) of `file` (relative to `root`), trimmed, for the hot-line table. */
function sourceLine(root: string, file: string, line: number): string {
  if (!sources.has(file)) {
    const path = join(root, file);
    sources.set(file, existsSync(path) ? readFileSync(path, "utf8").split("\n") : []);
  }
  const text = sources.get(file)?.[line - 1]?.trim() ?? "";
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}

/** Where a frame is, as `file:line` (1-based), in TypeScript when a map says so. */
function location(frame: CallFrame, root: string): string {
  if (frame.url === "") {
    return "";
  }
  if (!frame.url.startsWith("file:")) {
    return `${frame.url}:${frame.lineNumber + 1}`;
  }
  const path = fileURLToPath(frame.url);
  const map = sourceMapFor(path);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry !== undefined && "originalSource" in entry && entry.originalSource !== undefined) {
    return `${relative(root, originalPath(entry.originalSource, frame.url))}:${entry.originalLine + 1}`;
  }
  return `${path.startsWith(root) ? relative(root, path) : path}:${frame.lineNumber + 1}`;
}

function originalPath(source: string, url: string): string {
  return source.startsWith("file:") ? fileURLToPath(source) : new URL(source, url).pathname;
}

/** Where a compiled line of `url` comes from: `file:line` relative to `root`. */
function lineLocation(url: string, line: number, root: string): string | undefined {
  if (!url.startsWith("file:")) {
    return undefined;
  }
  const path = fileURLToPath(url);
  if (!path.startsWith(root) || path.includes("/node_modules/")) {
    return undefined;
  }
  const map = sourceMapFor(path);
  const entry = map === undefined ? undefined : lineEntry(map, line - 1);
  return entry === undefined
    ? `${relative(root, path)}:${line}`
    : `${relative(root, originalPath(entry.source, url))}:${entry.line + 1}`;
}

function fileOf(frame: CallFrame, root: string): string {
  const where = location(frame, root);
  return where === "" ? frame.functionName : where.replace(/:\d+$/, "");
}

function top(table: Map<string, number>, busyMs: number, count: number): Frame[] {
  return [...table]
    .map(([name, selfMs]) => ({ name, selfMs, share: selfMs / busyMs }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, count);
}

/** Read the profile at `path` and rank self time by function and by file. */
export function summarise(path: string, root: string, count = 25): ProfileSummary {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!isProfile(parsed)) {
    throw new Error(`${path} is not a V8 CPU profile`);
  }
  const totalSamples = parsed.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const totalMs = (parsed.endTime - parsed.startTime) / 1000;
  const msPerSample = totalSamples === 0 ? 0 : totalMs / totalSamples;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byLine = new Map<string, number>();
  let idleMs = 0;
  for (const node of parsed.nodes) {
    const ms = (node.hitCount ?? 0) * msPerSample;
    if (ms === 0) {
      continue;
    }
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    const where = location(frame, root);
    const name = `${frame.functionName || "(anonymous)"}${where === "" ? "" : ` ${where}`}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const file = fileOf(frame, root);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    for (const tick of node.positionTicks ?? []) {
      const at = lineLocation(frame.url, tick.line, root);
      if (at !== undefined) {
        byLine.set(at, (byLine.get(at) ?? 0) + tick.ticks * msPerSample);
      }
    }
  }
  const busyMs = totalMs - idleMs;
  return {
    totalMs,
    busyMs,
    functions: top(byFunction, busyMs, count),
    files: top(byFile, busyMs, count),
    lines: top(byLine, busyMs, count).map((frame) => {
      const [file, line] = frame.name.split(/:(?=\d+$)/);
      return { ...frame, name: `${frame.name} ${sourceLine(root, file!, Number(line))}` };
    }),
  };
}

/** The summary as Markdown tables. */
export function profileMarkdown(title: string, summary: ProfileSummary): string {
  const rows = (frames: Frame[]): string[] =>
    frames.map(
      (frame) =>
        `| ${frame.selfMs.toFixed(0)} | ${(frame.share * 100).toFixed(1)}% | \`${frame.name.replaceAll("|", "\\|")}\` |`,
    );
  return [
    `### ${title}`,
    "",
    `Profiled for ${(summary.totalMs / 1000).toFixed(1)} s, busy ${(summary.busyMs / 1000).toFixed(1)} s (idle excluded below).`,
    "",
    "| self ms | share of busy | function |",
    "|---:|---:|---|",
    ...rows(summary.functions),
    "",
    "| self ms | share of busy | file |",
    "|---:|---:|---|",
    ...rows(summary.files.slice(0, 12)),
    "",
    ...(summary.lines.length === 0
      ? []
      : [
          "Hottest lines of this repository's code (self time, from V8's position ticks):",
          "",
          "| self ms | share of busy | line |",
          "|---:|---:|---|",
          ...rows(summary.lines.slice(0, 15)),
          "",
        ]),
  ].join("\n");
}
