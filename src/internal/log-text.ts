/**
 * Text on its way to a log: control characters escaped, so that what a client
 * sent or an application wrote cannot forge a log line (CR, LF) or drive the
 * terminal showing the log (ESC, CSI).
 */

// Python's BaseHTTPRequestHandler._control_char_table (3.12 and later): C0, DEL
// and C1 as \xNN, and the backslash doubled so an escape cannot be faked.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const LINE_UNSAFE = /[\x00-\x1f\x7f-\x9f\\]/g;

// The same in text of several lines (a traceback): LF and HTAB are its layout,
// and a backslash (a Windows path) stays as it is.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const BLOCK_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function escapeChar(c: string): string {
  return c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** Escape `text` for one log line, as Python's `log_message` does. */
export function escapeLogLine(text: string): string {
  return text.replace(LINE_UNSAFE, escapeChar);
}

/** Escape `text` of several lines: every control character but LF and HTAB. */
export function escapeLogBlock(text: string): string {
  return text.replace(BLOCK_UNSAFE, escapeChar);
}
