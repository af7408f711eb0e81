/**
 * `--profile`: run raw `node:http` and our server under `node --cpu-prof` with the
 * hello-world load, and summarise each profile (the `.cpuprofile` files are
 * deleted once read).
 */

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MeasureContext } from "./measure.js";
import { stop } from "./proc.js";
import { profileMarkdown, summarise } from "./profile.js";
import { launch, server } from "./servers.js";
import { runWrk, type WrkResult } from "./wrk.js";

/** Profile each of `ids` in turn; returns one Markdown section per server profiled. */
export async function profileServers(
  ids: readonly string[],
  ctx: MeasureContext,
  log: (line: string) => void,
): Promise<string[]> {
  const wrk = ctx.wrk;
  if (wrk === undefined) {
    throw new Error("--profile needs wrk (apt-get install -y wrk)");
  }
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
      let result: WrkResult;
      try {
        const options = {
          wrk,
          url: `${running.base}/`,
          connections: 50,
          cores: ctx.pinning.client,
        };
        await runWrk({ ...options, durationS: Math.max(1, ctx.warmupS) });
        result = await runWrk({ ...options, durationS: ctx.durationS });
      } finally {
        // The servers exit through process.exit on SIGTERM, which is when V8 writes the profile.
        await stop(running.process);
      }
      const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
      if (files.length === 0) {
        throw new Error(`${spec.label} wrote no .cpuprofile (did it exit through process.exit?)`);
      }
      const rate = Math.round(result.requestsPerSec).toLocaleString("en-US");
      const title = `${spec.label}: hello world, 50 connections, ${rate} req/s under the profiler`;
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
