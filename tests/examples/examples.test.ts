/**
 * Runs every example under examples/ as a user would (`node build/examples/x.js`)
 * and checks what it prints, so the examples cannot rot.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

async function output(name: string): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [`${examples}${name}.js`]);
  assert.equal(stderr, "");
  return stdout;
}

describe("examples", () => {
  it("file-wrapper prints the file in five-byte blocks", async () => {
    const lines = (await output("file-wrapper")).split("\n");
    assert.equal(lines.length, 71); // 350 bytes / 5, then the final newline
    assert.equal(lines[0], "This ");
    assert.equal(lines[1], "is an");
    assert.equal(lines.slice(0, 70).join(""), "This is an example file-like object".repeat(10));
  });

  it("headers shows the shared list and add_header's parameters", async () => {
    assert.equal(
      await output("headers"),
      "4\ntext/plain\n" +
        "Content-Type: text/plain\r\n" +
        'content-disposition: attachment; filename="bud.gif"\r\n' +
        "X-Flags: on; no-cache\r\n" +
        "Cache-Control: no-store\r\n\r\n",
    );
  });

  it("shift-path-info moves one segment and rebuilds the URLs", async () => {
    assert.equal(
      await output("shift-path-info"),
      "http://127.0.0.1/app/blog/2026/hello?x=1\nblog\n/app/blog /2026/hello\nhttp://127.0.0.1/app/blog\n",
    );
  });
});
