#!/usr/bin/env node
// Builds native/sendfile.c into build/native/sendfile.node: the sendfile(2) route for
// wsgi.file_wrapper bodies (src/simple-server/kernel-sendfile.ts). Run by `npm run build`
// and at install. It needs a C compiler and Node's headers (node_api.h), both found
// on the machine: nothing is downloaded, which is why this is a compiler call and
// not node-gyp (node-gyp fetches headers from the internet). It says in one line,
// on stderr, whether the addon was built and, when not, why and what the server
// does instead (reads files in 1 MiB blocks); it exits 0 either way, so a machine
// without a compiler still installs the package.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "native/sendfile.c");
const target = join(root, "build/native/sendfile.node");

const FALLBACK = "the server streams FileWrapper bodies in 1 MiB reads instead";

function skip(reason) {
  process.stderr.write(`wsgiref: sendfile(2) addon not built (${reason}); ${FALLBACK}\n`);
  process.exit(0);
}

function done(what) {
  process.stderr.write(
    `wsgiref: sendfile(2) addon ${what} (${target}); FileWrapper bodies go out by sendfile(2)\n`,
  );
  process.exit(0);
}

if (process.platform !== "linux")
  skip(`sendfile(2) as used here is Linux's; this is ${process.platform}`);
if (!existsSync(source)) skip(`${source} is missing`);
if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) done("up to date");

const candidates = [
  process.env.WSGIREF_NODE_INCLUDE,
  join(dirname(process.execPath), "..", "include", "node"),
  "/usr/include/node",
  "/usr/local/include/node",
].filter((dir) => dir !== undefined && dir !== "");
const include = candidates.find((dir) => existsSync(join(dir, "node_api.h")));
if (include === undefined) skip(`no node_api.h in ${candidates.join(", ")}`);

const compilers = process.env.CC ? [process.env.CC] : ["cc", "gcc", "clang"];
mkdirSync(dirname(target), { recursive: true });
let compiler = compilers[0];
let built;
for (compiler of compilers) {
  built = compile(compiler);
  if (!built.error) break;
}
if (built.error) skip(`no C compiler (${compilers.join(", ")}): ${built.error.message}`);
if (built.status !== 0) {
  skip(`${compiler} failed: ${built.stderr.trim().split("\n")[0] ?? `exit ${built.status}`}`);
}
done("built");

function compile(compiler) {
  return spawnSync(
    compiler,
    [
      "-O2",
      "-Wall",
      "-Wextra",
      "-shared",
      "-fPIC",
      "-DNODE_GYP_MODULE_NAME=sendfile",
      `-I${include}`,
      "-o",
      target,
      source,
    ],
    { encoding: "utf8" },
  );
}
