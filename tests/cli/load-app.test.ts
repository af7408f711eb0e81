/**
 * `parseTarget` and `loadApp`, in process: how `MODULE[:EXPORT]` is read and
 * which export is taken from JavaScript and TypeScript modules of either kind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CliError } from "../../src/cli/cli-error.js";
import {
  loadApp,
  parseTarget,
  typeScriptLoader,
  typeScriptSupport,
} from "../../src/cli/load-app.js";
import { tempDir } from "./cli-process.js";

const loose = tempDir({
  "named.ts": "export const app = (): string => 'named';\n",
  "default.ts": "export default function (): string { return 'default'; }\n",
  "both.ts": "export const app = () => 'app';\nexport default () => 'default';\n",
  "cjs.js": "module.exports = () => 'module.exports';\n",
});
const esm = tempDir({
  "package.json": '{ "type": "module" }',
  "default.ts": "export default (): string => 'esm default';\n",
  "many.js": "export const a = () => 'a';\nexport const b = () => 'b';\n",
});
after(() => {
  loose.rm();
  esm.rm();
});

/** Call a loaded app with no arguments: the test modules return a string. */
async function call(spec: string): Promise<unknown> {
  const app = (await loadApp(spec)) as unknown as () => unknown;
  return app();
}

describe("parseTarget", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["app.js", "app.js", undefined],
    ["app.js:application", "app.js", "application"],
    ["./dir/app.ts:$app_1", "./dir/app.ts", "$app_1"],
    ["C:\\site\\app.js", "C:\\site\\app.js", undefined],
    ["C:\\site\\app.js:app", "C:\\site\\app.js", "app"],
    ["a:b/app.js", "a:b/app.js", undefined],
    ["app.js:1st", "app.js:1st", undefined],
  ];
  for (const [spec, path, exportName] of cases) {
    it(`reads ${spec}`, () => {
      assert.deepEqual(parseTarget(spec), { path, exportName });
    });
  }

  it("refuses an empty module", () => {
    assert.throws(() => parseTarget(":app"), { name: "CliError", exitCode: 2 });
    assert.throws(() => parseTarget(""), CliError);
  });
});

describe("loadApp", () => {
  it("takes app from TypeScript compiled as CommonJS", async () => {
    assert.equal(await call(join(loose.dir, "named.ts")), "named");
  });

  it("takes the default export from TypeScript compiled as CommonJS", async () => {
    assert.equal(await call(join(loose.dir, "default.ts")), "default");
  });

  it("prefers app to default", async () => {
    assert.equal(await call(join(loose.dir, "both.ts")), "app");
    assert.equal(await call(`${join(loose.dir, "both.ts")}:default`), "default");
  });

  it("takes module.exports of a CommonJS script as its default", async () => {
    assert.equal(await call(join(loose.dir, "cjs.js")), "module.exports");
  });

  it("takes the default export of an ES module in TypeScript", async () => {
    assert.equal(await call(join(esm.dir, "default.ts")), "esm default");
  });

  it("takes a named export of an ES module", async () => {
    assert.equal(await call(`${join(esm.dir, "many.js")}:b`), "b");
    await assert.rejects(loadApp(join(esm.dir, "many.js")), {
      name: "CliError",
      message: `module ${join(esm.dir, "many.js")} has no export 'app' or 'default'; it exports a, b`,
    });
  });
});

describe("typeScriptLoader", () => {
  const cases: Array<[string, boolean, boolean, "tsx" | "node" | undefined]> = [
    // [extension, tsx installed, Node strips types, loader]
    [".ts", true, false, "tsx"],
    [".ts", true, true, "tsx"],
    [".tsx", true, true, "tsx"],
    [".ts", false, true, "node"],
    [".mts", false, true, "node"],
    [".cts", false, true, "node"],
    [".tsx", false, true, undefined],
    [".ts", false, false, undefined],
  ];
  for (const [extension, tsx, nodeStripsTypes, loader] of cases) {
    it(`loads ${extension} with ${loader ?? "nothing"} when tsx is ${tsx ? "" : "not "}installed and Node ${nodeStripsTypes ? "strips" : "does not strip"} types`, () => {
      assert.equal(typeScriptLoader(extension, { tsx, nodeStripsTypes }), loader);
    });
  }
});

describe("typeScriptSupport", () => {
  it("finds tsx, a devDependency here, and reads Node's own support from process.features", () => {
    const feature: unknown = Reflect.get(process.features, "typescript");
    const support = typeScriptSupport();
    assert.equal(support.tsx, true);
    if (feature !== undefined) assert.equal(support.nodeStripsTypes, Boolean(feature));
    // Node 20 has neither process.features.typescript nor type stripping.
    if (process.versions.node.startsWith("20.")) assert.equal(support.nodeStripsTypes, false);
  });
});
