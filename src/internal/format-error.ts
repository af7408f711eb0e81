/**
 * Rendering a thrown value for a server log, as Python's
 * `traceback.print_exception` does for `wsgi.errors`: Node's own rendering
 * (`util.inspect`, what an uncaught error prints: stack, `cause`, extra
 * properties), with the number of stack frames optionally limited.
 */

import { inspect } from "node:util";
import { escapeLogBlock } from "./log-text.js";

// A V8 stack frame line, at any indentation (causes are indented), or inspect's
// "... 4 lines matching cause stack trace ..." that stands for frames.
const FRAME = /^\s+(?:at |\.\.\. \d+ lines? matching)/;

/**
 * Render `err` as text ending in a newline, control characters other than LF
 * and HTAB escaped (`\x1b`): a message may carry what a client sent (a path
 * decoded from `%1b%5b2J`), and must not drive the terminal showing the log.
 *
 * With `limit` set, each stack in the text keeps at most `limit` frames: the
 * `limit` nearest the throw when it is ≥ 0, the `-limit` nearest the entry point
 * when it is negative (V8 lists the nearest frame first, Python the farthest).
 * Message lines are always kept.
 */
export function formatError(err: unknown, limit?: number | null): string {
  const text = escapeLogBlock(inspect(err, { depth: 2, breakLength: Number.POSITIVE_INFINITY }));
  if (limit === undefined || limit === null) {
    return text.endsWith("\n") ? text : `${text}\n`;
  }
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length === 0) {
      return;
    }
    const kept = limit >= 0 ? run.slice(0, limit) : run.slice(Math.max(0, run.length + limit));
    // inspect() opens the error's own properties at the end of its last frame
    // line ("    at f (x.js:1:1) {"): keep that brace when the line goes.
    const last = run[run.length - 1]!;
    if (last.endsWith(" {") && kept[kept.length - 1] !== last) {
      if (kept.length > 0) {
        kept[kept.length - 1] += " {";
      } else {
        out[out.length - 1] += " {";
      }
    }
    out.push(...kept);
    run = [];
  };
  for (const line of text.split("\n")) {
    if (FRAME.test(line)) {
      run.push(line);
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  const cut = out.join("\n");
  return cut.endsWith("\n") ? cut : `${cut}\n`;
}
