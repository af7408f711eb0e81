/**
 * `--root-path PREFIX` (SPEC.md §11.7): the application is mounted at PREFIX,
 * as when a proxy forwards `/app/...` unchanged. Gunicorn's `SCRIPT_NAME`
 * handling: `SCRIPT_NAME` is PREFIX, and a path that starts with it has it cut
 * from `PATH_INFO`.
 */

import type { WSGIApplication } from "../types.js";
import { usageError } from "./cli-error.js";

/**
 * Check `--root-path`: an absolute path, which loses its trailing slashes (`/`
 * alone is the root: `''`). Throws a usage error otherwise.
 */
export function parseRootPath(text: string): string {
  // A prefix is compared with PATH_INFO, which is decoded: no %-escapes, no query.
  if (!text.startsWith("/") || /[?#%\s]/.test(text) || /(?:^|\/)\.{1,2}(?:\/|$)/.test(text)) {
    throw usageError(`--root-path must be an absolute path like /app: '${text}'`);
  }
  return text.replace(/\/+$/, "");
}

/**
 * Wrap `app` to run under `prefix` (as `parseRootPath` returns it): every
 * request gets `SCRIPT_NAME` `prefix`, and a `PATH_INFO` that is `prefix` or
 * starts with `prefix/` loses it. Other paths are left whole, as gunicorn does;
 * the match is by whole segments, so `/app` does not cut `/apple`.
 */
export function mountAt(app: WSGIApplication, prefix: string): WSGIApplication {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO ?? "";
    if (path === prefix || path.startsWith(`${prefix}/`)) {
      environ.PATH_INFO = path.slice(prefix.length);
    }
    environ.SCRIPT_NAME = prefix;
    return app(environ, startResponse);
  };
}
