/**
 * Every ServerOptions limit with the status SPEC.md §7 gives it, and a corpus of
 * malformed and hostile requests (fixtures/hostile/corpus.ts): each gets
 * its status, the server keeps answering normal requests, and no request hidden
 * inside a rejected one ever reaches the application.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { format } from "node:util";
import { HOSTILE, SMUGGLED } from "../../fixtures/hostile/corpus.js";
import { WSGIRequestHandler } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import {
  collect,
  exchange,
  header,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

/** Echo the body's length and first bytes; record every PATH_INFO. */
function recorder(seen: string[]): WSGIApplication {
  return (environ, startResponse) => {
    seen.push(environ.PATH_INFO as string);
    const body = environ["wsgi.input"]?.read() ?? Buffer.alloc(0);
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from(`${environ.PATH_INFO} ${body.length} ${environ.CONTENT_LENGTH}`)];
  };
}

/** The status of the only response to `data`, and that the connection then closed. */
async function statusOf(port: number, data: string): Promise<number> {
  const responses = parseResponses(await exchange(port, data));
  return responses[0]?.status ?? 0;
}

describe("ServerOptions", () => {
  const seen: string[] = [];
  let server: Running;
  before(async () => {
    server = await serve(recorder(seen), {
      maxBodySize: 1000,
      spoolThreshold: 16,
      maxHeaderSize: 2048,
      maxHeaders: 5,
    });
  });
  after(() => server.close());

  it("maxBodySize: 413 before reading when Content-Length says so, the app not called", async () => {
    const before = seen.length;
    const received = await exchange(
      server.port,
      request("POST", "/big", ["Content-Length: 1001"], "x".repeat(1001)),
    );
    const [response, extra] = parseResponses(received);
    assert.equal(response?.status, 413);
    assert.equal(header(response!, "Connection"), "close");
    assert.equal(extra, undefined);
    assert.equal(seen.length, before);
  });

  it("maxBodySize: accepts a body of exactly that size", async () => {
    const [response] = parseResponses(
      await exchange(
        server.port,
        request("POST", "/max", ["Content-Length: 1000"], "x".repeat(1000)),
      ),
    );
    assert.equal(response?.body.toString(), "/max 1000 1000");
  });

  it("maxBodySize: 413 and close when a chunked body grows past it", async () => {
    const before = seen.length;
    const chunk = `${(600).toString(16)}\r\n${"y".repeat(600)}\r\n`;
    const status = await statusOf(
      server.port,
      request(
        "POST",
        "/chunked-big",
        ["Transfer-Encoding: chunked"],
        `${chunk}${chunk}0\r\n\r\n${SMUGGLED}`,
      ),
    );
    assert.equal(status, 413);
    assert.equal(seen.length, before);
  });

  it("maxBodySize: 413 instead of 100 Continue", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(request("POST", "/expect", ["Content-Length: 5000", "Expect: 100-continue"]));
    const [response, extra] = parseResponses(await received);
    assert.equal(response?.status, 413);
    assert.equal(extra, undefined);
  });

  it("spoolThreshold: a body past it is spooled and read back whole, CONTENT_LENGTH real for chunked", async () => {
    const body = "0123456789".repeat(50);
    const [plain] = parseResponses(
      await exchange(
        server.port,
        request("POST", "/spool", [`Content-Length: ${body.length}`], body),
      ),
    );
    assert.equal(plain?.body.toString(), "/spool 500 500");
    const chunks = `${(200).toString(16)}\r\n${body.slice(0, 200)}\r\n${(300).toString(16)}\r\n${body.slice(200)}\r\n0\r\n\r\n`;
    const [dechunked] = parseResponses(
      await exchange(
        server.port,
        request("POST", "/spool", ["Transfer-Encoding: chunked"], chunks),
      ),
    );
    assert.equal(dechunked?.body.toString(), "/spool 500 500");
  });

  it("spoolThreshold: a body past it is read from a temporary file, one at it from memory", {
    skip: !existsSync("/proc/self/fd") && "needs /proc/self/fd to see open files",
  }, async () => {
    // os.tmpdir() reads TMPDIR on each call: the spool's file goes here. It is
    // unlinked at once, so look for it among the descriptors the app holds.
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-spool-test-"));
    const saved = process.env.TMPDIR;
    const spooled = (): number =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/wsgiref-spool-`);
        } catch {
          return false; // the descriptor of readdirSync itself, gone by now
        }
      }).length;
    const spool = await serve(
      (environ, startResponse) => {
        const files = spooled();
        const body = environ["wsgi.input"]?.read() ?? Buffer.alloc(0);
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return [Buffer.from(`${body.length} ${files}`)];
      },
      { spoolThreshold: 16 },
    );
    process.env.TMPDIR = dir;
    try {
      // One at a time: a body being spooled for another request would be counted too.
      const bodies: Array<string | undefined> = [];
      for (const size of [16, 17, 500]) {
        const [response] = parseResponses(
          await exchange(
            spool.port,
            request("POST", "/", [`Content-Length: ${size}`], "x".repeat(size)),
          ),
        );
        bodies.push(response?.body.toString());
      }
      assert.deepEqual(bodies, ["16 0", "17 1", "500 1"]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await spool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("maxHeaderSize: 414 when the request line alone is longer", async () => {
    assert.equal(await statusOf(server.port, request("GET", `/${"a".repeat(3000)}`)), 414);
  });

  it("maxHeaderSize: 414 when the long request line arrives in pieces", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    const line = `GET /${"b".repeat(3000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    for (let i = 0; i < line.length; i += 700) {
      await new Promise<void>((resolve) => socket.write(line.slice(i, i + 700), () => resolve()));
    }
    const [response] = parseResponses(await received);
    assert.equal(response?.status, 414);
  });

  it("maxHeaderSize: 431 when the header fields make it longer", async () => {
    assert.equal(
      await statusOf(server.port, request("GET", "/", [`X-Big: ${"c".repeat(3000)}`])),
      431,
    );
    assert.equal(
      await statusOf(
        server.port,
        request("GET", `/${"d".repeat(1500)}`, [`X-Big: ${"c".repeat(1000)}`]),
      ),
      431,
    );
  });

  it("maxHeaders: 431 past it, served at it", async () => {
    const four = ["A: 1", "B: 2", "C: 3", "Connection: close"];
    assert.equal(await statusOf(server.port, request("GET", "/", four)), 200);
    assert.equal(await statusOf(server.port, request("GET", "/", [...four, "E: 5"])), 431);
  });
});

describe("ServerOptions maxHeaderSize at its default, past one read", () => {
  // 64 KiB, as much as Node reads at once: the read that overflows it continues a
  // line begun in the one before, and cannot tell a target from a field alone.
  let server: Running;
  before(async () => {
    server = await serve(recorder([]));
  });
  after(() => server.close());

  const big = "c".repeat(128 * 1024);

  it("answers 431 for one 128 KiB header field, never 414", async () => {
    assert.equal(await statusOf(server.port, request("GET", "/", [`X-Big: ${big}`])), 431);
    assert.equal(await statusOf(server.port, request("GET", "/", [`X-${big}: 1`])), 431);
    assert.equal(
      await statusOf(server.port, request("GET", "/", [`X-${"c".repeat(70_000)}: 1`])),
      431,
    );
  });

  it("answers 431 for a field sent in pieces, and 414 for a target", async () => {
    for (const [data, status] of [
      [request("GET", "/", [`X-Big: ${big}`]), 431],
      [request("GET", `/${big}`), 414],
    ] as const) {
      const socket = await open(server.port);
      const received = collect(socket);
      for (let i = 0; i < data.length; i += 48 * 1024) {
        await new Promise<void>((resolve) =>
          socket.write(data.slice(i, i + 48 * 1024), () => resolve()),
        );
      }
      assert.equal(parseResponses(await received)[0]?.status, status);
    }
  });

  it("answers 414 for a 128 KiB target sent at once", async () => {
    assert.equal(await statusOf(server.port, request("GET", `/${big}`)), 414);
    assert.equal(await statusOf(server.port, request("GET", `/${big}:`)), 414);
  });
});

describe("ServerOptions timeouts", () => {
  const seen: string[] = [];
  let server: Running;
  before(async () => {
    server = await serve(recorder(seen), {
      headersTimeout: 150,
      requestTimeout: 300,
      keepAliveTimeout: 100,
    });
  });
  after(() => server.close());

  it("headersTimeout: 408 and close for headers that never end", async () => {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write("GET /slow HTTP/1.1\r\nHost: localhost\r\n");
    const [response] = parseResponses(await received);
    assert.equal(response?.status, 408);
  });

  it("requestTimeout: 408 and close for a body that never arrives; the app not called", async () => {
    const before = seen.length;
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(request("POST", "/slow-body", ["Content-Length: 10"], "12"));
    const [response] = parseResponses(await received);
    assert.equal(response?.status, 408);
    assert.equal(seen.length, before);
  });

  it("keepAliveTimeout: an idle kept-alive connection is closed after it, not after 5 s", async () => {
    // Its own server: the one above has a headersTimeout short enough to close it too.
    const idle = await serve(recorder([]), { keepAliveTimeout: 200 });
    try {
      const socket = await open(idle.port);
      const received = collect(socket);
      socket.write(request("GET", "/idle"));
      await once(socket, "data");
      const answered = performance.now();
      const [response, extra] = parseResponses(await received);
      const elapsed = performance.now() - answered;
      assert.equal(response?.status, 200);
      assert.equal(header(response!, "Connection"), "keep-alive");
      assert.equal(extra, undefined);
      // Node's default is 5000 ms; the close comes from the 200 ms timer.
      assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed} ms`);
    } finally {
      await idle.close();
    }
  });
});

describe("WSGIServer and hostile requests", () => {
  const seen: string[] = [];
  let server: Running;
  before(async () => {
    server = await serve(recorder(seen), { maxBodySize: 1000 });
  });
  after(() => server.close());

  for (const hostile of HOSTILE) {
    it(`answers ${hostile.status} to ${hostile.name}, then serves a normal request`, async () => {
      const received = await exchange(server.port, hostile.request);
      const responses = parseResponses(received);
      assert.equal(
        responses[0]?.status,
        hostile.status,
        `${hostile.rule}\n${received.toString("latin1")}`,
      );
      assert.equal(responses.length, 1, "one answer, then the connection closes");
      const [normal] = parseResponses(
        await exchange(server.port, request("GET", "/normal", ["Connection: close"])),
      );
      assert.equal(normal?.status, 200);
    });
  }

  it("never lets a request hidden inside a rejected one reach the application", () => {
    assert.ok(seen.length >= HOSTILE.length);
    assert.ok(!seen.includes("/smuggled"), String(seen));
  });

  it("closes the connection after an upgrade it does not offer, whatever follows later", async () => {
    // Found by the network fuzzer: bytes after the head of an upgrade request were
    // dropped with the read they came in, and the next read served as requests.
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(
      "GET /upgrade HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n4\r\ndata\r\n0\r\n\r\n",
    );
    await once(socket, "data");
    socket.on("error", () => undefined);
    if (!socket.destroyed) socket.end(SMUGGLED);
    const responses = parseResponses(await received);
    assert.deepEqual(
      responses.map((r) => [r.status, header(r, "Connection")]),
      [[200, "close"]],
    );
    assert.ok(!seen.includes("/smuggled"), String(seen));
  });

  it("says nothing more after a refusal, not even to a CONNECT pipelined after it", async () => {
    // HTTP/1.1 without Host: 400, and the connection closes after it.
    const received = await exchange(
      server.port,
      "GET /first HTTP/1.1\r\nH:ost: localhost\r\n\r\n" +
        "CONNECT /second HTTP/1.1\r\nHost: localhost\r\n\r\n" +
        request("GET", "/smuggled"),
    );
    const responses = parseResponses(received);
    assert.deepEqual(
      responses.map((r) => r.status),
      [400],
      received.toString("latin1"),
    );
  });

  it("answers a request pipelined after a valid chunked body with trailers", async () => {
    const received = await exchange(
      server.port,
      request(
        "POST",
        "/first",
        ["Transfer-Encoding: chunked"],
        "5\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n",
      ) + request("GET", "/second", ["Connection: close"]),
    );
    assert.deepEqual(
      parseResponses(received).map((r) => r.body.toString()),
      ["/first 5 5", "/second 0 "],
    );
  });
});

describe("WSGIRequestHandler.logMessage and requests Node refuses", () => {
  const lines: string[] = [];
  class Logging extends WSGIRequestHandler {
    override logMessage(template: string, ...args: unknown[]): void {
      lines.push(format(template, ...args));
    }
  }
  let server: Running;
  let quiet: Running;
  before(async () => {
    const options = { maxHeaderSize: 2048, headersTimeout: 150, requestTimeout: 300 };
    server = await serve(recorder([]), { ...options, quiet: false }, Logging);
    quiet = await serve(recorder([]), { ...options, quiet: true }, Logging);
  });
  after(async () => {
    await server.close();
    await quiet.close();
  });

  // Python's send_error: log_error("code %d, message %s"), then log_request(code).
  for (const [data, status, logged] of [
    [request("GET", `/${"a".repeat(3000)}`), 414, ["code 414, message URI Too Long", '"" 414 -']],
    [
      request("GET", "/big", [`X-Big: ${"c".repeat(3000)}`]),
      431,
      ["code 431, message Request Header Fields Too Large", '"GET /big HTTP/1.1" 431 -'],
    ],
    [
      "GET / HTTP/1.2\r\nHost: localhost\r\n\r\n",
      505,
      ["code 505, message HTTP Version Not Supported", '"GET / HTTP/1.2" 505 -'],
    ],
    [
      request("BREW", "/pot"),
      501,
      ["code 501, message Not Implemented", '"BREW /pot HTTP/1.1" 501 -'],
    ],
    [
      "GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n",
      400,
      ["code 400, message Bad Request", '"GET / HTTP/1.1" 400 -'],
    ],
    [
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      501,
      ["code 501, message Not Implemented", '"CONNECT example.com:443 HTTP/1.1" 501 -'],
    ],
  ] as const) {
    it(`logs a ${status} answered on the socket through logMessage, as Python does`, async () => {
      const before = lines.length;
      assert.equal(await statusOf(quiet.port, data), status);
      assert.deepEqual(lines.slice(before), [], "nothing when quiet");
      assert.equal(await statusOf(server.port, data), status);
      assert.deepEqual(lines.slice(before), logged);
    });
  }

  it("logs a 408 for headers that never end, without a request line (Node keeps none)", async () => {
    const before = lines.length;
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write("GET /slow HTTP/1.1\r\nHost: localhost\r\n");
    const [response] = parseResponses(await received);
    assert.equal(response?.status, 408);
    assert.deepEqual(lines.slice(before), ["code 408, message Request Timeout", '"" 408 -']);
  });
});
