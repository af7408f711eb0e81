/**
 * fromFetchHandler: Fetch handlers (Node's own Request/Response, a real Hono
 * app) as WSGI applications, under the test client (validator on), the server,
 * `wsgiref serve` from TypeScript source, and real CGI under lighttpd; and the
 * other direction in a real Hono app: a WSGI app mounted with `app.mount()` and
 * `hono/mount`, served by @hono/node-server.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { app as honoWsgi } from "../../examples/fetch/hono-app.js";
import { hono as mountedHono } from "../../examples/fetch/mount-in-hono.js";
import { type FetchHandler, fromFetchHandler, toFetchHandler } from "../../src/fetch.js";
import { makeServer } from "../../src/simple-server.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import { Client, createEnviron } from "../../src/testing.js";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { validator } from "../../src/validate.js";
import { fetchRaw, serveCli, stopAll } from "../cli/cli-process.js";
import { LighttpdServer, lighttpdSkipReason } from "../helpers/lighttpd.js";

after(() => stopAll());

const honoSource = fileURLToPath(new URL("../../../examples/fetch/hono-app.ts", import.meta.url));
const honoBuilt = new URL("../../examples/fetch/hono-app.js", import.meta.url).href;
const handlersBuilt = new URL("../../src/handlers/index.js", import.meta.url).href;
const fetchBuilt = new URL("../../src/fetch.js", import.meta.url).href;

describe("fromFetchHandler", () => {
  it("turns the environ into a Request and the Response into status, headers and body", async () => {
    let seen: Request | undefined;
    let environKeys = 0;
    const handler: FetchHandler = async (request, environ) => {
      seen = request;
      environKeys = Object.keys(environ).length;
      const text = await request.text();
      return new Response(`got ${text}`, {
        status: 201,
        headers: [
          ["Content-Type", "text/plain"],
          ["Set-Cookie", "a=1"],
          ["Set-Cookie", "b=2"],
          ["Connection", "close"],
          ["Keep-Alive", "timeout=5"],
        ],
      });
    };
    const client = new Client(fromFetchHandler(handler));
    const response = await client.post("/x/caf%C3%A9?q=1", {
      body: "ping",
      headers: { "X-Token": "t", "Content-Type": "text/plain" },
    });
    assert.equal(response.status, 201);
    assert.equal(response.statusText, "Created");
    assert.equal(await response.text(), "got ping");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(response.headers.get("connection"), null);
    assert.equal(response.headers.get("keep-alive"), null);
    const request = seen as Request;
    assert.equal(request.url, "http://localhost/x/caf%C3%A9?q=1");
    assert.equal(request.method, "POST");
    assert.equal(request.headers.get("x-token"), "t");
    assert.equal(request.headers.get("content-type"), "text/plain");
    assert.equal(request.headers.get("content-length"), "4");
    assert.ok(environKeys > 10);
    assert.equal(client.errors, "");
  });

  it("takes the reason phrase from statusText, else the standard one, else Unknown", async () => {
    const statuses: Array<[number, string, string]> = [
      [200, "Fine", "Fine"],
      [404, "", "Not Found"],
      [599, "", "Unknown"],
    ];
    for (const [code, text, expected] of statuses) {
      const app = fromFetchHandler(
        () =>
          new Response("x", {
            status: code,
            statusText: text,
            headers: { "Content-Type": "text/plain" },
          }),
      );
      const response = await new Client(app).get("/");
      assert.equal(response.status, code);
      assert.equal(response.statusText, expected);
    }
  });

  it("reads the request body from wsgi.input one piece at a time, as the handler reads it", async () => {
    const sizes: number[] = [];
    const body = Buffer.alloc(200_000, "z");
    const input = new BytesInput(body);
    const read = input.read.bind(input);
    input.read = (size?: number) => {
      sizes.push(size ?? -1);
      return read(size);
    };
    let length = 0;
    const app = fromFetchHandler(async (request) => {
      length = (await request.arrayBuffer()).byteLength;
      return new Response(null, { status: 204 });
    });
    const chunks: Uint8Array[] = [];
    const { SimpleHandler } = await import("../../src/handlers/index.js");
    await new SimpleHandler(input, { write: (b) => void chunks.push(b) }, new StringErrors(), {
      REQUEST_METHOD: "PUT",
      SERVER_NAME: "h",
      SERVER_PORT: "80",
      CONTENT_LENGTH: String(body.length),
      "wsgi.url_scheme": "http",
    }).run(validator(app));
    assert.equal(length, body.length);
    assert.ok(sizes.length >= 4, `${sizes.length} reads`);
    assert.ok(sizes.every((size) => size > 0 && size <= 64 * 1024));
  });

  it("sends a body read to the end when the gateway says it is safe, and none without a length", async () => {
    const bodies: Array<string | null> = [];
    const app = fromFetchHandler(async (request) => {
      bodies.push(request.body === null ? null : await request.text());
      return new Response(null, { status: 204 });
    });
    const run = async (environ: WSGIEnvironment) => {
      const body = await app(environ, () => () => {});
      for await (const _ of body as AsyncIterable<Uint8Array>) {
        // drained
      }
    };
    const terminated = createEnviron("/", { method: "POST", body: "to the end" });
    delete terminated.CONTENT_LENGTH;
    await run(terminated);
    const unknown = createEnviron("/", { method: "POST", body: "unsaid" });
    delete unknown.CONTENT_LENGTH;
    unknown["wsgi.input_terminated"] = false;
    await run(unknown);
    const empty = createEnviron("/", { method: "POST", body: "" });
    await run(empty);
    assert.deepEqual(bodies, ["to the end", null, null]);
  });

  it("answers a handler that throws or returns no Response with a 500, its error on wsgi.errors", async () => {
    const throws = new Client(
      fromFetchHandler(() => {
        throw new Error("handler failed");
      }),
    );
    assert.equal((await throws.get("/")).status, 500);
    assert.match(throws.errors, /Error: handler failed/);
    const wrong = new Client(fromFetchHandler((() => "text") as unknown as FetchHandler));
    assert.equal((await wrong.get("/")).status, 500);
    assert.match(wrong.errors, /the Fetch handler must return a Response: 'text'/);
    assert.throws(
      () => fromFetchHandler(null as unknown as FetchHandler),
      /handler must be a function: null/,
    );
  });

  it("streams the Response body out through the server, and cancels it when the client goes away", async () => {
    let cancelled = false;
    let aborted = false;
    // Held: undici's Request follows the gateway's signal weakly, so a Request
    // collected early would never report the abort (an app holds its request).
    const requests: Request[] = [];
    const handler: FetchHandler = (request) => {
      requests.push(request);
      request.signal.addEventListener("abort", () => {
        aborted = true;
      });
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode(`${n++}\n`.padEnd(1024, ".")));
        },
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/plain" } });
    };
    const errors = new StringErrors();
    await using httpd = await makeServer(
      "127.0.0.1",
      0,
      validator(fromFetchHandler(handler)),
      undefined,
      undefined,
      {
        quiet: true,
      },
    );
    const serving = httpd.serveForever();
    const [, port] = httpd.serverAddress;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
        let got = 0;
        res.on("data", (chunk: Buffer) => {
          got += chunk.length;
          if (got > 8 * 1024) {
            res.destroy();
            resolve();
          }
        });
        res.on("error", () => {});
      });
      req.on("error", reject);
      req.end();
    });
    for (let i = 0; i < 1000 && !(cancelled && aborted); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(cancelled, true);
    assert.equal(aborted, true);
    assert.equal(requests.length, 1);
    assert.equal(errors.getValue(), "");
    await httpd.shutdown();
    await serving;
  });

  it("runs a real Hono app under validator(), every route", async () => {
    const client = new Client(honoWsgi, { remoteAddr: "198.51.100.7" });
    assert.equal(await (await client.get("/hello/ada")).text(), "Hello, ada!");
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const echoed = await client.post("/echo", {
      body: bytes,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.deepEqual(Buffer.from(await echoed.arrayBuffer()), bytes);
    assert.deepEqual(await (await client.get("/who")).json(), {
      url: "http://localhost/who",
      remote: "198.51.100.7",
    });
    assert.equal(await (await client.get("/count")).text(), "1\n2\n3\n");
    assert.equal((await client.get("/nowhere")).status, 404);
    const head = await client.head("/hello/ada");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.equal(client.errors, "");
  });

  it("serves a real Hono app under wsgiref serve, from its TypeScript source", async () => {
    const { child, port } = await serveCli(["serve", honoSource, "--port", "0", "--quiet"]);
    const hello = await fetchRaw(port, "/hello/grace");
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), "Hello, grace!");
    const body = Buffer.alloc(3 * 1024 * 1024, "q");
    const echoed = await fetchRaw(port, "/echo", {
      method: "POST",
      body,
      headers: { "Content-Type": "application/octet-stream" },
    });
    assert.equal(echoed.status, 200);
    assert.equal(echoed.body.length, body.length);
    const who = JSON.parse((await fetchRaw(port, "/who")).body.toString());
    assert.equal(who.remote, "127.0.0.1");
    assert.equal(who.url, `http://127.0.0.1:${port}/who`);
    const count = await fetchRaw(port, "/count");
    assert.equal(count.headers["transfer-encoding"], "chunked");
    assert.equal(count.body.toString(), "1\n2\n3\n");
    child.process.kill("SIGTERM");
    assert.equal((await child.outcome).code, 0);
  });
});

describe("fromFetchHandler under CGI (lighttpd)", { skip: lighttpdSkipReason() }, () => {
  let server: LighttpdServer;

  before(async () => {
    // The Hono app mounted at the script's own path, as a CGI script is served.
    const script = [
      `import { Hono } from "hono";`,
      `import { hono } from ${JSON.stringify(honoBuilt)};`,
      `import { CGIHandler } from ${JSON.stringify(handlersBuilt)};`,
      `import { fromFetchHandler } from ${JSON.stringify(fetchBuilt)};`,
      `const mounted = new Hono().route("/hono.mjs", hono);`,
      "await new CGIHandler().run(fromFetchHandler(mounted.fetch));",
      "",
    ].join("\n");
    // Beside the built example, so that `hono` resolves from the package's node_modules.
    const path = fileURLToPath(new URL("../../examples/fetch/hono.mjs", import.meta.url));
    writeFileSync(path, script);
    const coverage = process.env.NODE_V8_COVERAGE;
    server = await LighttpdServer.start({
      cgiAssign: { ".mjs": process.execPath },
      cgiEnv: coverage === undefined ? {} : { NODE_V8_COVERAGE: coverage },
      extraConfig: `server.modules += ( "mod_alias" )\nalias.url = ( "/hono.mjs" => ${JSON.stringify(path)} )`,
    });
  });

  after(async () => {
    await server?.stop();
  });

  it("answers each route of a real Hono app, one CGI process per request", async () => {
    const hello = await fetchRaw(server.port, "/hono.mjs/hello/lin");
    assert.equal(hello.status, 200, hello.body.toString());
    assert.equal(hello.body.toString(), "Hello, lin!");
    const body = Buffer.from("posted through CGI");
    const echoed = await fetchRaw(server.port, "/hono.mjs/echo", {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain" },
    });
    assert.equal(echoed.body.toString(), "posted through CGI");
    const who = JSON.parse((await fetchRaw(server.port, "/hono.mjs/who?x=1")).body.toString());
    assert.equal(who.url, `http://127.0.0.1:${server.port}/hono.mjs/who?x=1`);
    assert.equal(who.remote, "127.0.0.1");
    assert.equal((await fetchRaw(server.port, "/hono.mjs/count")).body.toString(), "1\n2\n3\n");
    assert.equal((await fetchRaw(server.port, "/hono.mjs/missing")).status, 404);
  });
});

describe("toFetchHandler mounted in Hono, served by @hono/node-server", () => {
  /** GET `path`, on a connection whose local port is reported with the body. */
  function peerOfRequest(port: number, path: string): Promise<{ body: string; localPort: number }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            body: Buffer.concat(chunks).toString(),
            localPort: req.socket?.localPort ?? -1,
          }),
        );
      });
      req.on("error", reject);
      req.end();
    });
  }

  async function listen(
    fetch: (request: Request, context?: unknown) => Response | Promise<Response>,
  ): Promise<{
    port: number;
    close(): Promise<void>;
  }> {
    return new Promise((resolve) => {
      const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
        resolve({
          port: info.port,
          close: () => new Promise((done) => server.close(() => done())),
        });
      });
    });
  }

  it("gives REMOTE_ADDR and REMOTE_PORT of the client, served directly and through app.mount()", async () => {
    const peerApp: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      const { REMOTE_ADDR, REMOTE_PORT } = environ;
      return [Buffer.from(JSON.stringify({ REMOTE_ADDR, REMOTE_PORT }))];
    };
    const hono = new Hono();
    hono.mount("/wsgi", toFetchHandler(peerApp, { scriptName: "/wsgi" }));
    hono.mount("/proxied", toFetchHandler(peerApp, { remoteAddr: "203.0.113.5" }));
    for (const fetch of [toFetchHandler(peerApp), hono.fetch]) {
      const server = await listen(fetch);
      try {
        const path = fetch === hono.fetch ? "/wsgi/x" : "/x";
        const { body, localPort } = await peerOfRequest(server.port, path);
        assert.deepEqual(JSON.parse(body), {
          REMOTE_ADDR: "127.0.0.1",
          REMOTE_PORT: String(localPort),
        });
        if (fetch === hono.fetch) {
          const proxied = JSON.parse((await peerOfRequest(server.port, "/proxied")).body);
          assert.deepEqual(proxied, { REMOTE_ADDR: "203.0.113.5", REMOTE_PORT: "" });
        }
      } finally {
        await server.close();
      }
    }
  });

  it("serves the example: Hono's routes beside the WSGI app under /wsgi (hono/mount)", async () => {
    const server = await listen(mountedHono.fetch);
    try {
      assert.equal((await fetchRaw(server.port, "/")).body.toString(), "Hono at /\n");
      const wsgi = await fetchRaw(server.port, "/wsgi/some/where");
      assert.equal(wsgi.status, 200);
      assert.equal(wsgi.body.toString(), "WSGI at /wsgi, asked /some/where\n");
    } finally {
      await server.close();
    }
  });

  it("mounts with app.mount(), streams with backpressure and closes the body once when the client leaves", async () => {
    let closes = 0;
    let produced = 0;
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      if (environ.PATH_INFO !== "/stream")
        return [Buffer.from(`${environ.SCRIPT_NAME}|${environ.PATH_INFO}`)];
      const body = (function* () {
        for (;;) {
          produced++;
          yield Buffer.alloc(16 * 1024, "s");
        }
      })();
      return Object.assign(body, { close: () => void closes++ });
    };
    const hono = new Hono();
    hono.get("/", (c) => c.text("root"));
    // Hono's default cuts the mount path; scriptName restores SCRIPT_NAME.
    hono.mount(
      "/legacy",
      toFetchHandler(validator(app), { scriptName: "/legacy", errors: new StringErrors() }),
    );
    const server = await listen(hono.fetch);
    try {
      assert.equal((await fetchRaw(server.port, "/legacy/a/b?x")).body.toString(), "/legacy|/a/b");
      assert.equal((await fetchRaw(server.port, "/")).body.toString(), "root");
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port: server.port, path: "/legacy/stream", agent: false },
          (res) => {
            res.once("data", () => {
              res.destroy();
              resolve();
            });
          },
        );
        req.on("error", reject);
        req.end();
      });
      for (let i = 0; i < 300 && closes === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(closes, 1);
      // Bounded by what the socket and the stream hold, not by the endless body.
      const held = produced;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(produced, held);
      assert.ok(produced < 1000, `${produced} chunks produced`);
    } finally {
      await server.close();
    }
  });
});
