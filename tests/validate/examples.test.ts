/**
 * The examples of examples/, validated. First the server examples as they are:
 * each runs in its own `node`, with a preload that wraps whatever application
 * reaches `WSGIServer.setApp()` in `validator()` (as `wsgiref serve --validate`
 * does for a module's export), and answers real requests without an
 * AssertionError or a WSGIWarning on its stderr. Then every example app
 * imported and validated in process, over SimpleHandler and over WSGIServer.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { fileServerApp } from "../../examples/file-server.js";
import { helloWorldApp } from "../../examples/hello-world.js";
import { app as cookieOrBrokenApp } from "../../examples/readme/cookie-or-broken.js";
import { app as readmeHelloApp } from "../../examples/readme/hello.js";
import { app as jsonApiApp } from "../../examples/response/json-api.js";
import { app as malformedApp } from "../../examples/response/malformed.js";
import { app as slowStreamApp } from "../../examples/response/slow-stream.js";
import { simpleApp } from "../../examples/testing-defaults.js";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { ErrorStream, PartialEnvironment, WSGIApplication } from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";
import { validator } from "../../src/validate.js";
import { fetchNode, rawGet } from "../helpers/response-server.js";
import { serve } from "../helpers/server-client.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
const packageJson = new URL("../../../package.json", import.meta.url);

// The examples import wsgiref/simple-server, which the package must export.
const exportsMap = (JSON.parse(readFileSync(packageJson, "utf8")) as { exports?: object }).exports;
const skip =
  exportsMap !== undefined && "./simple-server" in exportsMap
    ? false
    : "package.json does not export ./simple-server yet, which the examples import";

const PRELOAD = `
  import { WSGIServer } from ${JSON.stringify(new URL("../../src/simple-server.js", import.meta.url).href)};
  import { validator } from ${JSON.stringify(new URL("../../src/validate.js", import.meta.url).href)};
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

// ---------------------------------------------------------------------------
// In process: the example apps imported and wrapped in validator(), each run
// over SimpleHandler on in-memory streams and over WSGIServer on 127.0.0.1
// port 0 (STYLE.md §8), with wsgi.errors captured and process.emitWarning
// recorded. demoApp and examples/cgi/app.ts get the same treatment in
// validate-integration.test.ts; validator-demo.ts is non-compliant on purpose
// (examples-server.test.ts checks its 500 and AssertionError); file-wrapper.ts,
// headers.ts and shift-path-info.ts print to stdout and hold no application.

/** A request to one of the gateways. */
interface ExampleRequest {
  method?: string;
  /** Path and query, percent-escapes as sent. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** What the client got. */
interface ExampleReply {
  status: number;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A gateway serving one validated app. */
interface Gateway {
  request(req?: ExampleRequest): Promise<ExampleReply>;
  /** The server's port (undefined in memory, where there is no connection). */
  port: number | undefined;
  /** Everything wsgi.errors received. */
  errors(): string;
  close(): Promise<void>;
}

/** SimpleHandler over in-memory streams, each request with the environ a server would build. */
async function inMemory(app: WSGIApplication): Promise<Gateway> {
  const errors = new StringErrors();
  return {
    port: undefined,
    errors: () => errors.getValue(),
    async request({ method = "GET", path = "/", headers = {}, body = "" } = {}) {
      const [pathPart = "", query = ""] = path.split("?");
      const bytes = Buffer.from(body);
      const environ: PartialEnvironment = {
        REQUEST_METHOD: method,
        PATH_INFO: Buffer.from(decodeURIComponent(pathPart), "utf8").toString("latin1"),
        QUERY_STRING: query,
      };
      for (const [name, value] of Object.entries(headers)) {
        const key = name.toUpperCase().replaceAll("-", "_");
        if (key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") environ[key] = value;
        else environ[`HTTP_${key}`] = value;
      }
      if (bytes.length > 0) environ.CONTENT_LENGTH = String(bytes.length);
      setupTestingDefaults(environ);
      const chunks: Buffer[] = [];
      const stdout = { write: (data: Uint8Array) => void chunks.push(Buffer.from(data)) };
      await new SimpleHandler(new BytesInput(bytes), stdout, errors, environ).run(validator(app));
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      return {
        status: Number(statusLine.split(" ")[1]),
        headers: parsed,
        body: raw.subarray(end + 4),
      };
    },
    async close() {},
  };
}

/** WSGIServer on 127.0.0.1 port 0 serving the validated app, its wsgi.errors captured. */
async function overServer(app: WSGIApplication): Promise<Gateway> {
  const errors = new StringErrors();
  class CapturingHandler extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }
  const running = await serve(validator(app), {}, CapturingHandler);
  return {
    port: running.port,
    errors: () => errors.getValue(),
    async request({ method = "GET", path = "/", headers = {}, body } = {}) {
      const res = await fetchNode(running.port, path, { method, headers, body });
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        flat[name] = Array.isArray(value) ? (value.at(-1) ?? "") : String(value);
      }
      return { status: res.status, headers: flat, body: res.body };
    },
    close: () => running.close(),
  };
}

/** Record the WSGIWarnings emitted during test `t` (other warnings pass through). */
function recordWarnings(t: TestContext): string[] {
  const warnings: string[] = [];
  const emit = process.emitWarning.bind(process);
  t.mock.method(process, "emitWarning", (warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
    if (type === "WSGIWarning" || (warning instanceof Error && warning.name === "WSGIWarning")) {
      warnings.push(String(warning));
    } else {
      (emit as (...args: unknown[]) => void)(warning, ...rest);
    }
  });
  return warnings;
}

/** Run `check` against `app` over each gateway; no AssertionError, no WSGIWarning, nothing on wsgi.errors. */
function eachGateway(
  name: string,
  app: WSGIApplication,
  check: (gateway: Gateway) => Promise<void>,
): void {
  for (const start of [inMemory, overServer]) {
    const where = start === inMemory ? "SimpleHandler" : "WSGIServer";
    it(`${name} passes the validator over ${where}`, async (t) => {
      const warnings = recordWarnings(t);
      const gateway = await start(app);
      try {
        await check(gateway);
      } finally {
        // Once closed, the server has finished every request and logged all it would.
        await gateway.close();
      }
      assert.doesNotMatch(gateway.errors(), /AssertionError/);
      assert.equal(gateway.errors(), "");
      assert.deepEqual(warnings, []);
    });
  }
}

const text = (reply: ExampleReply): string => reply.body.toString("utf8");

describe("validator around the example apps, in process", () => {
  eachGateway("hello-world", helloWorldApp, async (gateway) => {
    const reply = await gateway.request();
    assert.equal(reply.status, 200);
    assert.equal(text(reply), "Hello World");
  });

  eachGateway("testing-defaults", simpleApp, async (gateway) => {
    const reply = await gateway.request({ path: "/x?y=1" });
    assert.equal(reply.status, 200);
    assert.match(text(reply), /^QUERY_STRING: y=1$/m);
    assert.match(text(reply), /^PATH_INFO: \/x$/m);
  });

  eachGateway("file-server", fileServerApp(site), async (gateway) => {
    const home = await gateway.request();
    assert.equal(home.status, 200);
    assert.equal(home.headers["content-type"], "text/html");
    assert.equal(text(home), "<p>home</p>");
    const missing = await gateway.request({ path: "/missing.txt" });
    assert.equal(missing.status, 404);
    assert.equal(text(missing), "not found");
  });

  eachGateway("response/json-api", jsonApiApp, async (gateway) => {
    // The example keeps its list in the module: this test reads its own items back.
    const json = { "Content-Type": "application/json" };
    const created = await gateway.request({
      method: "POST",
      path: "/todos",
      headers: json,
      body: JSON.stringify({ title: "validated" }),
    });
    assert.equal(created.status, 201);
    const todo = JSON.parse(text(created)) as { id: number; title: string };
    assert.equal(todo.title, "validated");
    assert.equal(created.headers.location, `/todos/${todo.id}`);
    const form = await gateway.request({
      method: "POST",
      path: "/todos",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "title=from+a+form",
    });
    assert.equal(form.status, 201);
    const boundary = "wsgiref-boundary";
    const multipart = await gateway.request({
      method: "POST",
      path: "/todos",
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nmultipart\r\n--${boundary}--\r\n`,
    });
    assert.equal(multipart.status, 201, text(multipart));
    const list = await gateway.request({ path: "/todos?done=false" });
    assert.equal(list.status, 200);
    assert.ok(
      (JSON.parse(text(list)) as Array<{ id: number }>).some((t) => t.id === todo.id),
      text(list),
    );
    assert.equal((await gateway.request({ path: `/todos/${todo.id}` })).status, 200);
    const deleted = await gateway.request({ method: "DELETE", path: `/todos/${todo.id}` });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body.length, 0);
    const missing = await gateway.request({ path: `/todos/${todo.id}` });
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(text(missing)), {
      error: { code: 404, message: `no such todo: /todos/${todo.id}` },
    });
    assert.equal((await gateway.request({ method: "PUT", path: "/todos" })).status, 405);
    const untitled = await gateway.request({
      method: "POST",
      path: "/todos",
      headers: json,
      body: "not json",
    });
    assert.equal(untitled.status, 400);
  });

  eachGateway("response/slow-stream", slowStreamApp, async (gateway) => {
    const reply = await gateway.request({ path: "/?lines=3&delay=0" });
    assert.equal(reply.status, 200);
    assert.equal(text(reply), "line 1 of 3\nline 2 of 3\nline 3 of 3\n");
  });

  eachGateway("readme/hello", readmeHelloApp, async (gateway) => {
    const reply = await gateway.request({ path: "/you" });
    assert.equal(reply.status, 200);
    assert.equal(text(reply), "Hello, /you!\n");
  });

  eachGateway("readme/cookie-or-broken (the cookie)", cookieOrBrokenApp, async (gateway) => {
    const reply = await gateway.request({ headers: { Cookie: "seen=1" } });
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(text(reply)), { hello: "1" });
    assert.equal(
      reply.headers["set-cookie"],
      "seen=1; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax",
    );
  });

  // Raw output needs the connection (environ["wsgiref.connection"]), which only
  // the server offers: under SimpleHandler these handlers throw by design (SPEC
  // §9; response-writer.test.ts checks that 500), so they run over the server
  // only. The validator sees the well-formed start the Response API gives the
  // gateway, and the bytes on the wire are what the handler wrote.
  it("readme/cookie-or-broken (?broken) and response/malformed pass the validator over WSGIServer, raw bytes unchanged", async (t) => {
    const warnings = recordWarnings(t);
    const broken = await overServer(cookieOrBrokenApp);
    const validated = await overServer(malformedApp);
    const plain = await serve(malformedApp);
    try {
      assert.equal(
        await rawGet(broken.port as number, "/?broken"),
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
      );
      for (const path of [
        "/no-reason",
        "/bad-header",
        "/short-body",
        "/two-lengths",
        "/bad-chunk",
        "/no-length",
        "/http09",
        "/other",
      ]) {
        const bytes = await rawGet(validated.port as number, path);
        assert.equal(bytes, await rawGet(plain.port, path), path);
      }
    } finally {
      await Promise.all([broken.close(), validated.close(), plain.close()]);
    }
    assert.equal(broken.errors() + validated.errors(), "");
    assert.deepEqual(warnings, []);
  });
});
