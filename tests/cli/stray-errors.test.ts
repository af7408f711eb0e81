/**
 * `StrayErrors`: an application's errors outside any request (a rejection no one
 * handles, an exception thrown from a timer) are logged with the application's
 * own source positions, rate-limited, and never end `wsgiref serve`, alone or
 * in a worker.
 */

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { after, describe, it } from "node:test";
import {
  describe as describeError,
  StrayErrors,
  shortenDataUrl,
} from "../../src/cli/stray-errors.js";
import { type Child, fetchRaw, serveCli, stopAll, tempDir } from "./cli-process.js";

// No package.json: the .ts app is CommonJS, the kind tsx once loaded from a data: URL.
const loose = tempDir({
  "app.ts": [
    'import type { WSGIApplication } from "wsgiref";',
    "",
    "export const app: WSGIApplication = (environ, startResponse) => {",
    "  const path = String(environ.PATH_INFO);",
    '  if (path === "/reject") setTimeout(() => void Promise.reject(new Error("stray rejection")), 0);',
    '  if (path === "/throw") setTimeout(() => { throw new Error("timer threw"); }, 0);',
    '  if (path === "/fetch") void fetch("http://[not-a-host");',
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    '  return [new TextEncoder().encode("ok " + process.pid)];',
    "};",
    "",
  ].join("\n"),
});

after(async () => {
  try {
    await stopAll();
  } finally {
    loose.rm();
  }
});

const HEAD = "logged; still serving";

/**
 * Ask for `path`, which starts a stray error, await its log entry, and return
 * the entry's lines (the head line, then the frames up to the next entry).
 */
async function strayError(child: Child, port: number, path: string, head: RegExp, nth: number) {
  assert.equal((await fetchRaw(port, path)).status, 200);
  await child.waitForNth(head, nth);
  // The frames follow the head line in the same write.
  const lines = child.stderr.split("\n");
  const at = lines.findLastIndex((line) => head.test(line));
  const frames = lines.slice(at + 1).filter((line) => line.startsWith("    "));
  return { head: lines[at]!, frames };
}

async function checksServing(child: Child, port: number): Promise<void> {
  const reply = await fetchRaw(port, "/");
  assert.equal(reply.status, 200);
  assert.match(reply.body.toString(), /^ok \d+$/);
  assert.equal(child.process.exitCode, null, "still running");
}

describe("wsgiref serve with an application that errs outside requests", () => {
  for (const workers of [[], ["--workers", "1"]]) {
    const mode = workers.length === 0 ? "alone" : "in a worker";
    it(`logs each with the TypeScript source position and keeps serving (${mode})`, async () => {
      const { child, port } = await serveCli(
        ["serve", "app.ts", "--port", "0", "--quiet", ...workers],
        {
          cwd: loose.dir,
        },
      );
      const file = `${loose.dir}/app.ts`;

      const rejection = await strayError(
        child,
        port,
        "/reject",
        new RegExp(`^wsgiref: unhandled rejection, ${HEAD}: Error: stray rejection$`),
        1,
      );
      assert.ok(rejection.frames[0]?.includes(`${file}:5:`), rejection.frames.join("\n"));
      await checksServing(child, port);

      const thrown = await strayError(
        child,
        port,
        "/throw",
        new RegExp(`^wsgiref: uncaught exception, ${HEAD}: Error: timer threw$`),
        1,
      );
      assert.ok(thrown.frames[0]?.includes(`${file}:6:`), thrown.frames.join("\n"));
      await checksServing(child, port);

      // A fire-and-forget fetch() that fails.
      await strayError(
        child,
        port,
        "/fetch",
        new RegExp(`^wsgiref: unhandled rejection, ${HEAD}: TypeError: Failed to parse URL from`),
        1,
      );
      await checksServing(child, port);

      assert.doesNotMatch(child.stderr, /data:/, "no data: URL");
      assert.doesNotMatch(child.stderr, /exited|killed/, "no worker died");
      child.process.kill("SIGTERM");
      const outcome = await child.outcome;
      assert.equal(outcome.code, 0, outcome.stderr);
    });
  }
});

describe("StrayErrors", () => {
  it("writes one head line, then the frames, with control characters escaped", () => {
    const err = new Error("two\nlines\u001b[31m");
    err.stack = "Error: two\nlines\u001b[31m\n    at f (/app/a.ts:3:7)\n    at g (/app/a.ts:9:1)";
    assert.equal(
      describeError("uncaught exception", err),
      [
        "wsgiref: uncaught exception, logged; still serving: Error: two\\x0alines\\x1b[31m",
        "    at f (/app/a.ts:3:7)",
        "    at g (/app/a.ts:9:1)",
        "",
      ].join("\n"),
    );
  });

  it("shows a rejection with a value that is not an Error", () => {
    assert.equal(
      describeError("unhandled rejection", { code: 7 }),
      "wsgiref: unhandled rejection, logged; still serving: { code: 7 }\n",
    );
  });

  it("replaces a data: URL in a frame with the file it came from", () => {
    const url =
      "data:text/javascript,__filename%3D%22%2Fa%2Fapp.ts%22%3B(()%3D%3E%7B%7D)()" +
      "?filePath=%2Fa%2Fapp.ts%3Fnamespace%3D1";
    assert.equal(
      shortenDataUrl(`    at Timeout._onTimeout (${url}:2:982)`),
      "    at Timeout._onTimeout (/a/app.ts (compiled):2:982)",
    );
    assert.equal(shortenDataUrl("    at data:text/javascript,x:1:5"), "    at data:…:1:5");
    assert.equal(shortenDataUrl("    at f (/a/b.js:1:2)"), "    at f (/a/b.js:1:2)");
  });

  it("logs at most 20 errors in 10 s, then says how many it left out", () => {
    const written: string[] = [];
    let now = 1_000;
    const log = new StrayErrors({ write: (text) => written.push(text), now: () => now });
    for (let i = 0; i < 25; i++) log.report("uncaught exception", new Error(`n${i}`));
    assert.equal(written.length, 20);
    now += 10_000;
    log.report("uncaught exception", new Error("later"));
    assert.equal(written[20], "wsgiref: 5 more errors outside requests not logged\n");
    assert.match(written[21] ?? "", /Error: later/);
  });

  it("listens for both events on the process and stops when asked", () => {
    const written: string[] = [];
    const target = new EventEmitter();
    const stop = new StrayErrors({ write: (text) => written.push(text) }).listen(target);
    target.emit("unhandledRejection", new Error("a"), Promise.resolve());
    target.emit("uncaughtException", new Error("b"));
    stop();
    assert.equal(target.listenerCount("unhandledRejection"), 0);
    assert.equal(target.listenerCount("uncaughtException"), 0);
    assert.match(written[0] ?? "", /^wsgiref: unhandled rejection, .*: Error: a\n/);
    assert.match(written[1] ?? "", /^wsgiref: uncaught exception, .*: Error: b\n/);
  });
});
