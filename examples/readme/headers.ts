/**
 * The README's `wsgiref/headers` example: a response's header list, read and
 * changed through a case-insensitive view, as Python's `wsgiref.headers`.
 * Checks itself.
 *
 * Run: node build/examples/readme/headers.js
 */
import assert from "node:assert/strict";

import { Headers } from "wsgiref/headers";

const list: Array<[string, string]> = [["Content-Type", "text/plain"]];
const headers = new Headers(list); // a view: changes show in `list`
headers.addHeader("Content-Disposition", "attachment", { filename: "bud.gif" });
headers.get("content-type"); // "text/plain"
String(headers); // 'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="bud.gif"\r\n\r\n'

assert.equal(headers.get("content-type"), "text/plain");
assert.deepEqual(list[1], ["Content-Disposition", 'attachment; filename="bud.gif"']);
assert.equal(
  String(headers),
  'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="bud.gif"\r\n\r\n',
);
