/**
 * The warm-up load of a short soak run: the same traffic, unmeasured, until the
 * server's RSS has stopped growing, so that the short run compares memory once
 * the V8 heap has reached its working size instead of while it is still
 * growing to it (in a 60 s run the first 10 s play that part; here the run is
 * too short to spare them).
 */

import { statusKiB } from "../../bench/lib/rss.js";
import { type LoadReport, runStream, streams } from "./traffic.js";

/**
 * The RSS has settled when it is less than this fraction above the highest
 * reading up to `WINDOW_S` seconds ago (the highest, so that a dip after a
 * garbage collection does not pass for a plateau).
 */
const SETTLED = 0.02;
const WINDOW_S = 5;

/** What the warm-up did. */
export interface WarmUp {
  seconds: number;
  /** Whether the RSS settled before `maxSeconds`. */
  settled: boolean;
  loads: LoadReport[];
}

/**
 * Load `port` with `connections` until the RSS of `pid` is within 2% of its
 * highest reading up to 5 s before, or for `maxSeconds` at most; errors seen are reported like the
 * run's own.
 */
export async function warmUpLoad(
  pid: number,
  port: number,
  connections: number,
  maxSeconds: number,
): Promise<WarmUp> {
  const started = performance.now();
  const running = streams(connections).map((s) =>
    runStream(s, port, maxSeconds, `${s.name} (warm-up)`),
  );
  const rss: number[] = [];
  let settled = false;
  const timer = setInterval(() => {
    rss.push(statusKiB(pid, "VmRSS") ?? 0);
    const earlier = rss.slice(0, -WINDOW_S);
    if (earlier.length > 0 && rss.at(-1)! < Math.max(...earlier) * (1 + SETTLED)) {
      settled = true;
      clearInterval(timer);
      for (const each of running) each.stop();
    }
  }, 1000);
  try {
    const loads = await Promise.all(running.map((r) => r.report));
    return { seconds: (performance.now() - started) / 1000, settled, loads };
  } finally {
    clearInterval(timer);
  }
}
