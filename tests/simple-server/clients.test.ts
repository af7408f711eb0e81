/**
 * The simple server against real clients: curl (chunked upload, HTTP/1.0, HEAD,
 * Expect: 100-continue) and Python's http.client (keep-alive, chunked upload,
 * HEAD, an error after the headers).
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import { StringErrors } from "../../src/streams.js";
import type { ErrorStream, WSGIApplication } from "../../src/types.js";
import { needs } from "../helpers/peers.js";
import { type Running, serve } from "../helpers/server-client.js";

const run = promisify(execFile);

/** Echo method, length, CONTENT_LENGTH and sha256 of the body; /fail fails mid-body. */
const echo: WSGIApplication = (environ, startResponse) => {
  if (environ.PATH_INFO === "/fail") {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return (function* () {
      yield Buffer.from("half");
      throw new Error("failed mid-body");
    })();
  }
  const body = environ["wsgi.input"]!.read();
  const text = JSON.stringify({
    method: environ.REQUEST_METHOD,
    protocol: environ.SERVER_PROTOCOL,
    length: body.length,
    contentLength: environ.CONTENT_LENGTH,
    sha256: createHash("sha256").update(body).digest("hex"),
    port: environ.REMOTE_PORT,
  });
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [Buffer.from(text)];
};

class Quiet extends WSGIRequestHandler {
  static errors = new StringErrors();
  override getStderr(): ErrorStream {
    return Quiet.errors;
  }
}

const sha = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

describe("WSGIServer with curl", { skip: needs("curl") }, () => {
  let server: Running;
  let base = "";
  before(async () => {
    server = await serve(echo, { maxBodySize: 4 * 1024 * 1024 }, Quiet);
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  const curl = (...args: string[]) => run("curl", ["-sS", ...args], { timeout: 10_000 });

  it("uploads a chunked body, which the app receives de-chunked with CONTENT_LENGTH", async () => {
    const body = "z".repeat(100_000);
    const child = execFile(
      "curl",
      ["-sS", "-T", "-", "-H", "Transfer-Encoding: chunked", "-H", "Expect:", `${base}/up`],
      { timeout: 10_000 },
    );
    const output = new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`)),
      );
    });
    child.stdin?.end(body);
    const result = JSON.parse(await output) as Record<string, unknown>;
    assert.deepEqual(result.length, 100_000);
    assert.equal(result.contentLength, "100000");
    assert.equal(result.sha256, sha(body));
  });

  it("speaks HTTP/1.0", async () => {
    const { stdout } = await curl("--http1.0", "-i", `${base}/old`);
    assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(stdout, /\r\nConnection: close\r\n/);
    assert.equal(JSON.parse(stdout.slice(stdout.indexOf("\r\n\r\n") + 4)).protocol, "HTTP/1.0");
  });

  it("answers HEAD with headers only", async () => {
    const { stdout } = await curl("-I", `${base}/head`);
    assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(stdout, /\r\nContent-Length: \d+\r\n/);
    assert.ok(stdout.endsWith("\r\n\r\n"));
  });

  it("answers 100 Continue, then receives the body", async () => {
    const { stdout, stderr } = await curl(
      "-v",
      "-H",
      "Expect: 100-continue",
      "--data-binary",
      "payload",
      `${base}/expect`,
    );
    assert.match(stderr, /< HTTP\/1\.1 100 Continue/);
    assert.equal(JSON.parse(stdout).sha256, sha("payload"));
  });

  it("refuses a body over maxBodySize with 413 instead of 100 Continue", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61).toString();
    const child = execFile(
      "curl",
      [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "@-",
        `${base}/big`,
      ],
      { timeout: 10_000 },
    );
    const code = new Promise<string>((resolve) => {
      let out = "";
      child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.on("close", () => resolve(out));
    });
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(big);
    assert.equal(await code, "413");
  });
});

const PYTHON_CLIENT = `
import http.client, json, sys
port = int(sys.argv[1])
out = {}
conn = http.client.HTTPConnection("127.0.0.1", port)
conn.request("GET", "/a")
r1 = conn.getresponse(); b1 = json.loads(r1.read())
conn.request("POST", "/b", body=b"x" * 1000, headers={"Content-Type": "application/octet-stream"})
r2 = conn.getresponse(); b2 = json.loads(r2.read())
out["keepalive"] = b1["port"] == b2["port"]
out["post"] = [r2.status, b2["length"], b2["contentLength"]]
def chunks():
    yield b"abc"
    yield b"defg"
conn.request("PUT", "/c", body=chunks(), encode_chunked=True)
r3 = conn.getresponse(); b3 = json.loads(r3.read())
out["chunked"] = [b3["method"], b3["length"], b3["contentLength"]]
conn.request("HEAD", "/d")
r4 = conn.getresponse()
out["head"] = [r4.status, r4.read(), r4.getheader("Content-Length") is not None]
conn.request("GET", "/fail")
r5 = conn.getresponse()
try:
    r5.read()
    out["fail"] = "complete"
except http.client.IncompleteRead as e:
    out["fail"] = ["incomplete", e.partial.decode()]
out["head"][1] = out["head"][1].decode()
print(json.dumps(out))
`;

describe("WSGIServer with Python's http.client", { skip: needs("python3") }, () => {
  let server: Running;
  before(async () => {
    server = await serve(echo, {}, Quiet);
  });
  after(() => server.close());

  it("keeps the connection alive, posts, uploads chunked, HEADs and sees a cut response", async () => {
    const { stdout } = await run("python3", ["-c", PYTHON_CLIENT, String(server.port)], {
      timeout: 10_000,
    });
    assert.deepEqual(JSON.parse(stdout), {
      keepalive: true,
      post: [200, 1000, "1000"],
      chunked: ["PUT", 7, "7"],
      head: [200, "", true],
      fail: ["incomplete", "half"],
    });
    assert.match(Quiet.errors.getValue(), /failed mid-body/);
  });
});
