/**
 * Response framing over raw sockets: a body longer than its Content-Length is
 * cut to it, one shorter cuts the connection, and either way nothing more is
 * served on that connection, so the client never takes stray bytes for the
 * next response. HEAD, 204 and 304 with a Content-Length and no body still keep
 * the connection.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { handlerApp } from "../../src/response/index.js";
import { softwareVersion, WSGIRequestHandler } from "../../src/simple-server.js";
import { StringErrors } from "../../src/streams.js";
import type {
  ErrorStream,
  PartialEnvironment,
  WSGIApplication,
  WSGIBody,
} from "../../src/types.js";
import { openFile } from "../../src/util.js";
import { kernelSendfileAvailable, useKernelSendfile } from "../helpers/kernel-route.js";
import {
  collect,
  normaliseDate,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

const dir = mkdtempSync(join(tmpdir(), "wsgiref-framing-"));
const file = join(dir, "twenty.bin");
writeFileSync(file, "0123456789abcdefghij");

const te = (s: string): Buffer => Buffer.from(s, "latin1");

/** The routes: each declares a Content-Length its body does not keep. */
function app(seen: string[], closes: Map<string, number>): WSGIApplication {
  return (environ, startResponse) => {
    const path = environ.PATH_INFO as string;
    seen.push(path);
    const counted = (body: WSGIBody): WSGIBody =>
      Object.assign(body, {
        close() {
          closes.set(path, (closes.get(path) ?? 0) + 1);
          (body as { filelike?: { close(): void } }).filelike?.close();
        },
      }) as WSGIBody;
    const Wrapper = environ["wsgi.file_wrapper"]!;
    switch (path) {
      case "/long-list":
        startResponse("200 OK", [["Content-Length", "5"]]);
        return counted([te("0123456789")]);
      case "/long-generator":
        startResponse("200 OK", [["Content-Length", "5"]]);
        return counted(
          (function* () {
            yield te("0123");
            yield te("4567");
            yield te("89");
          })(),
        );
      case "/long-write": {
        const write = startResponse("200 OK", [["Content-Length", "5"]]);
        write(te("0123456789"));
        return counted([]);
      }
      case "/long-file":
        startResponse("200 OK", [["Content-Length", "5"]]);
        return counted(new Wrapper(openFile(file)));
      case "/short-list":
        startResponse("200 OK", [["Content-Length", "10"]]);
        return counted([te("01234")]);
      case "/short-chunks":
        startResponse("200 OK", [["Content-Length", "10"]]);
        return counted([te("01"), te("234"), te("56")]);
      case "/short-file":
        startResponse("200 OK", [["Content-Length", "30"]]);
        return counted(new Wrapper(openFile(file)));
      case "/exact-file":
        startResponse("200 OK", [["Content-Length", "20"]]);
        return counted(new Wrapper(openFile(file)));
      case "/not-modified":
        startResponse("304 Not Modified", [["Content-Length", "10"]]);
        return counted([]);
      default:
        // HEAD of it: a Content-Length and no body, which is legal.
        startResponse("200 OK", [["Content-Length", "10"]]);
        return counted(environ.REQUEST_METHOD === "HEAD" ? [] : [te("0123456789")]);
    }
  };
}

/** The bytes of a kept-alive 200 head with `length`. */
function head(status: string, length: number): string {
  return (
    `HTTP/1.1 ${status}\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
    `Content-Length: ${length}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`
  );
}

after(() => rmSync(dir, { recursive: true, force: true }));

// File bodies take sendfile(2) when the addon is built, else 1 MiB reads: both
// routes must frame alike.
for (const kernel of kernelSendfileAvailable() ? [true, false] : [false]) {
  describe(`ServerHandler and Content-Length (files by ${kernel ? "sendfile(2)" : "reads"})`, () => {
    before(() => useKernelSendfile(kernel));
    after(() => useKernelSendfile(true));
    const seen: string[] = [];
    const closes = new Map<string, number>();
    const errors = new StringErrors();
    const sizes: Array<[string, string]> = [];
    let server: Running;
    class Handler extends WSGIRequestHandler {
      override getStderr(): ErrorStream {
        return errors;
      }
      override logRequest(code: number | string = "-", size: number | string = "-"): void {
        sizes.push([String(code), String(size)]);
      }
      override getEnviron(): PartialEnvironment {
        const environ = super.getEnviron();
        const original = environ.HTTP_X_ORIGINAL_URI;
        if (typeof original === "string") environ.REQUEST_URI = original;
        return environ;
      }
    }
    before(async () => {
      server = await serve(app(seen, closes), {}, Handler);
    });
    after(() => server.close());

    /**
     * Send `first` and a request for /next in one write, without half-closing:
     * only the server closing the connection ends the exchange.
     */
    async function pipelined(first: string): Promise<string> {
      const socket = await open(server.port);
      const received = collect(socket);
      socket.write(first + request("GET", "/next"));
      return normaliseDate((await received).toString("latin1"));
    }

    for (const path of ["/long-list", "/long-generator", "/long-write", "/long-file"]) {
      it(`sends no more than the declared length, logs it and closes: ${path}`, {
        timeout: 5000,
      }, async () => {
        const before = seen.length;
        const logged = errors.getValue().length;
        const sized = sizes.length;
        assert.equal(await pipelined(request("GET", path)), `${head("200 OK", 5)}01234`);
        assert.deepEqual(seen.slice(before), [path], "the request after it is not served");
        assert.equal(
          errors.getValue().slice(logged),
          `the response body to GET ${path} is longer than its Content-Length (5 bytes); ` +
            "the rest was not sent and the connection closes after it\n",
        );
        assert.equal(closes.get(path), 1);
        assert.deepEqual(sizes.slice(sized), [["200", "5"]]);
      });
    }

    it("escapes control characters of the target in the line it logs", async () => {
      // llhttp refuses them in a target; a handler that takes REQUEST_URI from a
      // header (a proxy's X-Original-URI) can let one in: 0x9b, the C1 CSI.
      const logged = errors.getValue().length;
      const socket = await open(server.port);
      const received = collect(socket);
      socket.end(
        Buffer.from(request("GET", "/long-list", ["X-Original-URI: /long\x9b2J\\"]), "latin1"),
      );
      await received;
      assert.equal(
        errors.getValue().slice(logged),
        "the response body to GET /long\\x9b2J\\\\ is longer than its Content-Length " +
          "(5 bytes); the rest was not sent and the connection closes after it\n",
      );
    });

    for (const [path, length, body] of [
      ["/short-list", 10, "01234"],
      ["/short-chunks", 10, "0123456"],
      ["/short-file", 30, "0123456789abcdefghij"],
    ] as const) {
      it(`cuts the connection after a body shorter than declared: ${path}`, {
        timeout: 5000,
      }, async () => {
        const before = seen.length;
        const logged = errors.getValue().length;
        const received = await pipelined(request("GET", path));
        assert.equal(received, `${head("200 OK", length)}${body}`);
        assert.equal(parseResponses(Buffer.from(received, "latin1"))[0]?.complete, false);
        assert.deepEqual(seen.slice(before), [path], "the request after it is not served");
        assert.equal(
          errors.getValue().slice(logged),
          `the response body to GET ${path} is shorter than its Content-Length ` +
            `(${body.length} of ${length} bytes); the connection was cut\n`,
        );
        assert.equal(closes.get(path), 1);
      });
    }

    it("keeps the connection after a body of the declared length, HEAD and 304", async () => {
      const before = seen.length;
      const logged = errors.getValue().length;
      const socket = await open(server.port);
      const received = collect(socket);
      socket.write(
        request("GET", "/exact-file") +
          request("HEAD", "/declared") +
          request("GET", "/not-modified") +
          request("GET", "/declared", ["Connection: close"]),
      );
      const text = normaliseDate((await received).toString("latin1"));
      assert.equal(
        text,
        `${head("200 OK", 20)}0123456789abcdefghij` +
          head("200 OK", 10) +
          `HTTP/1.1 304 Not Modified\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
          "Content-Length: 10\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n" +
          `HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
          "Content-Length: 10\r\nConnection: close\r\n\r\n0123456789",
      );
      assert.deepEqual(seen.slice(before), [
        "/exact-file",
        "/declared",
        "/not-modified",
        "/declared",
      ]);
      assert.equal(errors.getValue().slice(logged), "");
    });
  });
}

/** The Response API's way to a 1xx: setError(100). */
const setError100 = handlerApp((_request, response) => response.setError(100, "interim"));

/** Routes whose status or headers must never reach the wire as the application gave them. */
const unsendable: WSGIApplication = (environ, startResponse) => {
  const path = environ.PATH_INFO as string;
  if (path === "/set-error-100") return setError100(environ, startResponse);
  if (path === "/hop-added") {
    // A framing header added after startResponse() checked the list: with it,
    // a client reads the body (and the next response) until the connection closes.
    const list: Array<[string, string]> = [["Content-Type", "text/plain"]];
    startResponse("200 OK", list);
    list.push(["Transfer-Encoding", "gzip"]);
    return [te("hello")];
  }
  if (path === "/length-edited") {
    // Checked by startResponse(), then changed in the list the headers wrap.
    const list: Array<[string, string]> = [["Content-Length", "5"]];
    startResponse("200 OK", list);
    list.push(["Content-Length", "6"]);
    return [te("hello")];
  }
  const [status, headers, body] = ((): [string, Array<[string, string]>, Uint8Array[]] => {
    switch (path) {
      case "/continue":
        return ["100 Continue", [], [te("interim?")]];
      case "/early-hints":
        return ["103 Early Hints", [["Link", "</a.css>; rel=preload"]], []];
      case "/status-999":
        return ["999 Beyond", [], [te("x")]];
      case "/no-content-length":
        return ["204 No Content", [["Content-Length", "5"]], [te("hello")]];
      case "/no-content":
        return ["204 No Content", [], []];
      case "/not-modified":
        return ["304 Not Modified", [], [te("")]];
      case "/length-letters":
        return ["200 OK", [["Content-Length", "5, 5"]], [te("hello")]];
      case "/length-twice":
        return [
          "200 OK",
          [
            ["Content-Length", "5"],
            ["Content-Length", "50"],
          ],
          [te("hello")],
        ];
      case "/length-same":
        return [
          "200 OK",
          [
            ["Content-Length", "5"],
            ["content-length", "5"],
          ],
          [te("hello")],
        ];
      default:
        return ["200 OK", [["Content-Length", "4"]], [te("next")]];
    }
  })();
  startResponse(status, headers);
  return body;
};

describe("ServerHandler and what an application may not send", () => {
  const errors = new StringErrors();
  let server: Running;
  class Handler extends WSGIRequestHandler {
    override getStderr(): ErrorStream {
      return errors;
    }
  }
  before(async () => {
    server = await serve(unsendable, {}, Handler);
  });
  after(() => server.close());

  /** Send a request for `path` and one for /next behind it, in one write; all that comes back. */
  async function pipelined(path: string): Promise<string> {
    const socket = await open(server.port);
    const received = collect(socket);
    socket.write(request("GET", path) + request("GET", "/next", ["Connection: close"]));
    return normaliseDate((await received).toString("latin1"));
  }

  const next =
    `HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
    "Content-Length: 4\r\nConnection: close\r\n\r\nnext";
  const errorPage =
    `HTTP/1.1 500 Internal Server Error\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
    "Content-Type: text/plain\r\nContent-Length: 59\r\nConnection: keep-alive\r\n" +
    "Keep-Alive: timeout=5\r\n\r\nA server error occurred.  Please contact the administrator.";

  for (const [path, logged] of [
    ["/continue", "Status must be a final response, 200 to 599 (got '100 Continue')"],
    ["/set-error-100", "Status must be a final response, 200 to 599 (got '100 Continue')"],
    ["/early-hints", "Status must be a final response, 200 to 599 (got '103 Early Hints')"],
    ["/status-999", "Status must be a final response, 200 to 599 (got '999 Beyond')"],
    ["/length-letters", "Content-Length must be a decimal number of bytes (got '5, 5')"],
    [
      "/length-twice",
      "Content-Length must not be given twice with different values (got '5' and '50')",
    ],
    ["/hop-added", "Hop-by-hop header, 'Transfer-Encoding: gzip', not allowed"],
    [
      "/length-edited",
      "Content-Length must not be given twice with different values (got '5' and '6')",
    ],
  ] as const) {
    it(`answers 500 for ${path}, and the request behind it gets its own response`, async () => {
      const before = errors.getValue().length;
      assert.equal(await pipelined(path), errorPage + next);
      const log = errors.getValue().slice(before);
      assert.ok(log.startsWith("AssertionError") && log.includes(logged), log);
    });
  }

  it("sends a 204 without Content-Length, the application's dropped with its body", async () => {
    const noContent =
      `HTTP/1.1 204 No Content\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
      "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n";
    assert.equal(await pipelined("/no-content-length"), noContent + next);
    assert.equal(await pipelined("/no-content"), noContent + next);
  });

  it("adds no Content-Length of its own to a 304", async () => {
    assert.equal(
      await pipelined("/not-modified"),
      `HTTP/1.1 304 Not Modified\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
        `Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${next}`,
    );
  });

  it("sends one Content-Length for the same value given twice", async () => {
    assert.equal(
      await pipelined("/length-same"),
      `HTTP/1.1 200 OK\r\nDate: <date>\r\nServer: ${softwareVersion}\r\n` +
        `Content-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello${next}`,
    );
  });
});
