/**
 * Packs the package as npm would publish it and uses it as a user would: checks
 * what the tarball holds and how big it is, installs it into a fresh project,
 * type-checks and runs an ES module consumer and a CommonJS one there, follows
 * every link of its README and docs inside the installed copy, and runs the
 * command on a TypeScript app without tsx (an optional peer) and with it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Child, fetchRaw, SERVING_LINE, stopAll } from "./cli/cli-process.js";
import { checkLinks, filesUnder } from "./helpers/links.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const tsc = join(root, "node_modules/typescript/bin/tsc");

/**
 * Upper bounds on the tarball, with room above what it is today (about 641 KiB
 * packed on 2026-12-07, 2.2 MiB unpacked, with wsgiref/fetch, /testing,
 * /lambda, HTTPS, HTTP/2 and H2Response).
 */
const MAX_PACKED_BYTES = 672 * 1024;
const MAX_UNPACKED_BYTES = 2.5 * 1024 * 1024;

const consumer = `import { Headers } from "wsgiref/headers";
import { shiftPathInfo, setupTestingDefaults } from "wsgiref";
import { handlerApp } from "wsgiref/response";
import type { PartialEnvironment, WSGIApplication } from "wsgiref/types";

const environ: PartialEnvironment = { PATH_INFO: "/a/b" };
setupTestingDefaults(environ);
const first: string | undefined = shiftPathInfo(environ);
const headers = new Headers([["Content-Type", "text/plain"]]);
const app: WSGIApplication = (env, startResponse) => {
  startResponse("200 OK", headers.items());
  return [new TextEncoder().encode(env.PATH_INFO + (env.HTTP_ACCEPT ?? ""))];
};
const page: WSGIApplication = handlerApp((_request, response) => {
  response.content = "ok";
});
const body = new Response(environ["wsgi.input"].read());
console.log(first, environ.SCRIPT_NAME, headers.get("content-type"), typeof app, typeof page, body.status);
`;

/** A CommonJS consumer, in TypeScript: `import` in a .cts file compiles to require(). */
const cjsConsumer = `import { makeServer } from "wsgiref/simple-server";
import type { WSGIEnvironment } from "wsgiref/types";
import { setupTestingDefaults } from "wsgiref/util";

const environ = {};
setupTestingDefaults(environ);
const complete: WSGIEnvironment = environ;
console.log(typeof makeServer, complete.REQUEST_METHOD);
`;

/** A TypeScript app with a type annotation, so plain JavaScript loading would fail on it. */
const TYPESCRIPT_APP = `export const app = (_e: unknown, start: (s: string, h: [string, string][]) => void) => {
  start("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode("typed")];
};
`;

/** The subpaths of the exports map and the value names each gives (tests/exports.test.ts pins them). */
const SUBPATHS = [
  "wsgiref",
  "wsgiref/types",
  "wsgiref/util",
  "wsgiref/streams",
  "wsgiref/headers",
  "wsgiref/handlers",
  "wsgiref/simple-server",
  "wsgiref/validate",
  "wsgiref/response",
];

/** Plain CommonJS: require() each subpath and print its names, as import() sees them too. */
const requireAll = `"use strict";
const names = {};
for (const subpath of ${JSON.stringify(SUBPATHS)}) {
  names[subpath] = Object.keys(require(subpath)).sort();
}
process.stdout.write(JSON.stringify(names));
`;
const importAll = `const names = {};
for (const subpath of ${JSON.stringify(SUBPATHS)}) {
  names[subpath] = Object.keys(await import(subpath)).sort();
}
process.stdout.write(JSON.stringify(names));
`;

/**
 * Lays the tarball out as `npm install` would (`node_modules/wsgiref`, its
 * dependencies resolvable beside it) without asking the registry: a tarball's
 * dependency ranges need their packuments, which a fresh machine's cache does
 * not hold after `npm ci`, and tests talk to 127.0.0.1 only. The dependencies
 * are this checkout's own installed copies, linked in; peers are not, as npm
 * installs no optional peer.
 */
async function installTarball(tarball: string, project: string): Promise<string> {
  const target = join(project, "node_modules", "wsgiref");
  await mkdir(target, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  const manifest = JSON.parse(await readFile(join(target, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    await linkPackage(project, name);
  }
  return target;
}

async function linkPackage(project: string, name: string): Promise<void> {
  const link = join(project, "node_modules", name);
  await mkdir(dirname(link), { recursive: true });
  await symlink(join(root, "node_modules", name), link, "dir");
}

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number }>;
}

describe("npm pack", () => {
  let dir = "";
  let packed: Packed;
  let project = "";
  let installed = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-pack-"));
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], {
      cwd: root,
    });
    packed = (JSON.parse(stdout) as Packed[])[0]!;
    project = join(dir, "consumer");
    await mkdir(project);
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    installed = await installTarball(join(dir, packed.filename), project);
  });
  after(async () => {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("ships the build, its sources, the docs, the examples, the licence and the addon's source", () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const path of [
      "package.json",
      "README.md",
      "LICENSE",
      "bin/wsgiref.js",
      "build/src/index.js",
      "build/src/index.d.ts",
      "build/src/cli.js",
      "src/index.ts",
      "native/sendfile.c",
      "scripts/build-native.js",
      "docs/porting.md",
      "docs/testing.md",
      "docs/deploying.md",
      "docs/response.md",
      "examples/readme/hello.ts",
      "examples/testing/app.test.ts",
      "bench/results/req-per-s.svg",
    ]) {
      assert.ok(files.has(path), `${path} is not in the tarball`);
    }
  });

  it("leaves out the tests, the benchmark, the reliability suites, the site and what a build leaves behind", () => {
    const refused = [
      /^tests\//,
      /^build\/(?!src\/)/, // build/tests, build/examples, build/bench, build/site, build/native
      /^bench\/(?!results\/req-per-s\.svg$)/,
      /^reliability\//,
      /^coverage\//,
      /^\.ci\//,
      /^scripts\/(?!build-native\.js$)/,
      /^node_modules\//,
      /\.tgz$/,
      /^(tsconfig|tsconfig\.docs|biome|typedoc)\.json$/,
    ];
    for (const { path } of packed.files) {
      const rule = refused.find((r) => r.test(path));
      assert.equal(rule, undefined, `${path} is in the tarball (${rule})`);
    }
  });

  it("stays within its size bound", () => {
    assert.ok(packed.size <= MAX_PACKED_BYTES, `packed: ${packed.size} bytes`);
    assert.ok(packed.unpackedSize <= MAX_UNPACKED_BYTES, `unpacked: ${packed.unpackedSize} bytes`);
  });

  it("has a file behind every target of its exports map", async () => {
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as {
      exports: Record<string, string | Record<string, string>>;
    };
    const files = new Set(packed.files.map((f) => f.path));
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      for (const path of typeof target === "string" ? [target] : Object.values(target)) {
        assert.ok(
          files.has(path.replace(/^\.\//, "")),
          `${subpath}: ${path} is not in the tarball`,
        );
      }
    }
  });

  it("links, from its README and docs, only to what it ships", () => {
    const markdown = [join(installed, "README.md"), ...filesUnder(join(installed, "docs"), ".md")];
    const report = checkLinks(markdown, installed);
    assert.deepEqual(report.broken, []);
    assert.ok(report.checked >= 60, `${report.checked} links checked`);
  });

  it("is imported and type-checked through the exports map, by an ES module and a CommonJS file", async () => {
    await writeFile(join(project, "main.ts"), consumer);
    await writeFile(join(project, "main.cts"), cjsConsumer);
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
        "--lib",
        "ES2023,DOM",
        "--typeRoots",
        join(root, "node_modules/@types"),
        "--types",
        "node",
        "main.ts",
        "main.cts",
      ],
      { cwd: project },
    );
    const esm = await run(process.execPath, ["main.js"], { cwd: project });
    assert.equal(esm.stdout, "a /a text/plain function function 200\n");
    const cjs = await run(process.execPath, ["main.cjs"], { cwd: project });
    assert.equal(cjs.stdout, "function GET\n");
  });

  it("gives require() in a .cjs file every subpath, with the names import() gives", async () => {
    await writeFile(join(project, "require-all.cjs"), requireAll);
    await writeFile(join(project, "import-all.mjs"), importAll);
    const required = await run(process.execPath, ["require-all.cjs"], { cwd: project });
    const imported = await run(process.execPath, ["import-all.mjs"], { cwd: project });
    const names = JSON.parse(required.stdout) as Record<string, string[]>;
    assert.deepEqual(names, JSON.parse(imported.stdout));
    assert.ok(names.wsgiref!.includes("makeServer"));
    assert.deepEqual(names["wsgiref/types"], []);
    // No ExperimentalWarning or ERR_REQUIRE_ASYNC_MODULE (a module with top-level await).
    assert.equal(required.stderr, "");
  });

  it("refuses a TypeScript app without tsx, in one line naming what to install", async () => {
    await writeFile(join(project, "app.ts"), TYPESCRIPT_APP);
    const child = new Child([join(installed, "bin/wsgiref.js"), "serve", "app.ts", "--port", "0"], {
      cwd: project,
    });
    const outcome = await child.outcome;
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, "");
    const lines = outcome.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, outcome.stderr);
    assert.match(
      lines[0]!,
      /^wsgiref: module \S+app\.ts is TypeScript, which Node v\S+ cannot load by itself; install tsx: npm install --save-dev tsx$/,
    );
  });

  it("serves a TypeScript app once tsx is installed beside it", async () => {
    const withTsx = join(dir, "with-tsx");
    await mkdir(withTsx);
    await writeFile(
      join(withTsx, "package.json"),
      JSON.stringify({ name: "with-tsx", private: true }),
    );
    const copy = await installTarball(join(dir, packed.filename), withTsx);
    await linkPackage(withTsx, "tsx");
    await writeFile(join(withTsx, "app.ts"), TYPESCRIPT_APP);
    const child = new Child(
      [join(copy, "bin/wsgiref.js"), "serve", "app.ts", "--port", "0", "--quiet"],
      { cwd: withTsx },
    );
    const match = await child.waitFor(SERVING_LINE);
    const reply = await fetchRaw(Number(match[2]), "/");
    assert.equal(reply.body.toString(), "typed");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });
});
