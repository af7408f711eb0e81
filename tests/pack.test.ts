/**
 * Packs the package as npm would publish it, installs the tarball into a fresh
 * project, type-checks and runs a consumer there: proves the `exports` map, the
 * `files` list and the shipped declarations are real, not just the source tree.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");

const consumer = `import { Headers } from "wsgiref/headers";
import { shiftPathInfo, setupTestingDefaults } from "wsgiref";
import type { WSGIApplication } from "wsgiref/types";

const environ: Record<string, unknown> = { PATH_INFO: "/a/b" };
setupTestingDefaults(environ);
const first: string | undefined = shiftPathInfo(environ);
const headers = new Headers([["Content-Type", "text/plain"]]);
const app: WSGIApplication = (env, startResponse) => {
  startResponse("200 OK", headers.items());
  return [new TextEncoder().encode(String(env.PATH_INFO))];
};
console.log(first, environ.SCRIPT_NAME, headers.get("content-type"), typeof app);
`;

describe("npm pack", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-pack-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("installs from the tarball and is imported and type-checked through the exports map", async () => {
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", dir], {
      cwd: root,
    });
    const tarball = join(dir, stdout.trim().split("\n").at(-1) ?? "");
    const project = join(dir, "consumer");
    await run("mkdir", ["-p", project]);
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], {
      cwd: project,
    });
    await writeFile(join(project, "main.ts"), consumer);
    await run(
      process.execPath,
      [
        tsc,
        "--strict",
        "--module",
        "NodeNext",
        "--moduleResolution",
        "NodeNext",
        "--target",
        "ES2022",
        "--typeRoots",
        join(root, "node_modules/@types"),
        "--types",
        "node",
        "main.ts",
      ],
      { cwd: project },
    );
    const out = await run(process.execPath, ["main.js"], { cwd: project });
    assert.equal(out.stdout, "a /a text/plain function\n");
  });
});
