/**
 * Escaping for logs: one line as Python's http.server does since 3.12
 * (`_control_char_table`), and tracebacks with their line breaks kept.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeLogBlock, escapeLogLine } from "../../src/internal/log-text.js";

/** Python's table, written out: C0, DEL and C1 as \xNN, the backslash doubled. */
function python(c: number): string {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return `\\x${c.toString(16).padStart(2, "0")}`;
  return c === 0x5c ? "\\\\" : String.fromCharCode(c);
}

describe("escapeLogLine", () => {
  it("escapes every latin-1 character as Python's _control_char_table does", () => {
    for (let c = 0; c < 0x100; c++) {
      assert.equal(escapeLogLine(String.fromCharCode(c)), python(c), `U+${c.toString(16)}`);
    }
  });

  it("keeps a forged line on its own line", () => {
    assert.equal(
      escapeLogLine('oops\r\n127.0.0.1 - - [01/Jan/2026 00:00:00] "GET /admin HTTP/1.1" 200 0'),
      'oops\\x0d\\x0a127.0.0.1 - - [01/Jan/2026 00:00:00] "GET /admin HTTP/1.1" 200 0',
    );
    assert.equal(escapeLogLine("caf\u00e9 \u2713"), "caf\u00e9 \u2713");
  });
});

describe("escapeLogBlock", () => {
  it("keeps LF, HTAB and backslashes, and escapes every other control character", () => {
    assert.equal(
      escapeLogBlock("Error: /\x1b[2J\r\n    at f (C:\\app\\x.js:1:1)\tx\x85\x7f"),
      "Error: /\\x1b[2J\\x0d\n    at f (C:\\app\\x.js:1:1)\tx\\x85\\x7f",
    );
  });
});
