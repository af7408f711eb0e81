/**
 * Packs the package as npm would publish it, installs the tarball into a fresh
 * project, type-checks and runs a consumer there: proves the `exports` map, the
 * `files` list and the shipped declarations are real, not just the source tree.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");

const consumer = `import { Headers } from "wsgiref/headers";
import { shiftPathInfo, setupTestingDefaults } from "wsgiref";
import { handlerApp } from "wsgiref/response";
import type { WSGIApplication } from "wsgiref/types";

const environ: Record<string, unknown> = { PATH_INFO: "/a/b" };
setupTestingDefaults(environ);
const first: string | undefined = shiftPathInfo(environ);
const headers = new Headers([["Content-Type", "text/plain"]]);
const app: WSGIApplication = (env, startResponse) => {
  startResponse("200 OK", headers.items());
  return [new TextEncoder().encode(String(env.PATH_INFO))];
};
const page: WSGIApplication = handlerApp((_request, response) => {
  response.content = "ok";
});
console.log(first, environ.SCRIPT_NAME, headers.get("content-type"), typeof app, typeof page);
`;

/**
 * Lays the tarball out as `npm install` would (`node_modules/wsgiref`, its
 * dependencies resolvable beside it) without asking the registry: a tarball's
 * dependency ranges need their packuments, which a fresh machine's cache does
 * not hold after `npm ci`, and tests talk to 127.0.0.1 only. The dependencies
 * are this checkout's own installed copies, linked in.
 */
async function installTarball(tarball: string, project: string): Promise<void> {
  const target = join(project, "node_modules", "wsgiref");
  await mkdir(target, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  const manifest = JSON.parse(await readFile(join(target, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const link = join(project, "node_modules", name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(root, "node_modules", name), link, "dir");
  }
}

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
    await installTarball(tarball, project);
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
    assert.equal(out.stdout, "a /a text/plain function function\n");
  });
});
