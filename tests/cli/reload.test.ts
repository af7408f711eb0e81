/**
 * `wsgiref serve --reload` (SPEC.md §11.7): a change to a source file under
 * the app's directory restarts the server on the port first bound, debounced
 * and named; a syntax error leaves the supervisor waiting for the next change.
 */

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isWatchedSource, reloadLine } from "../../src/cli/reload.js";
import {
  Child,
  CLI,
  fetchRaw,
  runCli,
  SERVING_LINE,
  serveCli,
  stopAll,
  tempDir,
} from "./cli-process.js";

const dirs: Array<{ rm(): void }> = [];
after(async () => {
  try {
    await stopAll();
  } finally {
    for (const dir of dirs) dir.rm();
  }
});

/** An app answering `text`, importing lib.js so that a change there counts too. */
function appSource(text: string): string {
  return `import { suffix } from "./lib.js";
export function app(environ, startResponse) {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from(${JSON.stringify(text)} + suffix)];
}
`;
}

/** Resolve once `test(stdout)` holds; reject if the process exits first. */
function until(child: Child, test: (stdout: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (test(child.stdout)) {
        child.process.stdout?.off("data", onData);
        resolve();
      }
    };
    const onData = (): void => {
      setImmediate(check);
    };
    child.process.stdout?.on("data", onData);
    void child.outcome.then((o) => reject(new Error(`exited (${o.code}): ${o.stdout}${o.stderr}`)));
    check();
  });
}

function count(text: string, pattern: RegExp): number {
  return text.split("\n").filter((line) => pattern.test(line)).length;
}

async function body(port: number): Promise<string> {
  return (await fetchRaw(port, "/")).body.toString();
}

describe("wsgiref serve --reload", () => {
  it("restarts on a change, on the same port, naming what changed", async () => {
    const dir = tempDir({
      "package.json": '{ "type": "module" }',
      "app.js": appSource("one"),
      "lib.js": 'export const suffix = "";\n',
    });
    dirs.push(dir);
    mkdirSync(join(dir.dir, "node_modules"));
    mkdirSync(join(dir.dir, ".cache"));
    const { child, port } = await serveCli(
      ["serve", "app.js", "--port", "0", "--quiet", "--reload"],
      {
        cwd: dir.dir,
      },
    );
    assert.equal(await body(port), "one");

    // Not source, or not the app's: these change nothing. Then app.js and
    // lib.js at once: one restart names both (and only them).
    writeFileSync(join(dir.dir, "notes.txt"), "x");
    writeFileSync(join(dir.dir, "node_modules", "dep.js"), "x");
    writeFileSync(join(dir.dir, ".cache", "c.js"), "x");
    writeFileSync(join(dir.dir, "lib.js"), 'export const suffix = "!";\n');
    writeFileSync(join(dir.dir, "app.js"), appSource("two"));
    await until(child, (out) => count(out, SERVING_LINE) === 2);
    assert.equal(count(child.stdout, /^Reloading: /), 1, child.stdout);
    assert.match(child.stdout, /^Reloading: app\.js, lib\.js changed$/m);
    assert.equal(await body(port), "two!", "the new code, on the first port");

    // A syntax error: the server cannot start; the supervisor waits.
    writeFileSync(join(dir.dir, "app.js"), "export function app( {\n");
    await until(child, (out) => out.includes("waiting for a change to reload"));
    assert.match(child.stdout, /^The server exited with code 1; waiting for a change to reload$/m);
    assert.match(child.stderr, /wsgiref: module .*app\.js failed to load: SyntaxError/);

    // The fix: served again on the same port.
    writeFileSync(join(dir.dir, "app.js"), appSource("three"));
    await until(child, (out) => count(out, SERVING_LINE) === 3);
    assert.equal(await body(port), "three!");

    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.match(outcome.stdout, /^Stopping the server \(SIGTERM\)$/m);
    assert.match(outcome.stdout, /Shut down cleanly\n$/);
    await assert.rejects(fetchRaw(port, "/"), { code: "ECONNREFUSED" }, "no server left behind");
  });

  it("waits for a change when the first start fails", async () => {
    const dir = tempDir({
      "package.json": '{ "type": "module" }',
      "app.js": "export const app = ;\n",
      "lib.js": 'export const suffix = "";\n',
    });
    dirs.push(dir);
    const child = new Child([CLI, "serve", "app.js", "--port", "0", "--quiet", "--reload"], {
      cwd: dir.dir,
    });
    await child.waitFor(/^The server exited with code 1; waiting for a change to reload$/);
    writeFileSync(join(dir.dir, "app.js"), appSource("fixed"));
    const match = await child.waitFor(SERVING_LINE);
    assert.equal(await body(Number(match[2])), "fixed");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("is refused with --workers and without a module", async () => {
    const workers = await runCli(["serve", "app.js", "--reload", "--workers", "2"]);
    assert.equal(workers.code, 2);
    assert.equal(workers.stderr, "wsgiref: --reload cannot be used with --workers\n");
    const none = await runCli(["serve", "--reload"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, "wsgiref: --reload needs a MODULE whose directory to watch\n");
  });
});

describe("isWatchedSource", () => {
  it("takes the app's source files, not dependencies, dot-directories or other files", () => {
    for (const file of ["app.ts", "lib/db.js", "config.json", "x.mjs", "y.cts", "z.tsx"]) {
      assert.equal(isWatchedSource(file), true, file);
    }
    for (const file of [
      "notes.md",
      "app.ts~",
      ".app.ts.swp",
      "node_modules/a/b.js",
      ".git/x.js",
      "a/.cache/y.ts",
    ]) {
      assert.equal(isWatchedSource(file), false, file);
    }
  });
});

describe("reloadLine", () => {
  it("names up to three files, then how many more", () => {
    assert.equal(reloadLine(["a.ts"]), "Reloading: a.ts changed");
    assert.equal(reloadLine(["a", "b", "c", "d", "e"]), "Reloading: a, b, c and 2 more changed");
  });
});
