/**
 * The server examples of examples/, validated as they are: each runs in its own
 * `node`, with a preload that wraps whatever application reaches
 * `WSGIServer.setApp()` in `validator()` (as `wsgiref serve --validate` does for
 * a module's export), and answers real requests without an AssertionError or a
 * WSGIWarning on its stderr.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const examples = fileURLToPath(new URL("../examples/", import.meta.url));
const packageJson = new URL("../../package.json", import.meta.url);

// The examples import wsgiref/simple-server, which the package must export.
const exportsMap = (JSON.parse(readFileSync(packageJson, "utf8")) as { exports?: object }).exports;
const skip =
  exportsMap !== undefined && "./simple-server" in exportsMap
    ? false
    : "package.json does not export ./simple-server yet, which the examples import";

const PRELOAD = `
  import { WSGIServer } from ${JSON.stringify(new URL("../src/simple-server.js", import.meta.url).href)};
  import { validator } from ${JSON.stringify(new URL("../src/validate.js", import.meta.url).href)};
  const setApp = WSGIServer.prototype.setApp;
  WSGIServer.prototype.setApp = function (app) {
    return setApp.call(this, validator(app));
  };
`;

const children: ChildProcess[] = [];
const site = mkdtempSync(join(tmpdir(), "wsgiref-validate-"));
writeFileSync(join(site, "index.html"), "<p>home</p>");
after(() => {
  for (const child of children) {
    child.kill("SIGTERM");
  }
  rmSync(site, { recursive: true, force: true });
});

/** A running example: its port, and everything it wrote to stderr so far. */
interface Example {
  port: number;
  stderr: () => string;
}

/** Start `examples/<name>.js` with `args`, validated; resolve with the port its first line names. */
function start(name: string, args: string[]): Promise<Example> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(PRELOAD)}`,
      `${examples}${name}.js`,
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = / port (\d+)/.exec(stdout);
      if (match) {
        resolve({ port: Number(match[1]), stderr: () => stderr });
      }
    });
    child.on("exit", (code) => reject(new Error(`${name} exited (${code}): ${stderr}`)));
  });
}

/** GET `path`: status and body. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

function assertQuiet(stderr: string): void {
  assert.doesNotMatch(stderr, /AssertionError|WSGIWarning/);
}

describe("validator around the server examples", { skip, concurrency: true }, () => {
  it("hello-world answers without complaint", async () => {
    const example = await start("hello-world", ["0"]);
    const reply = await get(example.port, "/");
    assert.deepEqual(reply, { status: 200, body: "Hello World" });
    assertQuiet(example.stderr());
  });

  it("testing-defaults answers without complaint", async () => {
    const example = await start("testing-defaults", ["0"]);
    const reply = await get(example.port, "/x?y=1");
    assert.equal(reply.status, 200);
    assert.match(reply.body, /^QUERY_STRING: y=1$/m);
    assertQuiet(example.stderr());
  });

  it("file-server answers a file and a 404 without complaint", async () => {
    const example = await start("file-server", [site, "0"]);
    assert.deepEqual(await get(example.port, "/"), { status: 200, body: "<p>home</p>" });
    assert.deepEqual(await get(example.port, "/missing.txt"), { status: 404, body: "not found" });
    assertQuiet(example.stderr());
  });
});
