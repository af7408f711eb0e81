/**
 * The command line for people who deploy (SPEC.md §11.7), with the compiled
 * command started with `--port 0`: the banner and its URL, worker start lines,
 * what a shutdown waits for, `HOST`/`PORT` from the environment, `--bind
 * unix:PATH`, `--root-path`, `--log-format json`, `--version`.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { exchange } from "../helpers/server-client.js";
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

const app = tempDir({
  "package.json": '{ "type": "module" }',
  "environ.js": [
    "const KEYS = ['REMOTE_ADDR', 'SERVER_NAME', 'SERVER_PORT', 'SCRIPT_NAME', 'PATH_INFO'];",
    "export function app(environ, startResponse) {",
    "  const seen = Object.fromEntries(KEYS.map((k) => [k, environ[k]]));",
    "  startResponse('200 OK', [['Content-Type', 'application/json']]);",
    "  return [Buffer.from(JSON.stringify(seen))];",
    "}",
    "",
  ].join("\n"),
  // Sends its first chunk, then waits for the SIGTERM that stops the server.
  "slow.js": [
    "let release;",
    "const released = new Promise((resolve) => { release = resolve; });",
    'process.once("SIGTERM", () => release());',
    "export function app(environ, startResponse) {",
    '  startResponse("200 OK", [["Content-Type", "text/plain"]]);',
    "  return (async function* () {",
    '    yield Buffer.from("first, ");',
    "    await released;",
    '    yield Buffer.from("last");',
    "  })();",
    "}",
    "",
  ].join("\n"),
});
after(async () => {
  try {
    await stopAll();
  } finally {
    app.rm();
  }
});

const VERSION = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** GET `path` over the Unix socket at `socketPath`. */
function getUnix(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("wsgiref serve: banner and shutdown", { concurrency: true }, () => {
  it("prints the serving line with a URL to click, then what a shutdown waits for", async () => {
    const { child, port } = await serveCli(["serve", "environ.js", "--port", "0"], {
      cwd: app.dir,
    });
    assert.equal(
      child.stdout.split("\n")[0],
      `Serving HTTP on 127.0.0.1 port ${port} (http://127.0.0.1:${port}/) ...`,
    );
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    assert.deepEqual(outcome.stdout.trimEnd().split("\n").slice(1), [
      "Shutting down on SIGTERM: no new connections; no request in progress",
      "Shut down cleanly",
    ]);
  });

  it("says how many requests it lets finish, and when it is done", async () => {
    const { child, port } = await serveCli(["serve", "slow.js", "--port", "0", "--quiet"], {
      cwd: app.dir,
    });
    const body = new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (s: string) => {
          text += s;
          // The first chunk is out: the request is in progress; stop the server now.
          if (text === "first, ") child.process.kill("SIGTERM");
        });
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(await body, "first, last");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    const lines = outcome.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.slice(1), [
      "Shutting down on SIGTERM: no new connections; waiting for 1 request in progress to finish (SIGTERM again to exit now)",
      "Shut down cleanly",
    ]);
  });

  it("prints a line per worker, the worker count in the banner, and each worker's stop", async () => {
    const { child, port } = await serveCli(
      ["serve", "environ.js", "--port", "0", "--workers", "2"],
      {
        cwd: app.dir,
      },
    );
    const banner = child.stdout.split("\n").find((line) => SERVING_LINE.test(line));
    assert.equal(
      banner,
      `Serving HTTP on 127.0.0.1 port ${port} (http://127.0.0.1:${port}/, 2 workers) ...`,
    );
    const started = child.stdout.match(/^Worker \d+ listening \([12] of 2\)$/gm) ?? [];
    assert.equal(started.length, 2, child.stdout);
    assert.equal((await fetchRaw(port, "/")).status, 200);
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
    const lines = outcome.stdout.trimEnd().split("\n");
    assert.equal(
      lines[3],
      "Shutting down on SIGTERM: no new connections; waiting for 2 workers to finish their requests (SIGTERM again to stop them now)",
    );
    assert.match(lines[4] ?? "", /^Worker \d+ stopped$/);
    assert.match(lines[5] ?? "", /^Worker \d+ stopped$/);
    assert.equal(lines[6], "Shut down cleanly");
  });
});

describe("wsgiref serve: HOST and PORT", { concurrency: true }, () => {
  it("listens where HOST and PORT say when no flag does", async () => {
    const { child, host, port } = await serveCli(["serve", "environ.js"], {
      cwd: app.dir,
      env: { HOST: "127.0.0.1", PORT: "0" },
    });
    assert.equal(host, "127.0.0.1");
    assert.notEqual(port, 0);
    assert.equal((await fetchRaw(port, "/")).status, 200);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("lets --port win over PORT", async () => {
    const { child } = await serveCli(["serve", "environ.js", "--port", "0"], {
      cwd: app.dir,
      env: { PORT: "not a port" },
    });
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("refuses a PORT that is not a port", async () => {
    for (const value of ["http", "65536", "-1"]) {
      const outcome = await runCli(["serve"], { env: { PORT: value } });
      assert.equal(outcome.code, 2);
      assert.equal(
        outcome.stderr,
        `wsgiref: PORT must be an integer from 0 to 65535: '${value}'\n`,
      );
    }
  });
});

describe("wsgiref serve --bind unix:PATH", { concurrency: true }, () => {
  it("serves on the socket with an empty REMOTE_ADDR, and removes the file on shutdown", async () => {
    const path = join(app.dir, "one.sock");
    const child = new Child([CLI, "serve", "environ.js", "--bind", `unix:${path}`], {
      cwd: app.dir,
    });
    await child.waitFor(/^Serving HTTP on unix:/);
    assert.equal(child.stdout.split("\n")[0], `Serving HTTP on unix:${path} ...`);
    const reply = await getUnix(path, "/here");
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), {
      REMOTE_ADDR: "",
      SERVER_NAME: "localhost",
      SERVER_PORT: "80",
      SCRIPT_NAME: "",
      PATH_INFO: "/here",
    });
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
    assert.equal(existsSync(path), false, "the socket file is gone");
  });

  it("serves with workers on one socket", async () => {
    const path = join(app.dir, "workers.sock");
    const child = new Child(
      [CLI, "serve", "environ.js", "--bind", `unix:${path}`, "--workers", "2"],
      {
        cwd: app.dir,
      },
    );
    await child.waitFor(/^Serving HTTP on unix:\S+ \(2 workers\) \.\.\.$/);
    for (let i = 0; i < 4; i++) assert.equal((await getUnix(path, "/")).status, 200);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
    assert.equal(existsSync(path), false, "the socket file is gone");
  });

  it("removes a stale socket file a killed server left", async () => {
    const path = join(app.dir, "stale.sock");
    // bind() makes the file; Python exits without removing it, as a killed server would.
    execFileSync("python3", [
      "-c",
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
    ]);
    assert.equal(existsSync(path), true);
    const child = new Child([CLI, "serve", "environ.js", "--bind", `unix:${path}`], {
      cwd: app.dir,
    });
    await child.waitFor(/^Serving HTTP on unix:/);
    assert.equal(child.stdout.split("\n")[0], `Removed the stale socket file ${path}`);
    assert.equal((await getUnix(path, "/")).status, 200);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("refuses a socket another server answers on, and a file that is not a socket", async () => {
    const live = join(app.dir, "live.sock");
    const other = createServer((socket) => socket.end());
    other.listen(live);
    await once(other, "listening");
    try {
      const outcome = await runCli(["serve", "--bind", `unix:${live}`]);
      assert.equal(outcome.code, 1);
      assert.equal(
        outcome.stderr,
        `wsgiref: socket ${live} is already in use by a running server\n`,
      );
    } finally {
      other.close();
    }
    const file = join(app.dir, "not-a-socket");
    writeFileSync(file, "keep me");
    const outcome = await runCli(["serve", "--bind", `unix:${file}`]);
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stderr, `wsgiref: ${file} exists and is not a socket; not removing it\n`);
    assert.equal(readFileSync(file, "utf8"), "keep me");
  });

  it("takes --bind HOST:PORT, and refuses it with --port", async () => {
    const { child, host } = await serveCli(["serve", "environ.js", "--bind", "127.0.0.1:0"], {
      cwd: app.dir,
    });
    assert.equal(host, "127.0.0.1");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
    const both = await runCli(["serve", "--bind", "127.0.0.1:0", "--port", "0"]);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, "wsgiref: --bind cannot be used with --host or --port\n");
    const bad = await runCli(["serve", "--bind", "somewhere"]);
    assert.equal(bad.stderr, "wsgiref: --bind must be unix:PATH or HOST:PORT: 'somewhere'\n");
  });
});

describe("wsgiref serve --root-path", { concurrency: true }, () => {
  it("sets SCRIPT_NAME and cuts the prefix from PATH_INFO by whole segments", async () => {
    const { child, port } = await serveCli(
      ["serve", "environ.js", "--port", "0", "--quiet", "--root-path", "/app/"],
      { cwd: app.dir },
    );
    const seen = async (path: string) => {
      const { SCRIPT_NAME, PATH_INFO } = JSON.parse((await fetchRaw(port, path)).body.toString());
      return [SCRIPT_NAME, PATH_INFO];
    };
    assert.deepEqual(await seen("/app/users/1"), ["/app", "/users/1"]);
    assert.deepEqual(await seen("/app"), ["/app", ""]);
    assert.deepEqual(await seen("/app/"), ["/app", "/"]);
    assert.deepEqual(await seen("/apple"), ["/app", "/apple"]);
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });

  it("refuses a prefix that is not an absolute path", async () => {
    for (const value of ["app", "/a/../b", "/a?b"]) {
      const outcome = await runCli(["serve", "--root-path", value]);
      assert.equal(outcome.code, 2);
      assert.equal(
        outcome.stderr,
        `wsgiref: --root-path must be an absolute path like /app: '${value}'\n`,
      );
    }
  });
});

describe("wsgiref serve --log-format json", { concurrency: true }, () => {
  it("writes one JSON object per access-log line", async () => {
    const { child, port } = await serveCli(
      ["serve", "environ.js", "--port", "0", "--log-format", "json"],
      { cwd: app.dir },
    );
    await fetchRaw(port, '/a"b?x=1');
    // Refused before Node parsed a request: an error line, then the access line.
    await exchange(port, "NOT HTTP\r\n\r\n");
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0);
    const lines = outcome.stderr
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 3, outcome.stderr);
    const [ok, error, refused] = lines;
    assert.match(String(ok?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { ...ok, time: undefined },
      {
        time: undefined,
        remote_addr: "127.0.0.1",
        request: 'GET /a"b?x=1 HTTP/1.1',
        method: "GET",
        path: '/a"b?x=1',
        protocol: "HTTP/1.1",
        status: 200,
        size: JSON.stringify({
          REMOTE_ADDR: "127.0.0.1",
          SERVER_NAME: "127.0.0.1",
          SERVER_PORT: String(port),
          SCRIPT_NAME: "",
          PATH_INFO: '/a"b',
        }).length,
      },
    );
    assert.equal(error?.message, "code 501, message Not Implemented");
    assert.equal(refused?.status, 501);
  });

  it("refuses a format it does not know", async () => {
    const outcome = await runCli(["serve", "--log-format", "xml"]);
    assert.equal(outcome.code, 2);
    assert.equal(outcome.stderr, "wsgiref: --log-format must be text or json: 'xml'\n");
  });
});

describe("wsgiref --version", () => {
  it("prints the package's version and Node's", async () => {
    for (const flag of ["--version", "-V"]) {
      const outcome = await runCli([flag]);
      assert.equal(outcome.code, 0);
      assert.equal(outcome.stdout, `wsgiref ${VERSION} (Node.js ${process.versions.node})\n`);
    }
  });
});
