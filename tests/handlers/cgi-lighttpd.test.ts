/**
 * CGIHandler as a real CGI script: lighttpd (mod_cgi) runs one node process per
 * request; requests come from curl, node:http and raw sockets.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LighttpdServer, lighttpdSkipReason } from "../helpers/lighttpd.js";

const runUrl = new URL("../fixtures/cgi/run.js", import.meta.url).href;
const exampleLauncher = fileURLToPath(new URL("../../../examples/cgi/hello.mjs", import.meta.url));
const handlersEntry = fileURLToPath(new URL("../../src/handlers/index.js", import.meta.url));
const run = promisify(execFile);

/** A CGI script for lighttpd that runs one of the test apps (tests/fixtures/cgi/apps.ts). */
function script(app: string): string {
  return `import { runCgi } from ${JSON.stringify(runUrl)};\nawait runCgi(${JSON.stringify(app)});\n`;
}

const APPS = ["environ", "upload", "stream", "crash", "raw-write"];

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * Send `head` (request line and header lines, no final blank line) and `body`
 * over a raw socket as HTTP/1.0, and parse the response read to the close.
 */
function rawRequest(port: number, head: Buffer, body = Buffer.alloc(0)): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const data = Buffer.concat(chunks);
      const split = data.indexOf("\r\n\r\n");
      const lines = data.subarray(0, split).toString("latin1").split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({
        status: Number(lines[0]?.split(" ")[1]),
        headers,
        body: data.subarray(split + 4),
      });
    });
    socket.write(Buffer.concat([head, Buffer.from("\r\nHost: 127.0.0.1\r\n\r\n"), body]));
  });
}

/** The environ the `environ` app returns, without the coverage plumbing. */
function environOf(body: Buffer): Record<string, unknown> {
  const environ = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  delete environ.NODE_V8_COVERAGE;
  return environ;
}

describe("CGIHandler under lighttpd", { skip: lighttpdSkipReason() }, () => {
  let server: LighttpdServer;

  before(async () => {
    const files: Record<string, string> = {};
    for (const app of APPS) files[`${app}.mjs`] = script(app);
    const coverage = process.env.NODE_V8_COVERAGE;
    server = await LighttpdServer.start({
      files,
      // Node by absolute path: lighttpd gives CGI scripts no PATH.
      cgiAssign: { ".mjs": process.execPath },
      cgiEnv: coverage === undefined ? {} : { NODE_V8_COVERAGE: coverage },
      // Send the script's output as it comes (by default lighttpd buffers it whole).
      extraConfig: "server.stream-response-body = 2",
    });
  });

  after(async () => {
    await server?.stop();
  });

  it("passes QUERY_STRING and the CGI variables (curl)", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "--fail",
      `${server.origin}/environ.mjs?name=caf%C3%A9&x=1+2`,
    ]);
    const environ = environOf(Buffer.from(stdout, "utf8"));
    assert.equal(environ.QUERY_STRING, "name=caf%C3%A9&x=1+2");
    assert.equal(environ.REQUEST_METHOD, "GET");
    assert.equal(environ.SCRIPT_NAME, "/environ.mjs");
    assert.equal(environ.GATEWAY_INTERFACE, "CGI/1.1");
    assert.equal(environ.SERVER_PORT, String(server.port));
    assert.match(String(environ.SERVER_SOFTWARE), /^lighttpd\//);
    assert.equal(environ["wsgi.run_once"], true);
    assert.equal(environ["wsgi.multiprocess"], true);
    assert.equal(environ["wsgi.multithread"], false);
    assert.equal(environ["wsgi.url_scheme"], "http");
  });

  it("reads a 5 MiB POST body through wsgi.input", async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const result = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: server.port,
          path: "/upload.mjs",
          method: "POST",
          agent: false,
          headers: { "Content-Type": "application/octet-stream", "Content-Length": body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), {
      length: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  });

  it("streams a response: the first chunk reaches the client before the app yields the next", {
    timeout: 30_000,
  }, async () => {
    const gate = join(server.dir, `gate-${randomBytes(4).toString("hex")}`);
    const response = await new Promise<{ headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: server.port,
            path: `/stream.mjs?${encodeURIComponent(gate)}`,
            agent: false,
          },
          (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              body += c;
              // The app waits for this file before producing chunks 1 to 4.
              if (body.startsWith("chunk 0\n") && !existsSync(gate)) writeFileSync(gate, "");
            });
            res.on("end", () => resolve({ headers: res.headers, body }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
    assert.equal(response.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    assert.equal(response.headers["content-length"], undefined);
    assert.equal(response.headers["transfer-encoding"], "chunked");
    assert.equal(response.headers["content-type"], "text/plain");
  });

  it("answers 500 to an app error, with the stack in lighttpd's log, not in the body", async () => {
    const marker = `marker-${randomBytes(6).toString("hex")}`;
    const response = await rawRequest(
      server.port,
      Buffer.from(`GET /crash.mjs?${marker} HTTP/1.0`),
    );
    assert.equal(response.status, 500);
    assert.equal(
      response.body.toString(),
      "A server error occurred.  Please contact the administrator.",
    );
    assert.equal(response.headers.get("content-type"), "text/plain");
    // CGI stderr is lighttpd's breakage log. The script has exited before the
    // response ends, so its stack is already there.
    const log = server.readBreakageLog();
    assert.match(log, new RegExp(`Error: app crashed: ${marker}\\n\\s+at `));
  });

  it("answers 500 to a raw write of a wsgiref/response handler, the reason in lighttpd's log", async () => {
    const marker = `marker-${randomBytes(6).toString("hex")}`;
    const response = await rawRequest(
      server.port,
      Buffer.from(`GET /raw-write.mjs?${marker} HTTP/1.0`),
    );
    // The gateway's own error page, whole: none of the handler's bytes got out.
    assert.equal(response.status, 500);
    assert.equal(
      response.body.toString(),
      "A server error occurred.  Please contact the administrator.",
    );
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(response.headers.get("x-marker"), undefined);
    assert.ok(!response.body.includes(marker));
    const log = server.readBreakageLog();
    assert.match(
      log,
      /Error: raw output .* needs environ\['wsgiref\.connection'\], which this gateway does not offer; serve the handler with wsgiref\/simple-server, or keep to the WSGI path\n\s+at /,
    );
  });

  it("passes non-ASCII path bytes as the latin-1 string of those bytes", async () => {
    const response = await rawRequest(
      server.port,
      Buffer.from("GET /environ.mjs/caf%C3%A9/%80?q=%80 HTTP/1.0"),
    );
    assert.equal(response.status, 200, response.body.toString());
    const environ = environOf(response.body);
    // lighttpd percent-decodes PATH_INFO to raw bytes: C3 A9 and a lone 80.
    assert.equal(environ.PATH_INFO, "/caf\u00c3\u00a9/\u0080");
    // REQUEST_URI and QUERY_STRING stay percent-encoded, as lighttpd received them.
    assert.equal(environ.REQUEST_URI, "/environ.mjs/caf%C3%A9/%80?q=%80");
    assert.equal(environ.QUERY_STRING, "q=%80");
  });

  it("passes a header byte 0xE9 as \\u00e9", async () => {
    const response = await rawRequest(
      server.port,
      Buffer.from("GET /environ.mjs HTTP/1.0\r\nX-Name: caf\xe9", "latin1"),
    );
    assert.equal(response.status, 200, response.body.toString());
    assert.equal(environOf(response.body).HTTP_X_NAME, "caf\u00e9");
  });
});

describe("examples/cgi/hello.mjs under lighttpd", {
  skip: lighttpdSkipReason() || (existsSync(handlersEntry) ? false : "wsgiref/handlers not built"),
}, () => {
  let server: LighttpdServer;

  before(async () => {
    server = await LighttpdServer.start({ cgiAssign: { ".mjs": process.execPath } });
    // A symlink, as a user would link the launcher into cgi-bin: Node resolves it,
    // so the launcher's imports resolve from the repository.
    symlinkSync(exampleLauncher, `${server.docRoot}/hello.mjs`);
  });

  after(async () => {
    await server?.stop();
  });

  it("greets and shows the decoded path and query (curl)", async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "--fail",
      "--data-binary",
      "12345",
      `${server.origin}/hello.mjs/caf%C3%A9?x=1`,
    ]);
    assert.equal(
      stdout,
      [
        "Hello from CGI!",
        "",
        "method:       POST",
        "script name:  /hello.mjs",
        "path info:    /caf\u00e9",
        "query string: x=1",
        "body bytes:   5",
        "run once:     true",
        "",
      ].join("\n"),
    );
  });
});
