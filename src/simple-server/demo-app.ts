/**
 * `demoApp`: the application `wsgiref serve` runs when given none.
 *
 * Port of `demo_app` from Python's `wsgiref.simple_server`.
 */

import { Buffer } from "node:buffer";
import { inspect } from "node:util";
import type { StartResponse, WSGIBody, WSGIEnvironment } from "../types.js";

/**
 * Answer `Hello world!`, a blank line, then every environ key in sorted order,
 * one `key = value` per line (values shown as `util.inspect` shows them, as
 * Python prints their `repr`), as `text/plain; charset=utf-8`.
 *
 * @see Python's `wsgiref.simple_server.demo_app`
 */
export function demoApp(environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody {
  let text = "Hello world!\n\n";
  for (const key of Object.keys(environ).sort()) {
    text += `${key} = ${inspect(environ[key], { depth: 0, breakLength: Number.POSITIVE_INFINITY })}\n`;
  }
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [Buffer.from(text, "utf8")];
}
