/**
 * The `wsgiref` command's help and its errors: every mistake a user can make is
 * one line on stderr and a non-zero exit code, never a stack trace.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Child, runCli, stopAll, tempDir } from "./cli/cli-process.js";

const modules = tempDir({
  "package.json": '{ "type": "module" }',
  "app.js": "export const app = () => [];\n",
  "empty.js": "export {};\n",
  "number.js": "export const app = 42;\n",
  "throws.js": 'import "./helper.js";\nexport const app = () => [];\n',
  "helper.js": 'throw new RangeError("the database is not configured");\n',
  "broken.ts": "export const app = (: number) => [];\n",
});
const at = (name: string): string => join(modules.dir, name);

let busy: Server;
let busyPort = 0;
before(async () => {
  busy = createServer().listen(0, "127.0.0.1");
  await once(busy, "listening");
  const address = busy.address();
  busyPort = typeof address === "object" && address !== null ? address.port : 0;
});
after(async () => {
  busy.close();
  try {
    await stopAll();
  } finally {
    modules.rm();
  }
});

/** Run the command and check it printed exactly `line` on stderr, nothing on stdout, and exited `code`. */
async function fails(args: string[], line: string | RegExp, code: number): Promise<void> {
  const outcome = await runCli(args, { cwd: modules.dir });
  assert.equal(outcome.stdout, "");
  assert.match(outcome.stderr, /^wsgiref: [^\n]+\n$/, `one line on stderr: ${outcome.stderr}`);
  const printed = outcome.stderr.slice(0, -1);
  if (typeof line === "string") {
    assert.equal(printed, line);
  } else {
    assert.match(printed, line);
  }
  assert.equal(outcome.code, code);
}

describe("wsgiref --help", { concurrency: 4 }, () => {
  it("lists the commands and exits 0", async () => {
    const { code, stdout, stderr } = await runCli(["--help"]);
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.match(stdout, /^Usage: wsgiref <command>/);
    for (const command of ["serve", "static", "cgi"])
      assert.match(stdout, new RegExp(`\\n  ${command} `));
  });

  for (const command of ["serve", "static", "cgi"]) {
    it(`shows the options of ${command}`, async () => {
      const { code, stdout } = await runCli([command, "-h"]);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: wsgiref ${command} `));
      assert.match(stdout, /--help/);
    });
  }

  it("runs through the bin/wsgiref.js launcher", async () => {
    const bin = fileURLToPath(new URL("../../bin/wsgiref.js", import.meta.url));
    const { code, stdout } = await new Child([bin, "cgi", "--help"]).outcome;
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: wsgiref cgi /);
  });

  it("documents one flag per ServerOptions limit in serve --help", async () => {
    const { stdout } = await runCli(["serve", "--help"]);
    const flags = [
      "--max-body-size",
      "--spool-threshold",
      "--max-header-size",
      "--max-headers",
      "--headers-timeout",
      "--request-timeout",
      "--keep-alive-timeout",
      "--workers",
      "--validate",
      "--quiet",
      "--host",
      "--port",
    ];
    for (const flag of flags) assert.match(stdout, new RegExp(`  ${flag} `));
  });
});

describe("wsgiref serve --help and the timeouts of issue 13", () => {
  it("documents --body-timeout and --send-timeout", async () => {
    const { stdout } = await runCli(["serve", "--help"]);
    assert.match(
      stdout,
      /\n {2}--body-timeout MS {7}time a request body may send nothing; past it 408 \(default 30000\)\n/,
    );
    assert.match(
      stdout,
      /\n {2}--send-timeout MS {7}time a client may take nothing of a response;/,
    );
  });

  it("refuses a timeout that is not a whole number of milliseconds", async () => {
    await fails(
      ["serve", "--send-timeout", "1.5"],
      "wsgiref: --send-timeout must be an integer of at least 0: '1.5'",
      2,
    );
  });
});

describe("wsgiref usage errors", { concurrency: 4 }, () => {
  const cases: Array<[string[], string]> = [
    [[], "wsgiref: missing command; see 'wsgiref --help'"],
    [["bogus"], "wsgiref: unknown command 'bogus'; see 'wsgiref --help'"],
    [["serve", "--port", "abc"], "wsgiref: --port must be an integer from 0 to 65535: 'abc'"],
    [["serve", "--port", "65536"], "wsgiref: --port must be an integer from 0 to 65535: '65536'"],
    [["serve", "--port=-1"], "wsgiref: --port must be an integer from 0 to 65535: '-1'"],
    [["serve", "--workers", "0"], "wsgiref: --workers must be an integer of at least 1: '0'"],
    [["serve", "--workers", "2.5"], "wsgiref: --workers must be an integer of at least 1: '2.5'"],
    [
      ["serve", "--max-headers", "many"],
      "wsgiref: --max-headers must be an integer of at least 1: 'many'",
    ],
    [
      ["serve", "--headers-timeout", "1e3"],
      "wsgiref: --headers-timeout must be an integer of at least 0: '1e3'",
    ],
    [["serve", "--nope"], "wsgiref: Unknown option '--nope'; see 'wsgiref serve --help'"],
    [
      ["static", "--workers", "2"],
      "wsgiref: Unknown option '--workers'; see 'wsgiref static --help'",
    ],
    [
      ["serve", "--port"],
      "wsgiref: Option '--port <value>' argument missing; see 'wsgiref serve --help'",
    ],
    [["serve", "a.js", "b.js"], "wsgiref: too many arguments for 'wsgiref serve': a.js b.js"],
    [["cgi"], "wsgiref: 'wsgiref cgi' needs a MODULE; see 'wsgiref cgi --help'"],
    [["serve", ":app"], "wsgiref: MODULE must name a file: ':app'"],
    [
      ["serve", "--port", "0", "--headers-timeout", "400000"],
      "wsgiref: --headers-timeout must not exceed --request-timeout: 400000 > 300000",
    ],
  ];
  for (const [args, line] of cases) {
    it(`exits 2 for: wsgiref ${args.join(" ")}`, () => fails(args, line, 2));
  }
});

describe("wsgiref errors while starting", { concurrency: 4 }, () => {
  it("names a module that does not exist", () =>
    fails(["serve", "missing.js"], `wsgiref: module not found: ${at("missing.js")}`, 1));

  it("names the missing export and lists those there are", () =>
    fails(
      ["serve", "app.js:application"],
      `wsgiref: module ${at("app.js")} has no export 'application'; it exports app`,
      1,
    ));

  it("looks for app, then default", () =>
    fails(
      ["serve", "empty.js"],
      `wsgiref: module ${at("empty.js")} has no export 'app' or 'default'; it exports nothing`,
      1,
    ));

  it("refuses an export that is not a function", () =>
    fails(
      ["serve", "number.js"],
      `wsgiref: export 'app' of ${at("number.js")} is not a function: 42`,
      1,
    ));

  it("reports an error thrown while importing with the module's path, on one line", () =>
    fails(
      ["serve", "throws.js"],
      `wsgiref: module ${at("throws.js")} failed to load: RangeError: the database is not configured`,
      1,
    ));

  it("reports a TypeScript syntax error on one line", () =>
    fails(
      ["cgi", "broken.ts"],
      new RegExp(`^wsgiref: module ${at("broken.ts")} failed to load: .*broken\\.ts:1:`),
      1,
    ));

  it("shows the stack of a failed import with NODE_DEBUG=wsgiref", async () => {
    const { code, stderr } = await runCli(["serve", "throws.js"], {
      cwd: modules.dir,
      env: { NODE_DEBUG: "wsgiref" },
    });
    assert.equal(code, 1);
    assert.match(stderr, /RangeError: the database is not configured\n\s+at .*helper\.js/);
  });

  it("says the port is in use", () =>
    fails(
      ["serve", "--port", String(busyPort)],
      `wsgiref: port ${busyPort} on 127.0.0.1 is already in use`,
      1,
    ));

  it("says the port is in use with workers too", () =>
    fails(
      ["serve", "--workers", "2", "--port", String(busyPort)],
      `wsgiref: port ${busyPort} on 127.0.0.1 is already in use`,
      1,
    ));

  it("reports a broken module from workers once", () =>
    fails(
      ["serve", "--workers", "2", "--port", "0", "number.js"],
      `wsgiref: export 'app' of ${at("number.js")} is not a function: 42`,
      1,
    ));

  it("names a static directory that does not exist", () =>
    fails(
      ["static", "no-such-dir", "--port", "0"],
      "wsgiref: directory not found: no-such-dir",
      1,
    ));
});
