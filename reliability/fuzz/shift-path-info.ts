/**
 * Fuzz target: `shiftPathInfo` (wsgiref.util.shift_path_info), shifted until
 * `PATH_INFO` is used up.
 *
 * Fields: a flags byte (bit 0: no `SCRIPT_NAME` key; bit 1: no `PATH_INFO` key),
 * `SCRIPT_NAME`, `PATH_INFO`.
 *
 * The invariant. Python's function drops empty and `.` segments from the middle
 * of `PATH_INFO` and runs `SCRIPT_NAME + "/" + name` through `posixpath.normpath`,
 * so `SCRIPT_NAME + PATH_INFO` is not kept byte for byte; what is kept, whenever
 * the environ is as PEP 3333 has it (`SCRIPT_NAME` empty or starting with `/`,
 * `PATH_INFO` empty or starting with `/`), is the path that the two name after
 * resolving it: empty and `.` segments dropped, `..` taking back the segment
 * before it (never above the root), and whether it ends with `/`. With no `.`,
 * `..` or empty segment at all, the concatenation is kept exactly. Outside PEP
 * 3333 only the documented `TypeError` may come out.
 */

import type { PartialEnvironment } from "../../src/types.js";
import { shiftPathInfo } from "../../src/util.js";
import { check, expectDocumented, FuzzInput } from "./input.js";

/** The path `path` names: segments after resolving `.`, `..` and empty ones, and a trailing-slash flag. */
function resolve(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const last = path.split("/").at(-1);
  // A path ending in '/', '/.' or '/..' names a directory; the oracle asks only
  // that ending with '/' is kept, as Python keeps '/x/' apart from '/x'.
  const slash = path.endsWith("/") && segments.length > 0 && last === "" ? "/" : "";
  return `/${segments.join("/")}${slash}`;
}

const PLAIN = /^(?:\/(?!\.\.?(?:\/|$))[^/]+)*$/;

/** Whether a PEP 3333 environ has no segment that Python would normalise. */
function isPlain(scriptName: string, pathInfo: string): boolean {
  return PLAIN.test(scriptName) && (PLAIN.test(pathInfo) || PLAIN.test(pathInfo.slice(0, -1)));
}

/** What the target checks: `shiftPathInfo` (a broken one, in the oracle's own tests). */
export interface Subject {
  shiftPathInfo: typeof shiftPathInfo;
}

export function fuzz(data: Uint8Array, subject: Subject = { shiftPathInfo }): void {
  const input = new FuzzInput(data);
  const flags = input.byte();
  const environ: PartialEnvironment = {};
  const scriptName = input.string();
  const pathInfo = input.string();
  if (!(flags & 1)) environ.SCRIPT_NAME = scriptName;
  if (!(flags & 2)) environ.PATH_INFO = pathInfo;

  const sn = (): string => (environ.SCRIPT_NAME as string | undefined) ?? "";
  const pi = (): string => (environ.PATH_INFO as string | undefined) ?? "";
  const pep = (): boolean =>
    (sn() === "" || sn().startsWith("/")) && (pi() === "" || pi().startsWith("/"));
  const plain = pep() && isPlain(sn(), pi());
  const original = sn() + pi();
  const path = resolve(original);

  // Each shift takes one segment, so there are at most as many as slashes, plus one.
  for (let step = 0; step <= original.length + 1; step++) {
    const wasPep = pep();
    const before = { sn: sn(), pi: pi() };
    let name: string | undefined;
    try {
      name = subject.shiftPathInfo(environ);
    } catch (err) {
      check(
        !wasPep,
        () =>
          `shiftPathInfo() threw on a PEP 3333 environ ${JSON.stringify(before)}: ${String(err)}`,
      );
      expectDocumented(err, [
        [TypeError, /^environ\['PATH_INFO'\] has no segment to shift; it must begin with '\/': /],
      ]);
      return;
    }
    if (before.pi === "") {
      check(name === undefined, "a shift of an empty PATH_INFO returned a name");
      check(sn() === before.sn && pi() === "", "a shift of an empty PATH_INFO changed the environ");
      return;
    }
    if (!wasPep) return;
    check(
      name === undefined || !name.includes("/"),
      () => `the shifted name ${JSON.stringify(name)} has a '/'`,
    );
    check(
      pep(),
      () =>
        `a shift left a non-PEP environ ${JSON.stringify({ sn: sn(), pi: pi() })} from ${JSON.stringify(before)}`,
    );
    check(
      resolve(sn() + pi()) === path,
      () =>
        `a shift of ${JSON.stringify(before)} gave ${JSON.stringify({ sn: sn(), pi: pi() })}: ${resolve(sn() + pi())} is not ${path}`,
    );
    check(pi().length < before.pi.length, "a shift did not shorten PATH_INFO");
    if (plain) {
      check(
        sn() + pi() === original,
        () =>
          `a plain path changed: ${JSON.stringify(original)} became ${JSON.stringify(sn() + pi())}`,
      );
      check(
        name !== undefined && before.pi.startsWith(`/${name}`),
        "the name is not the next segment",
      );
    }
    if (name === undefined) {
      check(pi() === "", "a shift that returned no name left PATH_INFO");
    }
  }
  throw new Error("PATH_INFO was not used up");
}

/** Seeds, as fields: the cases of CPython's testAppURIs/testShiftPathInfo tables. */
export const seeds: readonly (readonly string[])[] = [
  ["0", "", ""],
  ["0", "", "/"],
  ["0", "", "/a/b/c"],
  ["0", "/a", "/x/y"],
  ["0", "/a", "/x/"],
  ["0", "/a/", "/x/"],
  ["0", "/a", "/x/./y"],
  ["0", "/a", "/x//y"],
  ["0", "/a", "/../y"],
  ["0", "/a/b", "/../../y"],
  ["0", "/a", "/."],
  ["0", "/a", "/./"],
  ["0", "/a", "//"],
  ["0", "//", "/x"],
  ["0", "", "x"],
  ["1", "", "/x"],
  ["2", "/a", ""],
  ["0", "/sp\xe4m", "/\u2603/x"],
];
