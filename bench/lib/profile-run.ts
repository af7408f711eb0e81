/**
 * `--profile`: run raw `node:http` and our server under `node --cpu-prof` with the
 * hello-world load, and summarise each profile (the `.cpuprofile` files are
 * deleted once read). An HTTP/2 server (`raw-h2`, `ours-h2`) gets hello-h2's
 * load instead: h2load, 10 connections of 10 streams.
 */

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runH2load } from "./h2load.js";
import type { MeasureContext } from "./measure.js";
import { stop } from "./proc.js";
import { profileMarkdown, summarise } from "./profile.js";
import { launch, server } from "./servers.js";
import { runWrk } from "./wrk.js";

/** hello-h2's load: h2load's connections, streams on each, and requests (warm-up, measured). */
const H2_LOAD = { connections: 10, streams: 10, warmup: 20_000, requests: 100_000 } as const;

/** Load `base` for the profile: wrk on `/` at 50 connections, or h2load for an HTTP/2 server; req/s. */
async function load(base: string, h2: boolean, ctx: MeasureContext): Promise<number> {
  const url = `${base}/`;
  const cores = ctx.pinning.client;
  if (h2) {
    if (!ctx.h2load)
      throw new Error(
        "--profile of an HTTP/2 server needs h2load (apt-get install -y nghttp2-client)",
      );
    const { connections, streams } = H2_LOAD;
    await runH2load({ url, requests: H2_LOAD.warmup, connections, streams, cores });
    const result = await runH2load({
      url,
      requests: H2_LOAD.requests,
      connections,
      streams,
      cores,
    });
    return result.requestsPerSec;
  }
  const wrk = ctx.wrk;
  if (wrk === undefined) throw new Error("--profile needs wrk (apt-get install -y wrk)");
  const options = { wrk, url, connections: 50, cores };
  await runWrk({ ...options, durationS: Math.max(1, ctx.warmupS) });
  return (await runWrk({ ...options, durationS: ctx.durationS })).requestsPerSec;
}

/** Profile each of `ids` in turn; returns one Markdown section per server profiled. */
export async function profileServers(
  ids: readonly string[],
  ctx: MeasureContext,
  log: (line: string) => void,
): Promise<string[]> {
  const sections: string[] = [];
  for (const id of ids) {
    const spec = server(id);
    const missing = spec.missing(ctx.paths);
    if (missing !== undefined) {
      log(`${spec.label}: skipped: ${missing}`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-bench-prof-"));
    try {
      const running = await launch(spec, ctx.paths, {
        cores: ctx.pinning.server,
        env: ctx.env,
        nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir],
      });
      let requestsPerSec: number;
      try {
        requestsPerSec = await load(running.base, spec.h2 === true, ctx);
      } finally {
        // The servers exit through process.exit on SIGTERM, which is when V8 writes the profile.
        await stop(running.process);
      }
      const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
      if (files.length === 0) {
        throw new Error(`${spec.label} wrote no .cpuprofile (did it exit through process.exit?)`);
      }
      const rate = Math.round(requestsPerSec).toLocaleString("en-US");
      const how = spec.h2 === true ? "h2load -c 10 -m 10" : "50 connections";
      const title = `${spec.label}: hello world, ${how}, ${rate} req/s under the profiler`;
      const text = profileMarkdown(title, summarise(join(dir, files[0]!), ctx.paths.root));
      log(text);
      sections.push(text);
    } finally {
      // Large and machine-specific: summarised above, never kept.
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return sections;
}
