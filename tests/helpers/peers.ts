/**
 * The programs some tests talk to (curl, python3, lighttpd, prlimit, nginx, openssl, h2load): whether
 * each is installed, and the `skip` option for a test that needs one. Outside CI
 * a missing peer skips the test with the reason printed; under CI nothing is
 * skipped for a missing peer (`.ci/run` installs every one), so the test fails on
 * it, and `npm test` fails on any skip there anyway (scripts/test.js).
 */

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Whether this is a CI run: `CI` set to anything but `""`, `0` or `false`. */
export function inCI(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/** Where the executable `command` is, on `PATH` then in `extraDirs`; undefined if nowhere. */
export function findCommand(
  command: string,
  extraDirs: readonly string[] = [],
): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), ...extraDirs]) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: try the next one.
    }
  }
  return undefined;
}

/** The Debian package each peer comes in, for the skip reason. */
const PACKAGES: Record<string, string> = {
  curl: "curl",
  python3: "python3",
  lighttpd: "lighttpd",
  prlimit: "util-linux",
  nginx: "nginx-light",
  h2load: "nghttp2-client",
};

/**
 * The `skip` option for a test that needs every one of `commands`: a reason
 * naming what is missing when one is (outside CI), `false` otherwise.
 */
export function needs(...commands: string[]): string | false {
  if (inCI()) return false;
  const missing = commands.filter(
    (c) => findCommand(c, ["/usr/sbin", "/usr/local/sbin", "/sbin"]) === undefined,
  );
  if (missing.length === 0) return false;
  const packages = missing.map((c) => PACKAGES[c] ?? c).join(" ");
  return `${missing.join(", ")} not installed (Debian: apt-get install ${packages}); CI installs it and fails instead`;
}
