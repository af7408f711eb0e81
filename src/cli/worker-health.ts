/**
 * A worker's side of `WorkerPolicy`: it counts the requests its application
 * gets, watches its own resident set, sends its primary a heartbeat while its
 * event loop turns, and asks to retire once past a limit. The primary (in
 * `cluster.ts`) kills a worker whose heartbeat stops and replaces one that
 * retires before letting it drain.
 */

import type { WSGIApplication } from "../types.js";
import type { WorkerPolicy } from "./worker-policy.js";

/** The heartbeat a worker sends while its event loop turns. */
export interface BeatMessage {
  wsgirefBeat: true;
}

/** A worker asking to be replaced, then stopped, with its reason. */
export interface RetireMessage {
  wsgirefRetire: string;
}

/** Whether an IPC `message` from a worker is its heartbeat. */
export function isBeat(message: unknown): message is BeatMessage {
  return typeof message === "object" && message !== null && "wsgirefBeat" in message;
}

/** Whether an IPC `message` from a worker asks to retire. */
export function isRetire(message: unknown): message is RetireMessage {
  return typeof message === "object" && message !== null && "wsgirefRetire" in message;
}

/**
 * How often (ms) a worker with `policy` beats and looks at its memory: four
 * beats to a watchdog period at least, so that a late timer is not taken for a
 * stuck loop, and at most 250 ms apart, so that a fast leak passes
 * `maxWorkerMemory` by no more than a quarter of a second of leaking. (Reading
 * the resident set costs a system call: per request would be too dear.)
 */
export function beatInterval(policy: WorkerPolicy): number {
  return policy.workerTimeout > 0 ? Math.max(10, Math.min(250, policy.workerTimeout / 4)) : 250;
}

/** The health of the worker this process is: its request count, memory and heartbeat. */
export class WorkerHealth {
  readonly #policy: WorkerPolicy;
  readonly #send: (message: BeatMessage | RetireMessage) => void;
  readonly #rss: () => number;
  /** This worker's request limit, jitter included; 0 for none. */
  readonly maxRequests: number;
  #served = 0;
  #retiring = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    policy: WorkerPolicy,
    options: {
      send?: (message: BeatMessage | RetireMessage) => void;
      rss?: () => number;
      random?: () => number;
    } = {},
  ) {
    this.#policy = policy;
    this.#send = options.send ?? sendToPrimary;
    this.#rss = options.rss ?? (() => process.memoryUsage.rss());
    const random = options.random ?? Math.random;
    // gunicorn's rule: N plus a whole number from 0 to the jitter.
    const jitter = Math.floor(random() * (policy.maxRequestsJitter + 1));
    this.maxRequests = policy.maxRequests > 0 ? policy.maxRequests + jitter : 0;
  }

  /** Requests the application has been called for. */
  get served(): number {
    return this.#served;
  }

  /** Whether this worker has asked to retire. */
  get retiring(): boolean {
    return this.#retiring;
  }

  /** `app`, counting its calls; the one that reaches `maxRequests` asks to retire. */
  wrap(app: WSGIApplication): WSGIApplication {
    return (environ, startResponse) => {
      this.#served += 1;
      if (this.#served === this.maxRequests) {
        const n = this.maxRequests;
        this.retire(`served ${n} request${n === 1 ? "" : "s"}`);
      }
      return app(environ, startResponse);
    };
  }

  /** Ask the primary, once, to replace this worker and then stop it. */
  retire(reason: string): void {
    if (this.#retiring) return;
    this.#retiring = true;
    this.#send({ wsgirefRetire: reason });
  }

  /** Beat and check the memory every `beatInterval()`, until `stop()`. */
  start(): void {
    const { workerTimeout, maxWorkerMemory } = this.#policy;
    if (workerTimeout === 0 && maxWorkerMemory === 0) return;
    this.#timer = setInterval(() => this.tick(), beatInterval(this.#policy));
    // The timer must not keep a drained worker alive.
    this.#timer.unref();
  }

  /** One beat: the heartbeat, and retiring when over the memory limit. */
  tick(): void {
    if (this.#policy.workerTimeout > 0) this.#send({ wsgirefBeat: true });
    const limit = this.#policy.maxWorkerMemory;
    if (limit > 0 && !this.#retiring) {
      const rss = this.#rss();
      if (rss > limit)
        this.retire(`resident set ${mib(rss)} over --max-worker-memory ${mib(limit)}`);
    }
  }

  /** Stop beating: the worker has drained. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Send to the primary while the channel is open (it closes as the primary exits). */
function sendToPrimary(message: BeatMessage | RetireMessage): void {
  if (process.connected) process.send?.(message);
}
