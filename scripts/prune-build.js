#!/usr/bin/env node
// Removes what tsc emitted into build/ for a source that no longer exists (a moved or
// deleted .ts file): tsc never deletes outputs, and `npm test` runs every test file
// under build/tests/, so a moved test would otherwise run twice, its stale copy
// against the new code. Only .js, .d.ts and their maps whose .ts is gone are
// removed; build/native (the sendfile addon) and build/site (typedoc's) are not
// tsc's and are left alone.
import { existsSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const build = join(root, "build");
const EMITTED = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function prune(dir) {
  let left = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path === join(build, "native") || path === join(build, "site")) {
        left++;
        continue;
      }
      if (prune(path) === 0) rmdirSync(path);
      else left++;
      continue;
    }
    const emitted = EMITTED.exec(entry.name);
    const source =
      emitted === null
        ? undefined
        : join(root, relative(build, dir), entry.name.slice(0, -emitted[1].length));
    if (source !== undefined && !existsSync(`${source}.ts`)) unlinkSync(path);
    else left++;
  }
  return left;
}

if (existsSync(build)) prune(build);
