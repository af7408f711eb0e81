/**
 * scripts/build-native.js, the package's install script, run from a copy of the
 * package's layout: it says in one line on stderr whether the sendfile(2) addon
 * was built and, when not, why and what the server does instead, and it never
 * fails the install.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

/** A directory laid out as the installed package: scripts/build-native.js and native/sendfile.c. */
async function packageCopy(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(join(dir, "scripts"), { recursive: true });
  await mkdir(join(dir, "native"));
  await copyFile(join(root, "scripts/build-native.js"), join(dir, "scripts/build-native.js"));
  await copyFile(join(root, "native/sendfile.c"), join(dir, "native/sendfile.c"));
  return dir;
}

/** Run the install script in `dir`; its exit code, stdout and stderr. */
async function install(dir: string, env: NodeJS.ProcessEnv = {}) {
  const { stdout, stderr } = await run(process.execPath, ["scripts/build-native.js"], {
    cwd: dir,
    env: { ...process.env, ...env },
  });
  return { stdout, stderr };
}

const hasCompiler = ["cc", "gcc", "clang"].some(
  (cc) => spawnSync(cc, ["--version"], { stdio: "ignore" }).status === 0,
);

describe("scripts/build-native.js", () => {
  let parent = "";
  before(async () => {
    parent = await mkdtemp(join(tmpdir(), "wsgiref-native-"));
  });
  after(() => rm(parent, { recursive: true, force: true }));

  it("says in one line that it built the addon, then that it is up to date", {
    skip: process.platform !== "linux" || !hasCompiler ? "needs Linux and a C compiler" : false,
  }, async () => {
    const dir = await packageCopy(parent, "built");
    const first = await install(dir);
    const target = join(dir, "build/native/sendfile.node");
    assert.equal(first.stdout, "");
    assert.equal(
      first.stderr,
      `wsgiref: sendfile(2) addon built (${target}); FileWrapper bodies go out by sendfile(2)\n`,
    );
    assert.ok(existsSync(target));
    const again = await install(dir);
    assert.equal(
      again.stderr,
      `wsgiref: sendfile(2) addon up to date (${target}); FileWrapper bodies go out by sendfile(2)\n`,
    );
  });

  it("says in one line why it did not build the addon and what the server does instead, and succeeds", async () => {
    const dir = await packageCopy(parent, "no-compiler");
    const { stdout, stderr } = await install(dir, { CC: join(parent, "no-such-cc") });
    assert.equal(stdout, "");
    const lines = stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, stderr);
    const reason =
      process.platform === "linux" ? /no C compiler \(\S+no-such-cc\): .*ENOENT/ : /Linux's/;
    assert.match(lines[0]!, /^wsgiref: sendfile\(2\) addon not built \(/);
    assert.match(lines[0]!, reason);
    assert.match(lines[0]!, /; the server streams FileWrapper bodies in 1 MiB reads instead$/);
    assert.equal(existsSync(join(dir, "build/native/sendfile.node")), false);
  });
});
