/**
 * `validator()`'s counterpart of Python's `IteratorWrapper.__del__`: a body the
 * server never closed is reported on stderr when it is garbage-collected. Shown
 * in a child `node --expose-gc`, which can force collections and whose stderr is
 * the report's destination.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const validateUrl = new URL("../../src/validate.js", import.meta.url).href;
const utilUrl = new URL("../../src/util.js", import.meta.url).href;

const LINE = "Iterator garbage collected without being closed\n";

/** Run `body` (module code) in `node --expose-gc`, after a preamble defining `serve(close)`. */
async function child(body: string): Promise<{ stdout: string; stderr: string }> {
  const preamble = `
    import { validator } from ${JSON.stringify(validateUrl)};
    import { setupTestingDefaults } from ${JSON.stringify(utilUrl)};
    const app = validator((environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [new Uint8Array([104, 105])];
    });
    // Serve one request as a server would, closing the body or not; keep nothing.
    function serve(close) {
      const environ = {};
      setupTestingDefaults(environ);
      environ.QUERY_STRING = "";
      const body = app(environ, () => () => {});
      for (const chunk of body) {}
      if (close) body.close();
    }
    // Let the event loop turn (the validator registers bodies then), collect, and
    // let the finalizers run.
    async function collect() {
      await new Promise((resolve) => setImmediate(resolve));
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  `;
  return run(process.execPath, ["--expose-gc", "--input-type=module", "-e", preamble + body]);
}

describe("validator (garbage collection)", () => {
  it("reports a body collected without close() on stderr, once", async () => {
    const { stdout, stderr } = await child(`
      serve(false);
      await collect();
      console.log("done");
    `);
    assert.equal(stdout, "done\n");
    assert.equal(stderr, LINE);
  });

  it("says nothing of bodies the server closed", async () => {
    const { stdout, stderr } = await child(`
      for (let i = 0; i < 10; i++) serve(true);
      await collect();
      console.log("done");
    `);
    assert.equal(stdout, "done\n");
    assert.equal(stderr, "");
  });

  it("reports every unclosed body among many served without the event loop turning", async () => {
    // 600 bodies in one synchronous run: more than the validator keeps waiting
    // for the loop to turn, so most are registered on the way.
    const { stderr } = await child(`
      for (let i = 0; i < 600; i++) serve(i % 2 === 0);
      await collect();
    `);
    assert.equal(stderr, LINE.repeat(300));
  });
});
