/**
 * An application mounted under a path prefix (`SCRIPT_NAME`): how every entry
 * point that is told its mount point (a Fetch handler's `scriptName`, a Lambda
 * stage) splits a request's path between `SCRIPT_NAME` and `PATH_INFO`, as
 * gunicorn does for its `SCRIPT_NAME` and `wsgiref serve --root-path` does.
 */

import { show } from "../internal/check.js";
import type { PartialEnvironment } from "../types.js";

/**
 * Check a mount point given as an option: `''` (the root) or an absolute path
 * without a trailing slash, `%`-escapes, query or dot segments (it is compared
 * with the decoded `PATH_INFO`). Throws a `TypeError` naming `option` otherwise.
 */
export function checkScriptName(value: unknown, option: string): string {
  if (
    typeof value !== "string" ||
    (value !== "" &&
      (!value.startsWith("/") ||
        value.endsWith("/") ||
        /[?#%]/.test(value) ||
        /(?:^|\/)\.{1,2}(?:\/|$)/.test(value)))
  ) {
    throw new TypeError(
      `${option} must be '' or an absolute path without a trailing slash, like '/app': ${show(value)}`,
    );
  }
  return value;
}

/**
 * Put `env`'s request under `scriptName`: `SCRIPT_NAME` becomes it, and a
 * `PATH_INFO` that is `scriptName` or starts with `scriptName/` loses it. Other
 * paths are left whole (the prefix was cut already, as a router's mount does);
 * the match is by whole segments, so `/app` does not cut `/apple`.
 */
export function mountEnviron(env: PartialEnvironment, scriptName: string): void {
  if (scriptName === "") return;
  const path = env.PATH_INFO ?? "";
  if (path === scriptName || path.startsWith(`${scriptName}/`)) {
    env.PATH_INFO = path.slice(scriptName.length);
  }
  env.SCRIPT_NAME = scriptName;
}
