/**
 * wsgiref/response: ResponseWriter on the wire. Raw output byte for byte (a
 * malformed status line and headers included), the WSGI path's implicit status
 * and required headers, files, return values, a client leaving mid-stream,
 * every writing method returning false once the client has gone (WSGI and raw),
 * and raw output refused under a gateway that offers no connection.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SimpleHandler } from "../../src/handlers/index.js";
import {
  type Handler,
  handlerApp,
  Request,
  Response,
  type ResponseWriter,
} from "../../src/response/index.js";
import { ResponseOutput } from "../../src/response/response-output.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { FileLike, PartialEnvironment } from "../../src/types.js";
import { openFile, setupTestingDefaults } from "../../src/util.js";
import { validator } from "../../src/validate.js";
import {
  fetchNode,
  header,
  open,
  parseResponses,
  rawGet,
  readUntil,
  serveRoutes,
  signal,
} from "../helpers/response-server.js";
import type { Running } from "../helpers/server-client.js";

const DATE = /^Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/m;

describe("ResponseWriter", () => {
  let server: Running;
  let dir: string;
  let filePath: string;
  const results = new Map<string, ReturnType<typeof signal<unknown>>>();
  const report = (name: string) => {
    const s = signal<unknown>();
    results.set(name, s);
    return s;
  };
  const rawReturns = report("raw returns");
  const wsgiReturns = report("wsgi returns");
  const afterEnd = report("after endHeaders");
  const streamed = report("client left");
  const rawStreamed = report("client left raw");

  const raw = (handler: Handler) => ({ mode: "raw" as const, handler });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-writer-"));
    filePath = join(dir, "data.bin");
    await writeFile(filePath, Buffer.alloc(100_000, 0x61));
    server = await serveRoutes({
      // The seed's example, as wptserve sends it: no blank line was written, so none is sent.
      "/seed": raw((_request, response) => {
        response.addRequiredHeaders = false;
        response.writer.writeHeader("Content-Type", "text/plain");
        response.writer.writeHeader("Content-Length", "Some example content".length);
        response.writer.write("Some ");
        response.writer.write("example content");
      }),
      "/malformed": raw((_request, response) => {
        response.addRequiredHeaders = false;
        const w = response.writer;
        rawReturns.resolve([
          w.writeStatus(200, "OK\x01 with\tjunk"),
          w.writeHeader("No Colon Here", ""),
          w.writeHeader("X-Ctl", "a\x00b\x7f"),
          w.writeHeader(" Leading-Space", "v\xff"),
          w.endHeaders(),
          w.writeContent("body"),
          w.writeRawContent(Buffer.from([0, 13, 10])),
        ]);
      }),
      "/handmade": raw((_request, response) => {
        response.writer.writeRawContent("HTTP/1.0 404 Whatever\r\nFoo: bar\r\n\r\nhand made");
      }),
      "/early-write": raw((_request, response) => {
        response.writer.writeStatus(201);
        response.writer.writeHeader("X-A", "1");
        response.writer.write("junk\r\n");
      }),
      "/raw-required": raw((_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.writer.writeStatus(200);
        response.writer.writeRawContent("X-Raw: 1\r\n");
        response.writer.endHeaders();
        afterEnd.resolve(response.closeConnection);
        response.writer.write("body");
      }),
      "/raw-file": raw((_request, response) => {
        response.addRequiredHeaders = false;
        response.writer.writeStatus(200);
        response.writer.endHeaders();
        response.writer.writeContentFile(openFile(filePath));
      }),
      "/hop-by-hop": raw((_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.headers.set("Transfer-Encoding", "chunked");
        response.headers.set("Connection", "close");
        response.content = ["5\r\nhello\r\n", "0\r\n\r\n"];
      }),
      "/implicit": (_request, response) => {
        const w = response.writer;
        w.defaultStatus = 203;
        wsgiReturns.resolve([
          w.writeHeader("Content-Type", "text/plain"),
          w.writeHeader("Content-Length", 2),
          w.endHeaders(),
          w.write("hi"),
        ]);
      },
      "/write-content": (_request, response) => {
        response.writer.writeHeader("Content-Type", "text/plain");
        response.writer.writeContent("sized");
      },
      "/write-file": (_request, response) => {
        response.writer.writeHeader("Content-Type", "application/octet-stream");
        response.writer.writeContent(openFile(filePath));
      },
      "/defaults": (_request, response) => {
        response.content = "12345";
        response.writer.writeStatus(200);
        response.writer.writeHeader("Content-Type", "text/plain");
        response.writer.writeDefaultHeaders();
        response.writer.endHeaders();
        response.writer.write("12345");
      },
      "/open-head": (_request, response) => {
        response.writer.writeStatus(200);
        response.writer.writeHeader("Content-Type", "text/plain");
      },
      "/misuse": (_request, response) => {
        const w = response.writer;
        w.writeHeader("Content-Type", "text/plain");
        w.writeStatus(204);
        w.writeStatus(200, "Fine");
        w.endHeaders();
        const errors = [
          () => w.writeStatus(500),
          () => w.writeHeader("X", "1"),
          () => w.endHeaders(),
        ].map((f) => {
          try {
            f();
            return "no error";
          } catch (err) {
            return (err as Error).message;
          }
        });
        w.write(errors.join("\n"));
      },
      "/stream": async (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.writeStatusHeaders();
        let writes = 0;
        while (response.writer.write(`line ${writes}\n`)) {
          writes++;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        streamed.resolve(writes);
      },
      "/raw-stream": raw(async (_request, response) => {
        response.addRequiredHeaders = false;
        response.writer.writeStatus(200);
        response.writer.endHeaders();
        let writes = 0;
        while (response.writer.write(`line ${writes}\n`)) {
          writes++;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        rawStreamed.resolve(writes);
      }),
      "/ok": (_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.content = "still serving";
      },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends raw output exactly as written, nothing added, then closes", async () => {
    const text = await rawGet(server.port, "/seed");
    assert.equal(
      text,
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nSome example content",
    );
  });

  it("sends a malformed status line and header lines byte for byte", async () => {
    const text = await rawGet(server.port, "/malformed");
    assert.equal(
      text,
      "HTTP/1.1 200 OK\x01 with\tjunk\r\nNo Colon Here: \r\nX-Ctl: a\x00b\x7f\r\n Leading-Space: v\xff\r\n\r\nbody\x00\r\n",
    );
    assert.deepEqual(await rawReturns.promise, [true, true, true, true, true, true, true]);
  });

  it("sends a response made entirely with writeRawContent as given", async () => {
    const text = await rawGet(server.port, "/handmade");
    assert.equal(text, "HTTP/1.0 404 Whatever\r\nFoo: bar\r\n\r\nhand made");
    const res = await fetchNode(server.port, "/handmade");
    assert.equal(res.status, 404);
    assert.equal(res.headers.foo, "bar");
    assert.equal(res.body.toString(), "hand made");
  });

  it("turns raw when bytes are written before endHeaders, with the head so far first", async () => {
    assert.equal(
      await rawGet(server.port, "/early-write"),
      "HTTP/1.1 201 Created\r\nX-A: 1\r\njunk\r\n",
    );
  });

  it("adds Date, Server and the blank line at endHeaders of a raw response, and closes after it", async () => {
    const text = await rawGet(server.port, "/raw-required");
    assert.match(
      text,
      /^HTTP\/1\.1 200 OK\r\nX-Raw: 1\r\nServer: WSGIServer\/\S+ Node\.js\/\S+\r\n/,
    );
    assert.match(text, DATE);
    assert.ok(text.endsWith("GMT\r\n\r\nbody"), text);
    assert.equal(await afterEnd.promise, true, "no Content-Length: the connection ends the body");
  });

  it("streams a file raw, in chunks, byte for byte", async () => {
    const text = await rawGet(server.port, "/raw-file");
    assert.equal(text, `HTTP/1.1 200 OK\r\n\r\n${"a".repeat(100_000)}`);
  });

  it("sends a head with hop-by-hop headers raw, so the handler frames the body", async () => {
    const text = await rawGet(server.port, "/hop-by-hop");
    assert.match(
      text,
      /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nServer: /,
    );
    assert.ok(text.endsWith("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), text);
    const res = await fetchNode(server.port, "/hop-by-hop");
    assert.equal(res.body.toString(), "hello");
  });

  it("writes the default status before a first header, through WSGI", async () => {
    const [response] = parseResponses(
      Buffer.from(await rawGet(server.port, "/implicit"), "latin1"),
    );
    assert.equal(response!.statusLine, "HTTP/1.1 203 Non-Authoritative Information");
    assert.equal(response!.body.toString(), "hi");
    assert.deepEqual(await wsgiReturns.promise, [true, true, true, true]);
  });

  it("gives writeContent's first data as the content, whose length is sent", async () => {
    const [response] = parseResponses(
      Buffer.from(await rawGet(server.port, "/write-content"), "latin1"),
    );
    assert.equal(header(response!, "Content-Length"), "5");
    assert.equal(response!.body.toString(), "sized");
  });

  it("streams a file given to writeContent through WSGI", async () => {
    const res = await fetchNode(server.port, "/write-file");
    assert.equal(res.body.length, 100_000);
    assert.equal(res.headers["transfer-encoding"], "chunked");
  });

  it("adds Content-Length once, from writeDefaultHeaders, when the content is known", async () => {
    const [response] = parseResponses(
      Buffer.from(await rawGet(server.port, "/defaults"), "latin1"),
    );
    assert.deepEqual(
      response!.headers.filter(([n]) => n === "Content-Length"),
      [["Content-Length", "5"]],
    );
    assert.equal(response!.body.toString(), "12345");
  });

  it("completes a head the handler left open", async () => {
    const res = await fetchNode(server.port, "/open-head");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "text/plain");
    assert.equal(res.body.length, 0);
  });

  it("replaces the status before endHeaders and refuses head lines after it (WSGI)", async () => {
    const res = await fetchNode(server.port, "/misuse");
    assert.equal(res.status, 200);
    assert.equal(res.statusMessage, "Fine");
    const lines = res.body.toString().split("\n");
    assert.equal(lines.length, 3);
    for (const [line, method] of lines.map((l, i) => [
      l,
      ["writeStatus()", "writeHeader()", "endHeaders()"][i],
    ])) {
      assert.equal(
        line,
        `${method} came after endHeaders(), once the head went out through WSGI; set response.addRequiredHeaders = false before writing to write raw bytes`,
      );
    }
  });

  for (const [path, name] of [
    ["/stream", "client left"],
    ["/raw-stream", "client left raw"],
  ] as const) {
    it(`returns false once a streaming client has gone (${path}), and the server keeps serving`, async () => {
      const socket = await open(server.port);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      await readUntil(socket, "line 2\n");
      socket.destroy();
      const writes = (await results.get(name)!.promise) as number;
      assert.ok(writes >= 3, `wrote ${writes} lines`);
      const res = await fetchNode(server.port, "/ok");
      assert.equal(res.body.toString(), "still serving");
    });
  }
});

describe("ResponseWriter once the client has gone", () => {
  /** An in-memory file whose close() is recorded. */
  function memoryFile(): FileLike & { closed: boolean } {
    let data: Uint8Array = Buffer.from("file content");
    return {
      closed: false,
      read(size: number): Uint8Array {
        const block = data.subarray(0, size);
        data = data.subarray(size);
        return block;
      },
      close() {
        this.closed = true;
      },
    };
  }

  /**
   * One method called after the client left: `before` runs while it is still
   * connected (the steps the method normally follows), `call` once its socket
   * has closed. `raw` routes run without required headers (raw output) or take
   * the connection over in the call itself.
   */
  interface GoneCase {
    method: string;
    raw: boolean;
    before?: (response: Response) => void;
    call: (writer: ResponseWriter, file: FileLike) => boolean;
  }
  const rawHead = (response: Response): void => {
    response.addRequiredHeaders = false;
  };
  const wsgiHead = (response: Response): void => {
    response.writer.writeStatus(200);
    response.writer.writeHeader("Content-Type", "text/plain");
  };
  const cases: GoneCase[] = [
    // Through WSGI the handler's response stays valid: 204 needs no Content-Type.
    { method: "writeStatus", raw: false, call: (w) => w.writeStatus(204) },
    { method: "writeStatus", raw: true, before: rawHead, call: (w) => w.writeStatus(200) },
    {
      method: "writeHeader",
      raw: false,
      call: (w) => w.writeHeader("Content-Type", "text/plain"),
    },
    {
      method: "writeHeader",
      raw: true,
      before: (r) => {
        rawHead(r);
        r.writer.writeStatus(200);
      },
      call: (w) => w.writeHeader("X-A", "1"),
    },
    { method: "endHeaders", raw: false, before: wsgiHead, call: (w) => w.endHeaders() },
    {
      method: "endHeaders",
      raw: true,
      before: (r) => {
        rawHead(r);
        r.writer.writeStatus(200);
      },
      call: (w) => w.endHeaders(),
    },
    // Before endHeaders: writeContent ends the head itself.
    { method: "writeContent", raw: false, before: wsgiHead, call: (w) => w.writeContent("text") },
    {
      method: "writeContent",
      raw: true,
      before: (r) => {
        rawHead(r);
        r.writer.writeStatus(200);
      },
      call: (w) => w.writeContent("text"),
    },
    {
      method: "writeRawContent",
      raw: false,
      before: (r) => {
        wsgiHead(r);
        r.writer.endHeaders();
      },
      call: (w) => w.writeRawContent("bytes"),
    },
    // Before the head, raw content takes the connection over: after the client left.
    { method: "writeRawContent", raw: true, call: (w) => w.writeRawContent("HTTP/1.1 200 OK\r\n") },
    {
      method: "writeContentFile",
      raw: false,
      before: (r) => {
        wsgiHead(r);
        r.writer.endHeaders();
      },
      call: (w, file) => w.writeContentFile(file),
    },
    { method: "writeContentFile", raw: true, call: (w, file) => w.writeContentFile(file) },
  ];

  let server: Running;
  const started = new Map<string, ReturnType<typeof signal<void>>>();
  const results = new Map<string, ReturnType<typeof signal<[unknown, boolean]>>>();
  const pathOf = (c: GoneCase): string => `/${c.method}-${c.raw ? "raw" : "wsgi"}`;

  before(async () => {
    const routes: Record<string, Handler | { handler: Handler; mode: "raw" | "wsgi" }> = {};
    for (const c of cases) {
      const path = pathOf(c);
      const ready = signal<void>();
      const result = signal<[unknown, boolean]>();
      started.set(path, ready);
      results.set(path, result);
      routes[path] = {
        mode: c.raw ? "raw" : "wsgi",
        handler: async (request, response) => {
          const { socket } = request.environ["wsgiref.connection"] as { socket: Socket };
          c.before?.(response);
          // A listener, not events.once: the reset comes as an ECONNRESET 'error' first.
          const closed = new Promise<void>((resolve) => {
            if (socket.destroyed) resolve();
            else socket.once("close", () => resolve());
          });
          ready.resolve();
          await closed;
          const file = memoryFile();
          let value: unknown;
          try {
            value = c.call(response.writer, file);
          } catch (err) {
            value = err;
          }
          result.resolve([value, file.closed]);
        },
      };
    }
    routes["/ok"] = (_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.content = "still serving";
    };
    server = await serveRoutes(routes);
  });
  after(() => server.close());

  for (const c of cases) {
    it(`returns false from ${c.method} (${c.raw ? "raw" : "WSGI"}) once the client has gone`, async () => {
      const path = pathOf(c);
      const socket = await open(server.port);
      const gone = once(socket, "close");
      socket.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      await started.get(path)!.promise;
      // A reset, as when the client is killed: a FIN alone is a half-close, after
      // which the client may still read, so the server keeps the connection.
      socket.resetAndDestroy();
      await gone;
      const [value, fileClosed] = await results.get(path)!.promise;
      assert.equal(value, false);
      if (c.method === "writeContentFile") assert.equal(fileClosed, true, "the file is closed");
      const res = await fetchNode(server.port, "/ok");
      assert.equal(res.body.toString(), "still serving");
    });
  }
});

describe("ResponseWriter switching to raw on its own", () => {
  // Issue 13, finding 4: a hop-by-hop header, a HEAD body or closeConnection made
  // the head go raw, and raw checked nothing: a value with CR LF went out as a
  // second header line. Only addRequiredHeaders = false and the bytes of
  // write/writeRawContent are raw on purpose.
  let server: Running;
  const INJECTED = "a\r\nSet-Cookie: pwned=1";
  const thrown = new Map<string, ReturnType<typeof signal<string>>>();
  /** A raw-mode route whose handler records what the writer threw, then throws it on. */
  const refusing = (path: string, handler: Handler) => {
    const seen = signal<string>();
    thrown.set(path, seen);
    return {
      mode: "raw" as const,
      handler: (request: Request, response: Response) => {
        try {
          handler(request, response);
          response.write();
          seen.resolve("no error");
        } catch (err) {
          seen.resolve(`${(err as Error).name}: ${(err as Error).message}`);
          throw err;
        }
      },
    };
  };
  const hopByHop = (response: Response): void => {
    response.headers.set("Content-Type", "text/plain");
    response.headers.set("Connection", "close");
    response.content = "body";
  };

  before(async () => {
    server = await serveRoutes({
      "/value": refusing("/value", (_q, r) => {
        hopByHop(r);
        r.headers.set("X-Evil", INJECTED);
      }),
      "/name": refusing("/name", (_q, r) => {
        hopByHop(r);
        r.headers.set("X-Evil: 1\r\nX-More", "v");
      }),
      "/nul": refusing("/nul", (_q, r) => {
        hopByHop(r);
        r.headers.set("X-Evil", "a\x00b");
      }),
      "/reason": refusing("/reason", (_q, r) => {
        hopByHop(r);
        r.status = [200, `OK\r\nSet-Cookie: pwned=1`];
      }),
      "/code-high": refusing("/code-high", (_q, r) => {
        hopByHop(r);
        r.status = 600;
      }),
      "/code-low": refusing("/code-low", (_q, r) => {
        hopByHop(r);
        r.status = 99;
      }),
      "/head": refusing("/head", (_q, r) => {
        r.headers.set("Content-Type", "text/plain");
        r.headers.set("X-Evil", INJECTED);
        r.sendBodyForHeadRequest = true;
        r.content = "body";
      }),
      "/close": refusing("/close", (_q, r) => {
        r.headers.set("Content-Type", "text/plain");
        r.headers.set("X-Evil", INJECTED);
        r.closeConnection = true;
        r.content = "body";
      }),
      "/early-write": refusing("/early-write", (_q, r) => {
        r.writer.writeStatus(200, "OK\r\nSet-Cookie: pwned=1");
        r.writer.write("body");
      }),
      "/wsgi-value": refusing("/wsgi-value", (_q, r) => {
        r.headers.set("Content-Type", "text/plain");
        r.headers.set("X-Evil", INJECTED);
        r.content = "body";
      }),
      "/wsgi-reason": refusing("/wsgi-reason", (_q, r) => {
        r.headers.set("Content-Type", "text/plain");
        r.status = [200, "OK\r\nSet-Cookie: pwned=1"];
        r.content = "body";
      }),
      "/after-raw": {
        mode: "raw",
        handler: (_request, response) => {
          const w = response.writer;
          w.writeStatus(200);
          w.writeRawContent("X-Raw: 1\r\n");
          let message = "no error";
          try {
            w.writeHeader("X-Evil", INJECTED);
          } catch (err) {
            message = (err as Error).message;
          }
          w.writeHeader("Content-Type", "text/plain");
          w.endHeaders();
          w.write(message);
        },
      },
      "/explicit": {
        mode: "raw",
        handler: (_request, response) => {
          response.addRequiredHeaders = false;
          response.status = [200, "OK\r\nX-Raw-Status: 1"];
          response.headers.set("X-Raw", INJECTED);
          response.content = "\r\nraw";
          response.write();
        },
      },
    });
  });
  after(async () => {
    await server.close();
  });

  const cases: Array<[string, string, RegExp]> = [
    [
      "/value",
      "a header value with CR LF",
      /^TypeError: header value for 'X-Evil' contains a control character: /,
    ],
    [
      "/name",
      "a header name that is no token",
      /^TypeError: header name contains a control character: /,
    ],
    [
      "/nul",
      "a header value with NUL",
      /^TypeError: header value for 'X-Evil' contains a control character: /,
    ],
    [
      "/reason",
      "a reason phrase with CR LF",
      /^TypeError: status message contains a control character: /,
    ],
    [
      "/code-high",
      "a status code past 599",
      /^TypeError: status code must be from 100 to 599 unless response\.addRequiredHeaders is false: 600$/,
    ],
    [
      "/code-low",
      "a status code below 100",
      /^TypeError: status code must be from 100 to 599 unless response\.addRequiredHeaders is false: 99$/,
    ],
    [
      "/close",
      "a header value with CR LF and closeConnection",
      /^TypeError: header value for 'X-Evil' contains a control character: /,
    ],
    [
      "/early-write",
      "a held reason phrase with CR LF before an explicit write",
      /^TypeError: status message contains a control character: /,
    ],
    // The WSGI path, for comparison: the gateway's startResponse refuses the same.
    [
      "/wsgi-value",
      "a header value with CR LF through WSGI",
      /^TypeError: header value for 'X-Evil' contains a control character: /,
    ],
    [
      "/wsgi-reason",
      "a reason phrase with CR LF through WSGI",
      /^AssertionError: Status must not contain control characters /,
    ],
  ];
  for (const [path, what, message] of cases) {
    it(`refuses ${what} with a TypeError, and the client gets a clean 500`, async () => {
      const text = await rawGet(server.port, path);
      assert.match(await thrown.get(path)!.promise, message);
      assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
      assert.ok(!text.includes("pwned"), text);
      assert.ok(!text.includes("body"), text);
    });
  }

  it("refuses a header with CR LF when a HEAD body makes the head raw", async () => {
    const text = await rawGet(server.port, "/head", "HEAD");
    assert.match(
      await thrown.get("/head")!.promise,
      /^TypeError: header value for 'X-Evil' contains a control character: /,
    );
    assert.match(text, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
    assert.ok(!text.includes("pwned"), text);
  });

  it("checks a header written after an explicit raw write, raw bytes themselves unchecked", async () => {
    const text = await rawGet(server.port, "/after-raw");
    const [head, body] = text.split("\r\n\r\n");
    assert.match(head!, /^HTTP\/1\.1 200 OK\r\nX-Raw: 1\r\nContent-Type: text\/plain\r\n/);
    assert.ok(!head!.includes("pwned"), head);
    assert.match(body!, /^header value for 'X-Evil' contains a control character: /);
  });

  it("sends status and headers unchecked when addRequiredHeaders is false", async () => {
    const text = await rawGet(server.port, "/explicit");
    assert.equal(
      text,
      "HTTP/1.1 200 OK\r\nX-Raw-Status: 1\r\nX-Raw: a\r\nSet-Cookie: pwned=1\r\n\r\n\r\nraw",
    );
  });
});

describe("ResponseWriter under a gateway without a connection", () => {
  /** Run `handler` once under SimpleHandler; returns what was sent and logged. */
  async function runSimple(
    handler: Handler,
    validated = true,
  ): Promise<{ output: string; errors: string }> {
    const environ: PartialEnvironment = { QUERY_STRING: "" };
    setupTestingDefaults(environ);
    const chunks: Uint8Array[] = [];
    const errors = new StringErrors();
    const gateway = new SimpleHandler(
      new BytesInput(),
      {
        write: (data: Uint8Array) => {
          chunks.push(Buffer.from(data));
        },
      },
      errors,
      environ,
    );
    const app = handlerApp(handler);
    await gateway.run(validated ? validator(app) : app);
    return { output: Buffer.concat(chunks).toString("latin1"), errors: errors.getValue() };
  }

  it("writes through WSGI: status, headers, Content-Length and body", async () => {
    const { output } = await runSimple((_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.content = "via WSGI";
    });
    assert.match(
      output,
      /^HTTP\/1\.0 200 OK\r\nDate: .*\r\nContent-Type: text\/plain\r\nContent-Length: 8\r\n\r\nvia WSGI$/s,
    );
  });

  it("throws a clear Error from a raw write, and nothing corrupt is sent", async () => {
    const seen = signal<string>();
    const { output, errors } = await runSimple((_request, response) => {
      response.addRequiredHeaders = false;
      try {
        response.writer.writeStatus(200, "Raw");
      } catch (err) {
        seen.resolve((err as Error).message);
        throw err;
      }
    });
    const message = await seen.promise;
    assert.match(
      message,
      /^raw output .* needs environ\['wsgiref\.connection'\], which this gateway does not offer; /,
    );
    assert.match(output, /^HTTP\/1\.0 500 Internal Server Error\r\n/);
    assert.ok(
      output.endsWith("\r\n\r\nA server error occurred.  Please contact the administrator."),
    );
    assert.ok(!output.includes("Raw"));
    assert.ok(errors.includes(message), errors);
  });

  it("refuses writeRawContent before the head the same way", async () => {
    const { output, errors } = await runSimple((_request, response) => {
      response.writer.writeRawContent("HTTP/1.1 200 OK\r\n\r\n");
    }, false);
    assert.match(output, /^HTTP\/1\.0 500 /);
    assert.match(errors, /needs environ\['wsgiref\.connection'\]/);
  });

  it("sends a HEAD body through the gateway, which has no raw path", async () => {
    const environ: PartialEnvironment = { REQUEST_METHOD: "HEAD", QUERY_STRING: "" };
    setupTestingDefaults(environ);
    const chunks: Uint8Array[] = [];
    const gateway = new SimpleHandler(
      new BytesInput(),
      {
        write: (data: Uint8Array) => {
          chunks.push(Buffer.from(data));
        },
      },
      new StringErrors(),
      environ,
    );
    await gateway.run(
      handlerApp((_request, response) => {
        response.headers.set("Content-Type", "text/plain");
        response.sendBodyForHeadRequest = true;
        response.content = "head body";
      }),
    );
    assert.ok(Buffer.concat(chunks).toString().endsWith("\r\n\r\nhead body"));
  });

  it("lets startResponse refuse a hop-by-hop header with its AssertionError", async () => {
    const { output, errors } = await runSimple((_request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.headers.set("Connection", "close");
    }, false);
    assert.match(output, /^HTTP\/1\.0 500 /);
    assert.match(errors, /AssertionError.*Hop-by-hop header, 'Connection: close', not allowed/);
  });
});

describe("ResponseWriter arguments", () => {
  async function misuse(call: (response: Response) => unknown): Promise<unknown> {
    const environ: PartialEnvironment = { QUERY_STRING: "" };
    setupTestingDefaults(environ);
    const thrown = signal<unknown>();
    const gateway = new SimpleHandler(
      new BytesInput(),
      { write: () => undefined },
      new StringErrors(),
      environ,
    );
    await gateway.run(
      handlerApp((_request, response) => {
        try {
          call(response);
          thrown.resolve(undefined);
        } catch (err) {
          thrown.resolve(err);
        }
      }),
    );
    return thrown.promise;
  }

  const cases: Array<[string, (r: Response) => unknown, RegExp]> = [
    [
      "a status code that is no integer",
      (r) => r.writer.writeStatus(20.5),
      /^status code must be a non-negative integer: 20\.5$/,
    ],
    [
      "a status message that is no string",
      (r) => r.writer.writeStatus(200, 1 as unknown as string),
      /^status message must be a string: 1$/,
    ],
    [
      "a status message past U+00FF",
      (r) => r.writer.writeStatus(200, "\u0100"),
      /^status line must contain only code points up to U\+00FF/,
    ],
    [
      "a header name that is no string",
      (r) => r.writer.writeHeader(1 as unknown as string, "v"),
      /^header name must be a string: 1$/,
    ],
    [
      "a header value that is no string",
      (r) => r.writer.writeHeader("X", {} as unknown as string),
      /^value of header X must be a string or a finite number: \{\}$/,
    ],
    [
      "data that is no string or bytes",
      (r) => r.writer.write(1 as unknown as string),
      /^data must be a string or a Uint8Array: 1$/,
    ],
    [
      "raw content of another type",
      (r) => r.writer.writeRawContent(1 as unknown as string),
      /^content must be a string, a Uint8Array or a file: 1$/,
    ],
    [
      "a file without read()",
      (r) => r.writer.writeContentFile({} as never),
      /^file must have a read\(size\) method: \{\}$/,
    ],
    [
      "an unknown encoding",
      (r) => {
        r.encoding = "klingon" as BufferEncoding;
        return r.writer.encode("x");
      },
      /^response\.encoding is not an encoding Node knows: 'klingon'$/,
    ],
    [
      "a bad fileChunkSize",
      (r) => {
        r.writer.fileChunkSize = 0;
      },
      /^fileChunkSize must be a positive integer: 0$/,
    ],
  ];
  for (const [what, call, message] of cases) {
    it(`throws a TypeError for ${what}`, async () => {
      const err = (await misuse(call)) as Error;
      assert.ok(err instanceof TypeError, String(err));
      assert.match(err.message, message);
    });
  }

  it("encodes text with the response's encoding and passes bytes through", () => {
    const environ: PartialEnvironment = { QUERY_STRING: "" };
    setupTestingDefaults(environ);
    const response = new Response(
      new Request(environ),
      new ResponseOutput(environ, () => () => undefined),
    );
    const bytes = new Uint8Array([1, 2]);
    assert.equal(response.writer.encode(bytes), bytes);
    assert.deepEqual([...response.writer.encode("é")], [0xc3, 0xa9]);
    response.encoding = "utf16le";
    assert.deepEqual([...response.writer.encode("a")], [0x61, 0]);
  });
});
