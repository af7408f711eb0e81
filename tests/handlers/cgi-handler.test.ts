/**
 * BaseCGIHandler byte for byte against Python's, and CGIHandler, IISCGIHandler and
 * readEnviron in child processes whose environment holds raw request bytes.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { BaseCGIHandler } from "../../src/handlers/cgi-handler.js";
import { FdErrors, FdInput, FdOutput } from "../../src/internal/fd-io.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { PartialEnvironment } from "../../src/types.js";
import { pythonCases } from "../fixtures/cgi/apps.js";

const fixtures = fileURLToPath(new URL("../../../tests/fixtures/cgi/", import.meta.url));
const runScript = fileURLToPath(new URL("../fixtures/cgi/run.js", import.meta.url));
const printEnviron = fileURLToPath(new URL("../fixtures/cgi/print-environ.js", import.meta.url));

/** The environ generate-expected.py gives every case. */
const BASE: Record<string, string> = {
  REQUEST_METHOD: "GET",
  SCRIPT_NAME: "/app.cgi",
  PATH_INFO: "/",
  QUERY_STRING: "",
  SERVER_NAME: "127.0.0.1",
  SERVER_PORT: "80",
  SERVER_PROTOCOL: "HTTP/1.1",
  GATEWAY_INTERFACE: "CGI/1.1",
};

/** What each case changes in BASE, and its request body (as in generate-expected.py). */
const CASE_ENVIRON: Record<string, [Record<string, string>, string]> = {
  head: [{ REQUEST_METHOD: "HEAD" }, ""],
  echo: [
    { REQUEST_METHOD: "POST", PATH_INFO: "/caf\u00c3\u00a9/\u0080", CONTENT_LENGTH: "5" },
    "abcde",
  ],
  http09: [{ SERVER_PROTOCOL: "HTTP/0.9" }, ""],
};

/** Python's output for a case, committed by generate-expected.py. */
function expected(name: string): Buffer {
  return readFileSync(join(fixtures, `${name}.out`));
}

/** A `SimpleHandler` stdout that keeps what it is given. */
class Sink {
  readonly chunks: Buffer[] = [];
  write(data: Uint8Array): number {
    this.chunks.push(Buffer.from(data));
    return data.length;
  }
  flush(): void {}
  get value(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface ChildResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

interface ChildOptions {
  /** The whole environment: strings are UTF-8, Buffers are raw bytes. */
  env: Record<string, string | Buffer>;
  /** Written to the child's stdin (after `ready` on stderr when `waitReady`). */
  stdin?: Buffer;
  /** Leave stdin open after writing, as a CGI server may. */
  keepStdinOpen?: boolean;
  /** Write stdin only once the child says `ready` on stderr. */
  waitReady?: boolean;
}

/** `printf '%b'` argument that makes exactly these bytes. */
function printfBytes(bytes: Buffer): string {
  return [...bytes].map((b) => `\\0${b.toString(8).padStart(3, "0")}`).join("");
}

/**
 * Run `node <args>` with exactly `env` as its environment, raw bytes included.
 *
 * Node's `spawn` encodes environment strings as UTF-8, so bytes such as 0x80
 * cannot be passed through it: a shell builds them with `printf` and execs
 * `env -i`. NODE_V8_COVERAGE is passed on so c8 sees the child's coverage.
 */
function runChild(args: string[], options: ChildOptions): Promise<ChildResult> {
  const env = { ...options.env };
  const coverage = process.env.NODE_V8_COVERAGE;
  if (coverage !== undefined) env.NODE_V8_COVERAGE = coverage;
  const assignments = Object.entries(env)
    .map(([key, value]) => {
      const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
      return `"${key}=$(printf '%b' '${printfBytes(bytes)}')"`;
    })
    .join(" ");
  const child = spawn(
    "/bin/sh",
    ["-c", `exec env -i ${assignments} "$@"`, "sh", process.execPath, ...args],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => stdout.push(c));
  const feed = (): void => {
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
    if (options.keepStdinOpen !== true) child.stdin.end();
  };
  let fed = false;
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    if (options.waitReady === true && !fed && stderr.includes("ready\n")) {
      fed = true;
      feed();
    }
  });
  if (options.waitReady !== true) feed();
  // The child may exit without reading all of stdin: that is the point of some tests.
  child.stdin.on("error", () => {});
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      child.stdin.destroy();
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** Run one of the test apps as a CGI script; `kind` is `cgi` or `iis`. */
function runCgi(
  app: string,
  env: Record<string, string | Buffer>,
  options: Omit<ChildOptions, "env"> & { kind?: string; nonblock?: boolean } = {},
): Promise<ChildResult> {
  const args = [runScript, app, options.kind ?? "cgi"];
  if (options.nonblock === true) args.push("--nonblock");
  return runChild(args, { ...options, env });
}

/** The JSON a child printed, with wsgiref's coverage plumbing left out. */
function json(result: ChildResult): Record<string, unknown> {
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString("utf8");
  const parsed = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
  delete parsed.NODE_V8_COVERAGE;
  return parsed;
}

describe("readEnviron", () => {
  it("recovers the raw bytes of request variables as latin-1 strings", async () => {
    const result = await runChild([printEnviron], {
      env: {
        PATH_INFO: Buffer.from("/caf\xc3\xa9/\x80", "latin1"),
        HTTP_X_NAME: Buffer.from("caf\xe9", "latin1"),
        QUERY_STRING: "q=%C3%A9",
        SSL_CLIENT_S_DN: "CN=Jos\u00e9",
        REDIRECT_REDIRECT_PATH_INFO: Buffer.from("/\xff", "latin1"),
        REDIRECT_STATUS: "200",
        PLAIN_UTF8: "caf\u00e9",
        PLAIN_INVALID: Buffer.from("\x80", "latin1"),
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const environ = JSON.parse(result.stdout.toString("utf8")) as Record<string, string>;
    delete environ.NODE_V8_COVERAGE;
    assert.deepEqual(environ, {
      PATH_INFO: "/caf\u00c3\u00a9/\u0080",
      HTTP_X_NAME: "caf\u00e9",
      QUERY_STRING: "q=%C3%A9",
      SSL_CLIENT_S_DN: "CN=Jos\u00c3\u00a9",
      REDIRECT_REDIRECT_PATH_INFO: "/\u00ff",
      // Not a request variable behind REDIRECT_: Node's own decoding.
      REDIRECT_STATUS: "200",
      PLAIN_UTF8: "caf\u00e9",
      PLAIN_INVALID: "\ufffd",
    });
  });

  it("sees process.env as it is now, request variables set later as their UTF-8 bytes", async () => {
    const result = await runChild([printEnviron, "--mutate"], {
      env: {
        PATH_INFO: Buffer.from("/\x80", "latin1"),
        HTTP_KEPT: Buffer.from("\xe9", "latin1"),
        HTTP_REMOVED: "x",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const environ = JSON.parse(result.stdout.toString("utf8")) as Record<string, string>;
    delete environ.NODE_V8_COVERAGE;
    assert.deepEqual(environ, {
      PATH_INFO: "/set-later/\u00c3\u00a9",
      HTTP_KEPT: "\u00e9",
      HTTP_ADDED: "added",
      PLAIN_ADDED: "\u00e9",
    });
  });
  it("falls back to process.env elsewhere: request variables as UTF-8 bytes, invalid bytes lost", async () => {
    const result = await runChild([printEnviron, "--platform=darwin"], {
      env: {
        PATH_INFO: Buffer.from("/caf\xc3\xa9/\x80", "latin1"),
        HTTP_X_NAME: "caf\u00e9",
        PLAIN: "caf\u00e9",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const environ = JSON.parse(result.stdout.toString("utf8")) as Record<string, string>;
    delete environ.NODE_V8_COVERAGE;
    assert.deepEqual(environ, {
      // U+FFFD, Node's replacement for 0x80, as its UTF-8 bytes EF BF BD.
      PATH_INFO: "/caf\u00c3\u00a9/\u00ef\u00bf\u00bd",
      HTTP_X_NAME: "caf\u00c3\u00a9",
      PLAIN: "caf\u00e9",
    });
  });

  it("keeps Apache's latin-1 request variables as they are on Windows, as Python does", async () => {
    const env = { SERVER_SOFTWARE: "Apache/2.4.62 (Win64)", PATH_INFO: "/caf\u00e9" };
    const apache = await runChild([printEnviron, "--platform=win32"], { env });
    const iis = await runChild([printEnviron, "--platform=win32"], {
      env: { ...env, SERVER_SOFTWARE: "Microsoft-IIS/10.0" },
    });
    assert.equal(
      (JSON.parse(apache.stdout.toString("utf8")) as Record<string, string>).PATH_INFO,
      "/caf\u00e9",
    );
    assert.equal(
      (JSON.parse(iis.stdout.toString("utf8")) as Record<string, string>).PATH_INFO,
      "/caf\u00c3\u00a9",
    );
  });
});

describe("BaseCGIHandler", () => {
  for (const [name, app] of Object.entries(pythonCases)) {
    it(`writes what Python's BaseCGIHandler writes: ${name}`, async () => {
      const [extra, body] = CASE_ENVIRON[name] ?? [{}, ""];
      const stdout = new Sink();
      const stderr = new StringErrors();
      const handler = new BaseCGIHandler(
        new BytesInput(Buffer.from(body, "latin1")),
        stdout,
        stderr,
        { ...BASE, ...extra },
      );
      await handler.run(app);
      assert.deepEqual(stdout.value, expected(name));
      if (name.startsWith("error")) {
        assert.match(stderr.getValue(), /Error: (late )?boom\n\s+at /);
      } else {
        assert.equal(stderr.getValue(), "");
      }
    });
  }

  it("keeps SimpleHandler's flags and is not an origin server", async () => {
    let seen: PartialEnvironment = {};
    const handler = new BaseCGIHandler(new BytesInput(), new Sink(), new StringErrors(), BASE);
    assert.equal(handler.originServer, false);
    await handler.run((environ, startResponse) => {
      seen = environ;
      startResponse("200 OK", []);
      return [];
    });
    assert.equal(seen["wsgi.run_once"], false);
    assert.equal(seen["wsgi.multithread"], true);
    assert.equal(seen["wsgi.multiprocess"], false);
  });
});

describe("CGIHandler", () => {
  it("serves a request from its process's environment, fd 0 and fd 1, as Python does", async () => {
    const result = await runCgi(
      "echo",
      {
        ...BASE,
        REQUEST_METHOD: "POST",
        PATH_INFO: Buffer.from("/caf\xc3\xa9/\x80", "latin1"),
        CONTENT_LENGTH: "5",
      },
      // Five bytes of body, then more, and stdin left open: the handler must stop
      // at CONTENT_LENGTH instead of waiting for an end of file that never comes.
      { stdin: Buffer.from("abcdeEXTRA"), keepStdinOpen: true },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.deepEqual(result.stdout, expected("echo"));
  });

  it("runs once per process: run_once and multiprocess true, multithread false, no os environ", async () => {
    const environ = json(await runCgi("environ", BASE));
    assert.equal(environ["wsgi.run_once"], true);
    assert.equal(environ["wsgi.multithread"], false);
    assert.equal(environ["wsgi.multiprocess"], true);
    assert.deepEqual(environ["wsgi.version"], [1, 0]);
    assert.equal(environ["wsgi.url_scheme"], "http");
    // Exactly the CGI variables it was started with, plus wsgi.*.
    assert.deepEqual(
      Object.keys(environ)
        .filter((k) => !k.startsWith("wsgi."))
        .sort(),
      Object.keys(BASE).sort(),
    );
  });

  it("drops HTTP_PROXY, a request's Proxy: header, from process.env and the environ (httpoxy)", async () => {
    for (const kind of ["cgi", "iis"]) {
      const seen = json(
        await runCgi(
          "proxy",
          { ...BASE, HTTP_PROXY: "http://attacker.example:8080", http_proxy: "http://admin:3128" },
          { kind },
        ),
      );
      assert.deepEqual(seen, { environ: null, env: null, lower: "http://admin:3128" }, kind);
    }
  });

  it("keeps HTTP_PROXY outside a CGI request (no REQUEST_METHOD)", async () => {
    const { REQUEST_METHOD: _m, ...notCgi } = BASE;
    const seen = json(await runCgi("proxy", { ...notCgi, HTTP_PROXY: "http://proxy:3128" }));
    assert.deepEqual(seen, { environ: "http://proxy:3128", env: "http://proxy:3128", lower: null });
  });

  it("sees HTTPS=on as the https scheme", async () => {
    const environ = json(await runCgi("environ", { ...BASE, HTTPS: "on" }));
    assert.equal(environ["wsgi.url_scheme"], "https");
  });

  it("reads wsgi.input to end of file when CONTENT_LENGTH is absent", async () => {
    const result = await runCgi(
      "lines",
      { ...BASE, REQUEST_METHOD: "POST" },
      {
        stdin: Buffer.from("one\ntwo\n\xe9", "latin1"),
      },
    );
    assert.deepEqual(json(result), ["one\n", "two\n", "\u00e9"] as unknown);
  });

  it("reads nothing when CONTENT_LENGTH is 0, though stdin stays open", async () => {
    const result = await runCgi(
      "upload",
      { ...BASE, REQUEST_METHOD: "POST", CONTENT_LENGTH: "0" },
      { stdin: Buffer.from("ignored"), keepStdinOpen: true },
    );
    assert.equal(json(result).length, 0);
  });

  it("writes a 500 to fd 1 and the stack to fd 2 when the app throws", async () => {
    const result = await runCgi("error-before-headers", BASE);
    assert.equal(result.code, 0);
    assert.deepEqual(result.stdout, expected("error-before-headers"));
    assert.match(result.stderr, /^Error: boom\n\s+at /);
  });

  it("waits out EAGAIN on a non-blocking stdin", async () => {
    const body = Buffer.alloc(300_000, 0x61);
    const result = await runCgi(
      "upload",
      { ...BASE, REQUEST_METHOD: "POST", CONTENT_LENGTH: String(body.length) },
      { stdin: body, waitReady: true, keepStdinOpen: true, nonblock: true },
    );
    assert.equal(result.stderr, "ready\n");
    assert.equal(json(result).length, body.length);
  });

  it("ends quietly when the server closes its stdout (client gone): EPIPE", async () => {
    const child = spawn(process.execPath, [runScript, "big"], {
      env: {
        ...BASE,
        ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    // Read the first bytes, then hang up, as a CGI server does when its client leaves.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0);
    assert.equal(stderr, "");
  });

  it("waits out EAGAIN on a non-blocking stdout", async () => {
    const result = await runCgi("big", BASE, { nonblock: true });
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout.toString("latin1");
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    assert.equal(body.length, 16 * 65536);
    assert.equal(
      body,
      Array.from({ length: 16 }, (_, i) => String.fromCharCode(0x41 + i).repeat(65536)).join(""),
    );
  });
});

describe("IISCGIHandler", () => {
  const IIS: Record<string, string | Buffer> = { ...BASE, SERVER_SOFTWARE: "Microsoft-IIS/10.0" };
  const cases: Array<[string, Record<string, string | Buffer>, string]> = [
    [
      "removes the repeated SCRIPT_NAME",
      { SCRIPT_NAME: "/app.cgi", PATH_INFO: "/app.cgi/x/y" },
      "/x/y",
    ],
    [
      "leaves an empty PATH_INFO when it was only SCRIPT_NAME",
      { SCRIPT_NAME: "/app.cgi", PATH_INFO: "/app.cgi" },
      "",
    ],
    [
      "keeps a PATH_INFO that only shares a prefix",
      { SCRIPT_NAME: "/app", PATH_INFO: "/apple/x" },
      "/apple/x",
    ],
    [
      "keeps a PATH_INFO that does not repeat SCRIPT_NAME",
      { SCRIPT_NAME: "/app.cgi", PATH_INFO: "/x" },
      "/x",
    ],
    ["keeps PATH_INFO when SCRIPT_NAME is empty", { SCRIPT_NAME: "", PATH_INFO: "/x" }, "/x"],
    [
      "works on the raw bytes",
      {
        SCRIPT_NAME: Buffer.from("/caf\xc3\xa9.cgi", "latin1"),
        PATH_INFO: Buffer.from("/caf\xc3\xa9.cgi/\x80", "latin1"),
      },
      "/\u0080",
    ],
  ];
  for (const [title, env, pathInfo] of cases) {
    it(`${title}: PATH_INFO becomes ${JSON.stringify(pathInfo)}`, async () => {
      const environ = json(await runCgi("environ", { ...IIS, ...env }, { kind: "iis" }));
      assert.equal(environ.PATH_INFO, pathInfo);
      assert.equal(environ["wsgi.run_once"], true);
      assert.equal(environ["wsgi.multiprocess"], true);
    });
  }

  it("sets PATH_INFO to '' when neither variable is set, as Python does", async () => {
    const { SCRIPT_NAME: _s, PATH_INFO: _p, ...rest } = IIS;
    const environ = json(await runCgi("environ", rest, { kind: "iis" }));
    assert.equal(environ.PATH_INFO, "");
  });

  it("is not applied by CGIHandler", async () => {
    const environ = json(
      await runCgi("environ", { ...IIS, SCRIPT_NAME: "/app.cgi", PATH_INFO: "/app.cgi/x" }),
    );
    assert.equal(environ.PATH_INFO, "/app.cgi/x");
  });
});

describe("FdInput, FdOutput, FdErrors (internal)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "wsgiref-fd-io-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** An FdInput over a file holding `content`, closed after `use`. */
  function withInput(
    content: string,
    limit: number | undefined,
    use: (input: FdInput) => void,
  ): void {
    const path = join(dir, "input");
    writeFileSync(path, content, "latin1");
    const fd = openSync(path, "r");
    try {
      use(new FdInput(fd, limit));
    } finally {
      closeSync(fd);
    }
  }
  const str = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

  it("reads sizes as Python's buffered reader, never past the limit", () => {
    withInput("abcdefghij", 8, (input) => {
      assert.equal(str(input.read(3)), "abc");
      assert.equal(str(input.read(0)), "");
      assert.equal(str(input.read(-1)), "defgh");
      assert.equal(str(input.read()), "");
      assert.equal(str(input.read(5)), "");
    });
  });

  it("reads lines, with size limits, hints and iteration", () => {
    const text = "one\ntwo\nthree\nfour";
    withInput(text, undefined, (input) => {
      assert.equal(str(input.readline(2)), "on");
      assert.equal(str(input.readline()), "e\n");
      assert.equal(str(input.readline(4)), "two\n");
      assert.deepEqual(input.readlines(3).map(str), ["three\n"]);
      assert.deepEqual([...input].map(str), ["four"]);
      assert.equal(str(input.readline()), "");
    });
    withInput(text, undefined, (input) => {
      assert.deepEqual(input.readlines().map(str), ["one\n", "two\n", "three\n", "four"]);
    });
    withInput(text, 6, (input) => {
      assert.deepEqual(input.readlines(0).map(str), ["one\n", "tw"]);
    });
  });

  it("reads a body longer than one chunk whole", () => {
    const big = "x".repeat(200_000);
    withInput(big, undefined, (input) => {
      assert.equal(input.read().length, big.length);
    });
    withInput(`${big}\nend`, undefined, (input) => {
      assert.equal(input.readline().length, big.length + 1);
      assert.equal(str(input.read(10)), "end");
    });
  });

  /**
   * Count the bytes Buffer#indexOf searches, Buffer#copy copies and
   * Buffer.concat joins while `read` runs over a file of `size` bytes of "a".
   */
  function touchedReading(t: TestContext, size: number, read: (input: FdInput) => void): number {
    const path = join(dir, "long-line");
    writeFileSync(path, Buffer.alloc(size, 0x61));
    let touched = 0;
    const { indexOf, copy } = Buffer.prototype;
    const concat = Buffer.concat;
    t.mock.method(Buffer.prototype, "indexOf", function (this: Buffer, ...args: unknown[]) {
      const from = typeof args[1] === "number" ? args[1] : 0;
      touched += this.length - Math.max(0, from);
      return (indexOf as (...a: unknown[]) => number).apply(this, args);
    });
    t.mock.method(Buffer.prototype, "copy", function (this: Buffer, ...args: unknown[]) {
      const copied = (copy as (...a: unknown[]) => number).apply(this, args);
      touched += copied;
      return copied;
    });
    t.mock.method(Buffer, "concat", (...args: Parameters<typeof Buffer.concat>) => {
      const joined = concat(...args);
      touched += joined.length;
      return joined;
    });
    const fd = openSync(path, "r");
    try {
      read(new FdInput(fd));
    } finally {
      t.mock.restoreAll();
      closeSync(fd);
    }
    return touched;
  }

  it("reads a 32 MiB line touching each byte a bounded number of times, not once per read", (t) => {
    // No timing: the work is counted. Searching the whole buffer again after each
    // 64 KiB read touched some 8 GiB for this line.
    const size = 32 * 1024 * 1024;
    const touched = touchedReading(t, size, (input) => {
      assert.equal(input.readline().length, size);
      assert.equal(input.readline().length, 0);
    });
    assert.ok(touched <= 3 * size, `${touched} bytes touched for a line of ${size}`);
  });

  it("reads a long line in small pieces searching no more than each piece", (t) => {
    // readline(100) over a 1 MiB line: each call searched a whole 64 KiB chunk.
    const size = 1024 * 1024;
    const touched = touchedReading(t, size, (input) => {
      let total = 0;
      for (let piece = input.readline(100); piece.length > 0; piece = input.readline(100)) {
        assert.ok(piece.length <= 100);
        total += piece.length;
      }
      assert.equal(total, size);
    });
    assert.ok(touched <= 3 * size, `${touched} bytes touched for a line of ${size}`);
  });

  it("refuses sizes that are not integers", () => {
    withInput("abc", undefined, (input) => {
      assert.throws(() => input.read(1.5), TypeError);
      assert.throws(() => input.readline(Number.NaN), TypeError);
      assert.throws(() => input.readlines(0.5), TypeError);
    });
  });

  it("writes all bytes and text, synchronously", () => {
    const path = join(dir, "output");
    const fd = openSync(path, "w");
    try {
      const out = new FdOutput(fd);
      assert.equal(out.write(Buffer.from("bytes;")), 6);
      out.flush();
      const errors = new FdErrors(fd);
      errors.write("caf\u00e9;");
      errors.writelines(["a", "b"]);
      errors.flush();
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(path, "utf8"), "bytes;caf\u00e9;ab");
  });

  it("passes on errors other than EAGAIN", () => {
    const path = join(dir, "wrong-way");
    writeFileSync(path, "x");
    const readOnly = openSync(path, "r");
    const writeOnly = openSync(path, "a");
    try {
      assert.throws(() => new FdInput(writeOnly).read(), { code: "EBADF" });
      assert.throws(() => new FdOutput(readOnly).write(Buffer.from("x")), { code: "EBADF" });
    } finally {
      closeSync(readOnly);
      closeSync(writeOnly);
    }
  });
});
