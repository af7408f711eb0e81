/**
 * Run `h2load` (Debian's nghttp2-client) and read its report: HTTP/2 requests
 * per second over several connections, several streams each.
 */

import { execFileSync } from "node:child_process";
import { pinned } from "./cpu.js";
import { run, tail } from "./proc.js";

/** What one h2load run reported. */
export interface H2loadResult {
  requestsPerSec: number;
  requests: number;
  /** Requests that failed or answered other than 2xx. */
  failed: number;
}

/** Whether h2load is on PATH. */
export function hasH2load(): boolean {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Read h2load's text report. */
export function parseH2load(output: string): H2loadResult {
  const finished = output.match(/^finished in [\d.]+m?s, ([\d.]+) req\/s/m);
  const requests = output.match(
    /^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/m,
  );
  const codes = output.match(/^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m);
  if (!finished || !requests) {
    throw new Error(`h2load's output has no req/s line:\n${tail(output)}`);
  }
  const non2xx = codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0;
  return {
    requestsPerSec: Number(finished[1]),
    requests: Number(requests[3]),
    failed: Number(requests[1]) - Number(requests[3]) + non2xx,
  };
}

/** Run `h2load -n requests -c connections -m streams url` once; throws on failure. */
export async function runH2load(options: {
  url: string;
  requests: number;
  connections: number;
  streams: number;
  cores: string | undefined;
}): Promise<H2loadResult> {
  const [cmd, args] = pinned(options.cores, "h2load", [
    "-n",
    String(options.requests),
    "-c",
    String(options.connections),
    "-m",
    String(options.streams),
    options.url,
  ]);
  const result = await run(cmd, args, 120_000);
  if (result.code !== 0) {
    throw new Error(`h2load exited with ${result.code}:\n${tail(result.output)}`);
  }
  const parsed = parseH2load(result.output);
  if (parsed.failed > 0) {
    throw new Error(`h2load: ${parsed.failed} requests failed or not 2xx:\n${tail(result.output)}`);
  }
  return parsed;
}
