/**
 * Loading the application a `wsgiref` command serves from `MODULE[:EXPORT]`: a
 * JavaScript module through `import()`, a TypeScript one without a build step
 * (through tsx when it is installed, else through Node's own type stripping where
 * Node has it); then the named export, or `app`, or `default`.
 */

import { readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import type { WSGIApplication } from "../types.js";
import { CliError, oneLine, usageError } from "./cli-error.js";

/** TypeScript extensions; everything else goes to Node's own `import()`. */
const TYPESCRIPT = new Set([".ts", ".mts", ".cts", ".tsx"]);

/** What the running process offers for loading TypeScript. */
export interface TypeScriptSupport {
  /** Whether the `tsx` package (an optional peer dependency) can be imported. */
  tsx: boolean;
  /** Whether Node strips types itself (22.6+ with `--experimental-strip-types`, 23.6+ by default). */
  nodeStripsTypes: boolean;
}

/**
 * How to load a TypeScript module with extension `extension`: `"tsx"` when tsx is
 * installed, since it also follows `./x.js` imports to `x.ts` and reads JSX and
 * enums, which Node's type stripping does not; else `"node"` where Node strips
 * types itself (not `.tsx`: it has no JSX); else `undefined`.
 */
export function typeScriptLoader(
  extension: string,
  support: TypeScriptSupport,
): "tsx" | "node" | undefined {
  if (support.tsx) return "tsx";
  if (support.nodeStripsTypes && extension !== ".tsx") return "node";
  return undefined;
}

/** What this process offers for loading TypeScript. */
export function typeScriptSupport(): TypeScriptSupport {
  let tsx = true;
  try {
    import.meta.resolve("tsx/esm/api");
  } catch {
    // Not installed: tsx is an optional peer dependency.
    tsx = false;
  }
  // `process.features.typescript` is "strip" or "transform" where Node strips
  // types (22.10+, 23.0+), false where it does not; older Nodes that took
  // --experimental-strip-types (22.6 to 22.9) only show the flag.
  const feature: unknown = Reflect.get(process.features, "typescript");
  const flagged = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].includes(
    "--experimental-strip-types",
  );
  const nodeStripsTypes = feature === undefined ? flagged : Boolean(feature);
  return { tsx, nodeStripsTypes };
}

/** The parts of a `MODULE[:EXPORT]` argument. */
export interface AppTarget {
  /** The module's path as the user wrote it. */
  path: string;
  /** The export named after the colon, if any. */
  exportName: string | undefined;
}

/**
 * Split `MODULE[:EXPORT]` at its last colon when what follows is an identifier,
 * so `C:\app.ts` and `./a:b/app.js` stay whole.
 */
export function parseTarget(spec: string): AppTarget {
  const match = /^(.*):([A-Za-z_$][\w$]*)$/.exec(spec);
  if (spec === "" || match?.[1] === "") {
    throw usageError(`MODULE must name a file: '${spec}'`);
  }
  return match ? { path: match[1]!, exportName: match[2] } : { path: spec, exportName: undefined };
}

/**
 * The application of `spec` (`demoApp` when `undefined`), wrapped in
 * `validator()` when `validate` is true.
 */
export async function loadApp(
  spec: string | undefined,
  validate = false,
): Promise<WSGIApplication> {
  const app =
    spec === undefined ? (await import("../simple-server.js")).demoApp : await importApp(spec);
  if (!validate) {
    return app;
  }
  // Loaded only when asked for, like tsx: a plain `serve` starts faster without it.
  const { validator } = await import("../validate.js");
  return validator(app);
}

/**
 * Import the module of `spec` and return its application.
 *
 * TypeScript (`.ts`, `.mts`, `.cts`, `.tsx`) goes through tsx when it is
 * installed, scoped to this module and what it imports, leaving every other
 * import of the process to Node: an ES module through `tsImport`, a CommonJS one
 * (`.cts`, or `.ts` and `.tsx` outside a `"type": "module"` package) through
 * tsx's `require`; without tsx, through Node's own `import()` where Node strips
 * types. Every failure is a `CliError` with a one-line message; an error thrown
 * by the module itself is its `cause`.
 */
export async function importApp(spec: string): Promise<WSGIApplication> {
  const { path, exportName } = parseTarget(spec);
  const file = resolve(path);
  const isFile = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) {
    throw new CliError(`module not found: ${file}`);
  }

  const extension = extname(file);
  let loader: "tsx" | "node" | undefined = "node";
  if (TYPESCRIPT.has(extension)) {
    loader = typeScriptLoader(extension, typeScriptSupport());
    if (loader === undefined) {
      throw new CliError(
        `module ${file} is TypeScript, which Node ${process.version} cannot load by itself; install tsx: npm install --save-dev tsx`,
      );
    }
  }

  let ns: Record<string, unknown>;
  try {
    ns = loader === "tsx" ? await importTypeScript(file) : await importJavaScript(file);
  } catch (err) {
    throw new CliError(`module ${file} failed to load: ${oneLine(err)}`, { cause: err });
  }

  // A module compiled to CommonJS (a .ts file outside a "type": "module" package)
  // arrives as { default: module.exports }, its exports under that.
  const inner = ns.default;
  if (typeof inner === "object" && inner !== null && Reflect.get(inner, "__esModule") === true) {
    ns = inner as Record<string, unknown>;
  }

  const names = exportName === undefined ? ["app", "default"] : [exportName];
  const found = names.find((name) => ns[name] !== undefined);
  if (found === undefined) {
    const has = Object.keys(ns).filter((k) => k !== "__esModule");
    const wanted = names.map((n) => `'${n}'`).join(" or ");
    const hint = has.length > 0 ? `; it exports ${has.join(", ")}` : "; it exports nothing";
    throw new CliError(`module ${file} has no export ${wanted}${hint}`);
  }
  const app = ns[found];
  if (typeof app !== "function") {
    const shown = inspect(app, { depth: 0, breakLength: Number.POSITIVE_INFINITY });
    throw new CliError(`export '${found}' of ${file} is not a function: ${shown.slice(0, 60)}`);
  }
  return app as WSGIApplication;
}

async function importJavaScript(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  // Loaded on demand: serving JavaScript never starts esbuild.
  if (await isCommonJs(file)) {
    // tsImport would load it from a data: URL that Node maps no source map for:
    // every stack trace of the app would print the whole compiled module and
    // positions in it. tsx's require compiles it under its own file name, with
    // the source map Node applies (tsx turns source maps on).
    const { require: tsxRequire } = await import("tsx/cjs/api");
    const exports: unknown = tsxRequire(file, import.meta.url);
    // The namespace import() gives a CommonJS module: its own keys, and itself as default.
    const named = typeof exports === "object" && exports !== null ? exports : {};
    return { ...named, default: exports };
  }
  const { tsImport } = await import("tsx/esm/api");
  return (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
}

/**
 * Whether Node would run `file` as CommonJS: `.cts`; `.ts` or `.tsx` whose
 * nearest package.json does not say `"type": "module"` (as for `.js`). `.mts`,
 * and a package.json that cannot be read, leave it to tsImport.
 */
async function isCommonJs(file: string): Promise<boolean> {
  const extension = extname(file);
  if (extension === ".cts") return true;
  if (extension === ".mts") return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const text = await readFile(join(dir, "package.json"), "utf8").catch(() => undefined);
    if (text !== undefined) {
      try {
        return Reflect.get(Object(JSON.parse(text)), "type") !== "module";
      } catch {
        return false; // Invalid JSON: tsImport reports it as Node would.
      }
    }
    // Node's lookup stops at the package root, as at the file system's.
    if (dirname(dir) === dir || basename(dir) === "node_modules") return true;
  }
}
