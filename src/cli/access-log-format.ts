/**
 * `--log-format json` (SPEC.md §11.7): the access log as one JSON object per
 * line, for log collectors that would otherwise parse Python's format with a
 * regular expression.
 */

import { format } from "node:util";
import { CountingRequestHandler } from "./shutdown.js";

/** The access-log formats `--log-format` takes. */
export const LOG_FORMATS = ["text", "json"] as const;

/**
 * The command's request handler, writing each log line as a JSON object on stderr:
 * an access-log line as `{"time", "remote_addr", "request", "method", "path",
 * "protocol", "status", "size"}` (`request` is the request line Python logs), any other line (an error about a request) as `{"time",
 * "remote_addr", "message"}`. `time` is ISO 8601 in UTC; `status` and `size`
 * are numbers, or null where Python's format has `-`. JSON escaping keeps a
 * request from forging a line.
 */
export class JsonLogRequestHandler extends CountingRequestHandler {
  override logRequest(code: number | string = "-", size: number | string = "-"): void {
    if (this.server.options.quiet) return;
    this.#write({
      request: this.requestline,
      method: this.command,
      path: this.path,
      protocol: this.requestVersion,
      status: toNumber(code),
      size: toNumber(size),
    });
  }

  override logMessage(template: string, ...args: unknown[]): void {
    // Only errors come here: logRequest writes the access lines itself.
    this.#write({ message: format(template, ...args) });
  }

  #write(fields: Record<string, unknown>): void {
    const line = { time: new Date().toISOString(), remote_addr: this.addressString(), ...fields };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}

function toNumber(value: number | string): number | null {
  const number = Number(value);
  return value === "-" || !Number.isFinite(number) ? null : number;
}
