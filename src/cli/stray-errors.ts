/**
 * Errors an application raises outside any request (a promise rejected with no
 * handler, an exception thrown from a timer or an event listener), which Node
 * would end the process on: `wsgiref serve` logs each and keeps serving, alone
 * and in every worker.
 *
 * Why keep serving after an uncaught exception, which Node's documentation says
 * leaves the process in an undefined state: what it unwound is the one callback
 * that threw, the application's own; the server's state changes only inside its
 * own handlers, which finish or fail on their own. Ending the process instead
 * hands whoever can make the application throw (a request that starts a failing
 * timer) a way to stop the service, or, with workers, to keep them restarting.
 * A worker that is really wedged is the watchdog's (`--worker-timeout`).
 */

import { inspect } from "node:util";

/** At most this many errors are logged in a window of `WINDOW` ms; the rest are counted. */
const LIMIT = 20;
const WINDOW = 10_000;
/** A `data:` URL in a frame is shortened to its module's path: it can hold a whole module. */
const DATA_URL = /data:\S+?(:\d+:\d+)?(\)?)$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/g;

/** Where the log goes and what time it is, replaceable in tests. */
export interface StrayErrorsOptions {
  write?: (text: string) => void;
  now?: () => number;
}

/** The log of errors outside requests, with its rate limit. */
export class StrayErrors {
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #logged = 0;
  #suppressed = 0;
  #flush: NodeJS.Timeout | undefined;

  constructor(options: StrayErrorsOptions = {}) {
    this.#write = options.write ?? ((text) => process.stderr.write(text));
    this.#now = options.now ?? Date.now;
  }

  /**
   * Log `err` as one line (`wsgiref: <what>, logged; still serving: <error>`)
   * and its stack frames below it, unless `LIMIT` errors were already logged in
   * this window: those are counted and reported in one line when it ends.
   */
  report(what: string, err: unknown): void {
    const now = this.#now();
    if (now - this.#windowStart >= WINDOW) {
      this.#endWindow();
      this.#windowStart = now;
    }
    if (this.#logged >= LIMIT) {
      this.#suppressed += 1;
      this.#flush ??= setTimeout(() => this.#endWindow(), WINDOW - (now - this.#windowStart));
      this.#flush.unref();
      return;
    }
    this.#logged += 1;
    this.#write(describe(what, err));
  }

  /**
   * Log unhandled rejections and uncaught exceptions on `target` (the process)
   * instead of letting them end it. Returns a function that removes the listeners.
   */
  listen(target: NodeJS.EventEmitter = process): () => void {
    const onRejection = (reason: unknown): void => this.report("unhandled rejection", reason);
    const onException = (err: unknown): void => this.report("uncaught exception", err);
    target.on("unhandledRejection", onRejection);
    target.on("uncaughtException", onException);
    return () => {
      target.off("unhandledRejection", onRejection);
      target.off("uncaughtException", onException);
    };
  }

  #endWindow(): void {
    clearTimeout(this.#flush);
    this.#flush = undefined;
    if (this.#suppressed > 0) {
      const n = this.#suppressed;
      this.#write(`wsgiref: ${n} more error${n === 1 ? "" : "s"} outside requests not logged\n`);
    }
    this.#logged = 0;
    this.#suppressed = 0;
    this.#windowStart = this.#now();
  }
}

/**
 * The log entry for `err`: one line naming it, then its stack frames, each line
 * with control characters escaped (an error message can hold anything) and any
 * `data:` URL shortened.
 */
export function describe(what: string, err: unknown): string {
  const head = err instanceof Error ? errorLine(err) : inspect(err, { breakLength: Infinity });
  const lines = [`wsgiref: ${what}, logged; still serving: ${escapeControls(head)}`];
  if (err instanceof Error && typeof err.stack === "string") {
    // V8 starts the stack with the name and message, as many lines as the
    // message has; only the frames after them are new.
    const frames = err.stack.split("\n").slice(err.message.split("\n").length);
    for (const line of frames) {
      if (line.trim() !== "") lines.push(escapeControls(shortenDataUrl(line)));
    }
  }
  return `${lines.join("\n")}\n`;
}

function errorLine(err: Error): string {
  return err.message === "" ? err.name : `${err.name}: ${err.message}`;
}

/** `line` with control characters written as `\xNN`, so it stays one line of the log. */
function escapeControls(line: string): string {
  return line.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * A frame whose location is a `data:` URL (a module compiled in memory) with
 * the URL replaced by the file it came from when the URL says (tsx adds
 * `?filePath=`), or by `data:…`; the position, in the compiled code, is kept.
 */
export function shortenDataUrl(line: string): string {
  return line.replace(DATA_URL, (url, position = "", paren = "") => {
    const filePath = /\?filePath=([^?&:]*)/.exec(url)?.[1];
    const file = filePath === undefined ? undefined : decodeURIComponent(filePath).split("?")[0];
    return `${file === undefined ? "data:…" : `${file} (compiled)`}${position}${paren}`;
  });
}
