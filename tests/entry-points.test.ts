/**
 * One table of cases run against every entry point that serves a WSGI app: the
 * server (makeServer, over a socket), the Fetch handler (toFetchHandler), the
 * test client (Client), the Lambda handler (toLambdaHandler, with function
 * URL events) and the Node listener (toNodeListener in http.createServer).
 * Each has the server's limits, error handling and close() guarantee. A new
 * entry point is one more `EntryPoint` in ENTRY_POINTS.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { toFetchHandler } from "../src/fetch.js";
import { type LambdaHttpEvent, toLambdaHandler } from "../src/lambda.js";
import { toNodeListener } from "../src/node.js";
import { makeServer, WSGIRequestHandler } from "../src/simple-server.js";
import { StringErrors } from "../src/streams.js";
import { Client } from "../src/testing.js";
import type { ErrorStream, WSGIApplication } from "../src/types.js";

/** A response as its consumer saw it. */
interface Outcome {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Whether the consumer could tell the response was incomplete (cut, errored). */
  cut: boolean;
}

/** A response being read as it streams. */
interface Streaming {
  /** The first chunk the consumer got. */
  first: Buffer;
  /** Read the rest, to the end. */
  rest(): Promise<Buffer>;
  /** Stop reading: the consumer goes away. */
  cancel(): void;
}

/** An entry point serving one app. */
interface Served {
  request(method: string, path: string, body?: Buffer): Promise<Outcome>;
  /** Read a response as it streams (entry points that stream only). */
  stream?(path: string): Promise<Streaming>;
  close(): Promise<void>;
}

/** One row of the table. */
interface EntryPoint {
  name: string;
  serve(
    app: WSGIApplication,
    options: { maxBodySize?: number; errors: ErrorStream },
  ): Promise<Served>;
  /** What an error after the headers looks like to the consumer. */
  afterHeaders: "cut" | "500" | "rejects";
}

const ERROR_BODY = "A server error occurred.  Please contact the administrator.";

function headersOf(headers: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name.toLowerCase()] = value;
  return out;
}

/** Read a Fetch Response whole; an errored body counts as cut. */
async function readResponse(response: Response): Promise<Outcome> {
  let body = Buffer.alloc(0);
  let cut = false;
  try {
    body = Buffer.from(await response.arrayBuffer());
  } catch {
    cut = true;
  }
  return { status: response.status, headers: headersOf(response.headers), body, cut };
}

/** Read the first chunk of a Fetch Response's body. */
async function streamResponse(response: Response): Promise<Streaming> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  return {
    first: Buffer.from(first.value ?? []),
    async rest() {
      const chunks: Buffer[] = [];
      for (;;) {
        const step = await reader.read();
        if (step.done) return Buffer.concat(chunks);
        chunks.push(Buffer.from(step.value));
      }
    },
    cancel: () => void reader.cancel(),
  };
}

/**
 * Requests over HTTP to 127.0.0.1:`port`, with node:http as the client; a
 * response that ends early (cut, reset) counts as cut. For every entry point
 * that is a socket server: makeServer here, the Node listener next.
 */
function overHttp(port: number, close: () => Promise<void>): Served {
  const open = (method: string, path: string, body?: Buffer) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: false }, resolve);
      req.on("error", reject);
      req.end(body);
    });
  return {
    async request(method, path, body) {
      const res = await open(method, path, body);
      const chunks: Buffer[] = [];
      const cut = await new Promise<boolean>((resolve) => {
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(false));
        res.on("error", () => resolve(true));
        res.on("aborted", () => resolve(true));
      });
      return {
        status: res.statusCode ?? 0,
        headers: headersOf(Object.entries(res.headers) as Array<[string, string]>),
        body: Buffer.concat(chunks),
        cut: cut || !res.complete,
      };
    },
    async stream(path) {
      const res = await open("GET", path);
      res.on("error", () => {});
      const first = await new Promise<Buffer>((resolve) => res.once("data", resolve));
      return {
        first,
        rest: () =>
          new Promise((resolve) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve(Buffer.concat(chunks)));
          }),
        cancel: () => res.destroy(),
      };
    },
    close,
  };
}

const server: EntryPoint = {
  name: "the server (makeServer)",
  afterHeaders: "cut",
  async serve(app, { maxBodySize, errors }) {
    class Handler extends WSGIRequestHandler {
      override getStderr(): ErrorStream {
        return errors;
      }
    }
    const httpd = await makeServer("127.0.0.1", 0, app, undefined, Handler, {
      quiet: true,
      maxBodySize,
    });
    const serving = httpd.serveForever();
    return overHttp(httpd.serverAddress[1], async () => {
      await httpd.shutdown();
      await serving;
      await httpd.serverClose();
    });
  },
};

// The Node listener (wsgiref/node) joins as one more row:
//   serve: (app, options) => listen on http.createServer(toNodeListener(app, options)),
//   then overHttp(port, close); afterHeaders: "cut".

const fetchHandler: EntryPoint = {
  name: "the Fetch handler (toFetchHandler)",
  afterHeaders: "cut",
  async serve(app, { maxBodySize, errors }) {
    const handler = toFetchHandler(app, { maxBodySize, errors });
    const call = (method: string, path: string, body?: Buffer) =>
      handler(new Request(`http://localhost${path}`, { method, body }));
    return {
      request: async (method, path, body) => readResponse(await call(method, path, body)),
      stream: async (path) => streamResponse(await call("GET", path)),
      close: async () => {},
    };
  },
};

const testClient: EntryPoint = {
  name: "the test client (Client)",
  afterHeaders: "rejects",
  async serve(app, { maxBodySize, errors }) {
    // The table's apps break PEP 3333 on purpose; the client's own errors are copied out.
    const client = new Client(app, { validate: false, maxBodySize });
    let copied = 0;
    const copy = () => {
      errors.write(client.errors.slice(copied));
      copied = client.errors.length;
    };
    return {
      async request(method, path, body) {
        try {
          const response = await client.request(path, { method, body });
          return await readResponse(response);
        } finally {
          copy();
        }
      },
      close: async () => {},
    };
  },
};

const lambdaContext = { awsRequestId: "table" } as unknown as Context;

/** A function URL event for a request (the 2.0 payload AWS documents). */
function urlEvent(method: string, path: string, body?: Buffer): LambdaHttpEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: "abcdefghij.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https" },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdefghij",
      domainName: "abcdefghij.lambda-url.us-east-1.on.aws",
      domainPrefix: "abcdefghij",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "table" },
      requestId: "id",
      routeKey: "$default",
      stage: "$default",
      time: "07/Dec/2026:12:00:00 +0000",
      timeEpoch: 0,
    },
    body: body?.toString("base64"),
    isBase64Encoded: body !== undefined,
  };
}

const lambda: EntryPoint = {
  name: "the Lambda handler (toLambdaHandler)",
  afterHeaders: "500",
  async serve(app, { maxBodySize, errors }) {
    const handler = toLambdaHandler(app, { maxBodySize, errors });
    return {
      async request(method, path, body) {
        const result = (await handler(
          urlEvent(method, path, body),
          lambdaContext,
        )) as APIGatewayProxyStructuredResultV2;
        const text = result.body ?? "";
        return {
          status: result.statusCode ?? 0,
          headers: headersOf(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
          body: result.isBase64Encoded ? Buffer.from(text, "base64") : Buffer.from(text),
          cut: false,
        };
      },
      close: async () => {},
    };
  },
};

const nodeListener: EntryPoint = {
  name: "the Node listener (toNodeListener)",
  afterHeaders: "cut",
  async serve(app, { maxBodySize, errors }) {
    const listening = createServer(toNodeListener(app, { maxBodySize, errors }));
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    return overHttp(
      (listening.address() as AddressInfo).port,
      () =>
        new Promise<void>((resolve) => {
          listening.closeAllConnections();
          listening.close(() => resolve());
        }),
    );
  },
};

const ENTRY_POINTS: EntryPoint[] = [server, fetchHandler, testClient, lambda, nodeListener];

/** A body that counts its close() calls. */
function counted<T extends object>(body: T): { body: T & { close(): void }; closes: () => number } {
  let closes = 0;
  return { body: Object.assign(body, { close: () => void closes++ }), closes: () => closes };
}

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

const text = (s: string): Buffer => Buffer.from(s);

for (const entry of ENTRY_POINTS) {
  describe(`every entry point: ${entry.name}`, () => {
    it("refuses a body past maxBodySize with 413, without calling the app", async () => {
      let calls = 0;
      const errors = new StringErrors();
      const served = await entry.serve(
        (_environ, startResponse) => {
          calls++;
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          return [text("ok")];
        },
        { maxBodySize: 8, errors },
      );
      try {
        const refused = await served.request("POST", "/", Buffer.alloc(16, "x"));
        assert.equal(refused.status, 413);
        assert.equal(calls, 0);
        const fits = await served.request("POST", "/", Buffer.alloc(8, "x"));
        assert.equal(fits.status, 200);
        assert.equal(calls, 1);
      } finally {
        await served.close();
      }
    });

    it("answers an app error before the headers with 500 and the error page, its stack on wsgi.errors", async () => {
      const errors = new StringErrors();
      const served = await entry.serve(
        () => {
          throw new Error("before the headers");
        },
        { errors },
      );
      try {
        const outcome = await served.request("GET", "/");
        assert.equal(outcome.status, 500);
        assert.equal(outcome.body.toString(), ERROR_BODY);
        assert.match(errors.getValue(), /Error: before the headers\n {4}at /);
      } finally {
        await served.close();
      }
    });

    it("makes an app error after the headers visible, closes the body once and logs the stack", async () => {
      const errors = new StringErrors();
      let closes = () => 0;
      const served = await entry.serve(
        (_environ, startResponse) => {
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          const made = counted(
            (function* () {
              yield text("partial ");
              throw new Error("after the headers");
            })(),
          );
          closes = made.closes;
          return made.body;
        },
        { errors },
      );
      try {
        if (entry.afterHeaders === "rejects") {
          await assert.rejects(served.request("GET", "/"), /after the headers/);
        } else {
          const outcome = await served.request("GET", "/");
          if (entry.afterHeaders === "cut") {
            assert.equal(outcome.status, 200);
            assert.equal(outcome.cut, true);
          } else {
            // Nothing has gone out of a buffered entry point yet: the error page.
            assert.equal(outcome.status, 500);
            assert.equal(outcome.body.toString(), ERROR_BODY);
          }
        }
        await eventually(() => closes() > 0);
        assert.equal(closes(), 1);
        assert.match(errors.getValue(), /Error: after the headers/);
      } finally {
        await served.close();
      }
    });

    it("calls close() exactly once on success, and for HEAD, which gets no body and keeps Content-Length", async () => {
      const errors = new StringErrors();
      let closes = () => 0;
      const served = await entry.serve(
        (_environ, startResponse) => {
          startResponse("200 OK", [
            ["Content-Type", "text/plain"],
            ["Content-Length", "5"],
          ]);
          const made = counted([text("hello")]);
          closes = made.closes;
          return made.body;
        },
        { errors },
      );
      try {
        const get = await served.request("GET", "/");
        assert.equal(get.body.toString(), "hello");
        await eventually(() => closes() > 0);
        assert.equal(closes(), 1);
        const head = await served.request("HEAD", "/");
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.equal(head.headers["content-length"], "5");
        await eventually(() => closes() > 0);
        assert.equal(closes(), 1);
        assert.equal(errors.getValue(), "");
      } finally {
        await served.close();
      }
    });

    it("survives stray exceptions (a thrown non-Error, a close() that throws) and serves the next request", async () => {
      const errors = new StringErrors();
      const served = await entry.serve(
        (environ, startResponse) => {
          if (environ.PATH_INFO === "/string") throw "a string, not an Error";
          if (environ.PATH_INFO === "/undefined") throw undefined;
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          if (environ.PATH_INFO === "/close") {
            return Object.assign([text("body")], {
              close() {
                throw new Error("close failed");
              },
            });
          }
          return [text("fine")];
        },
        { errors },
      );
      try {
        assert.equal((await served.request("GET", "/string")).status, 500);
        assert.equal((await served.request("GET", "/undefined")).status, 500);
        // The body went out whole before close() threw: the response stands.
        const closing = await served.request("GET", "/close");
        assert.equal(closing.status, 200);
        assert.equal(closing.body.toString(), "body");
        assert.equal(closing.cut, false);
        const next = await served.request("GET", "/");
        assert.equal(next.status, 200);
        assert.equal(next.body.toString(), "fine");
        assert.match(errors.getValue(), /a string, not an Error/);
        assert.match(errors.getValue(), /close failed/);
      } finally {
        await served.close();
      }
    });

    it("streams the body: chunks in order, and (where it streams) one reaches the consumer before the next is made", async () => {
      const errors = new StringErrors();
      let release: () => void = () => {};
      let closes = () => 0;
      const served = await entry.serve(
        (environ, startResponse) => {
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          const gated = environ.PATH_INFO === "/gated";
          const gate = new Promise<void>((resolve) => {
            release = resolve;
          });
          const made = counted(
            (async function* () {
              yield text("first;");
              if (gated) await gate;
              for (let i = 0; i < 50; i++) yield text(`${i};`);
            })(),
          );
          closes = made.closes;
          return made.body;
        },
        { errors },
      );
      try {
        const whole = await served.request("GET", "/whole");
        const expected = `first;${Array.from({ length: 50 }, (_, i) => `${i};`).join("")}`;
        assert.equal(whole.body.toString(), expected);
        if (served.stream !== undefined) {
          // The app waits at the gate until the consumer has the first chunk.
          const streaming = await served.stream("/gated");
          assert.equal(streaming.first.toString(), "first;");
          release();
          assert.equal(`first;${(await streaming.rest()).toString()}`, expected);
          // A consumer that leaves mid-body: the body is closed once.
          const leaving = await served.stream("/gated");
          const before = closes;
          leaving.cancel();
          release();
          await eventually(() => closes() > 0 && closes !== before);
          assert.equal(closes(), 1);
        }
        assert.equal(errors.getValue(), "");
      } finally {
        await served.close();
      }
    });
  });
}
