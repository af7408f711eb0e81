/**
 * toNodeListener mounted where Node listeners run: http.createServer,
 * https.createServer (an openssl certificate), Express 5 under a prefix beside
 * its routes and middleware, a Connect-style (req, res, next) chain, and
 * http2.createSecureServer's compatibility API (h2 through node:http2's client
 * and HTTP/1.1 on the same port). Real servers on 127.0.0.1 port 0.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { constants, createSecureServer, connect as h2connect } from "node:http2";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import express from "express";
import { toNodeListener } from "../../src/node.js";
import { StringErrors } from "../../src/streams.js";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { type FileWrapper, openFile, requestUri } from "../../src/util.js";
import { exchange, parseResponses, request } from "../helpers/server-client.js";

const ERROR_BODY = "A server error occurred.  Please contact the administrator.";

/** Environ keys an app answers with, as JSON. */
const KEYS = [
  "REQUEST_METHOD",
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "REQUEST_URI",
  "SERVER_NAME",
  "SERVER_PORT",
  "SERVER_PROTOCOL",
  "REMOTE_ADDR",
  "CONTENT_LENGTH",
  "HTTP_HOST",
  "HTTP_COOKIE",
  "HTTPS",
  "wsgi.url_scheme",
  "wsgi.multiprocess",
];

/** Answers its environ (KEYS, the request body, the access URL) as JSON. */
const environApp: WSGIApplication = (environ, startResponse) => {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) out[key] = environ[key];
  const input = environ["wsgi.input"] as { read(): Uint8Array };
  out.body = Buffer.from(input.read()).toString();
  out.url = requestUri(environ as WSGIEnvironment);
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [Buffer.from(JSON.stringify(out))];
};

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  /** The response ended short of its framing (cut). */
  cut: boolean;
}

/** Read a response whole; a cut body shows as `cut`. */
function read(res: IncomingMessage): Promise<Reply> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const done = (cut: boolean) =>
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString(),
        cut: cut || !res.complete,
      });
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => done(false));
    res.on("error", () => done(true));
    res.on("aborted", () => done(true));
  });
}

/** One HTTP/1.1 request to 127.0.0.1:`port`. */
function fetchHttp(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: init.method ?? "GET",
        headers: init.headers,
        agent: false,
      },
      (res) => resolve(read(res)),
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

async function listen(server: Server | import("node:https").Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function close(server: { close(cb: () => void): void; closeAllConnections?(): void }) {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A self-signed certificate for 127.0.0.1, made by openssl in a temporary directory. */
function certificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-node-tls-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("toNodeListener", () => {
  describe("in http.createServer", () => {
    const errors = new StringErrors();
    let server: Server;
    let port = 0;
    before(async () => {
      const app: WSGIApplication = (environ, startResponse) => {
        if (environ.PATH_INFO === "/fail") throw new Error("before the headers");
        if (environ.PATH_INFO === "/fail-late") {
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          return (function* () {
            yield Buffer.from("partial");
            throw new Error("after the headers");
          })();
        }
        return environApp(environ, startResponse);
      };
      server = createServer(toNodeListener(app, { maxBodySize: 64, maxHeaders: 20, errors }));
      port = await listen(server);
    });
    after(() => close(server));

    it("builds the environ as the server does: the path decoded, the target raw, the local end as the server", async () => {
      const reply = await fetchHttp(port, "/a%20b/%2F?x=1&y", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "hello",
      });
      assert.equal(reply.status, 200);
      assert.match(String(reply.headers.server), /^WSGIServer\//);
      assert.deepEqual(JSON.parse(reply.body), {
        REQUEST_METHOD: "POST",
        SCRIPT_NAME: "",
        PATH_INFO: "/a b//",
        QUERY_STRING: "x=1&y",
        REQUEST_URI: "/a%20b/%2F?x=1&y",
        SERVER_NAME: "127.0.0.1",
        SERVER_PORT: String(port),
        SERVER_PROTOCOL: "HTTP/1.1",
        REMOTE_ADDR: "127.0.0.1",
        CONTENT_LENGTH: "5",
        HTTP_HOST: `127.0.0.1:${port}`,
        "wsgi.url_scheme": "http",
        "wsgi.multiprocess": false,
        body: "hello",
        url: `http://127.0.0.1:${port}/a%20b//?x=1&y`,
      });
    });

    it("refuses as the server does: 413 before reading, 413 for a chunked body past the limit, 431, two Hosts 400", async () => {
      assert.equal(
        (await fetchHttp(port, "/", { method: "POST", body: "x".repeat(65) })).status,
        413,
      );
      const chunked = parseResponses(
        await exchange(
          port,
          request(
            "POST",
            "/",
            ["Transfer-Encoding: chunked"],
            `41\r\n${"x".repeat(65)}\r\n0\r\n\r\n`,
          ),
        ),
      );
      assert.equal(chunked[0]?.status, 413);
      const many: Record<string, string> = {};
      for (let i = 0; i < 25; i++) many[`x-h${i}`] = "1";
      assert.equal((await fetchHttp(port, "/", { headers: many })).status, 431);
      const twoHosts = parseResponses(await exchange(port, request("GET", "/", ["Host: other"])));
      assert.equal(twoHosts[0]?.status, 400);
    });

    it("sends 100 Continue once, though Node sent it before its request event", async () => {
      const bytes = await exchange(
        port,
        request(
          "POST",
          "/",
          ["Content-Length: 2", "Expect: 100-continue", "Connection: close"],
          "hi",
        ),
      );
      const text = bytes.toString("latin1");
      assert.equal(text.split("HTTP/1.1 100 Continue").length - 1, 1, text);
      assert.match(text, /HTTP\/1\.1 200 OK/);
    });

    it("answers an app error 500 before the headers and cuts the response after them, stacks on errors", async () => {
      const early = await fetchHttp(port, "/fail");
      assert.equal(early.status, 500);
      assert.equal(early.body, ERROR_BODY);
      const late = await fetchHttp(port, "/fail-late");
      assert.equal(late.status, 200);
      assert.equal(late.cut, true);
      assert.match(errors.getValue(), /Error: before the headers\n {4}at /);
      assert.match(errors.getValue(), /Error: after the headers\n {4}at /);
      assert.equal((await fetchHttp(port, "/after")).status, 200);
    });

    it("mounts under options.scriptName: the prefix cut from PATH_INFO, other paths left whole", async () => {
      const mounted = createServer(toNodeListener(environApp, { scriptName: "/app" }));
      const mountedPort = await listen(mounted);
      try {
        const under = JSON.parse((await fetchHttp(mountedPort, "/app/x?q")).body);
        assert.equal(under.SCRIPT_NAME, "/app");
        assert.equal(under.PATH_INFO, "/x");
        assert.equal(under.url, `http://127.0.0.1:${mountedPort}/app/x?q`);
        const apple = JSON.parse((await fetchHttp(mountedPort, "/apple")).body);
        assert.equal(apple.PATH_INFO, "/apple");
      } finally {
        await close(mounted);
      }
    });

    it("on a Unix socket: SERVER_NAME and SERVER_PORT empty; the environ option's keys set last", async () => {
      const dir = mkdtempSync(join(tmpdir(), "wsgiref-node-unix-"));
      const path = join(dir, "s.sock");
      const unix = createServer(
        toNodeListener(environApp, { environ: { SERVER_NAME: "configured", "x.extra": 1 } }),
      );
      unix.listen(path);
      await once(unix, "listening");
      try {
        const reply = await new Promise<Reply>((resolve, reject) => {
          const req = httpRequest({ socketPath: path, path: "/u", agent: false }, (res) =>
            resolve(read(res)),
          );
          req.on("error", reject);
          req.end();
        });
        const env = JSON.parse(reply.body);
        assert.equal(env.SERVER_NAME, "configured");
        assert.equal(env.SERVER_PORT, "");
      } finally {
        await close(unix);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("checks its arguments", () => {
      assert.throws(
        () => toNodeListener("app" as never),
        /^TypeError: app must be a function: 'app'$/,
      );
      assert.throws(
        () => toNodeListener(environApp, { scriptName: "/app/" }),
        /scriptName must be '' or an absolute path/,
      );
      assert.throws(
        () => toNodeListener(environApp, { quiet: true } as never),
        /toNodeListener options have no field named 'quiet'/,
      );
    });
  });

  describe("in https.createServer and http2.createSecureServer", () => {
    let tls: { key: Buffer; cert: Buffer };
    before(() => {
      tls = certificate();
    });

    it("says https over TLS (wsgi.url_scheme, HTTPS on)", async () => {
      const server = createHttpsServer(tls, toNodeListener(environApp));
      const port = await listen(server);
      try {
        const reply = await new Promise<Reply>((resolve, reject) => {
          const req = httpsRequest(
            { host: "127.0.0.1", port, path: "/s", rejectUnauthorized: false, agent: false },
            (res) => resolve(read(res)),
          );
          req.on("error", reject);
          req.end();
        });
        const env = JSON.parse(reply.body);
        assert.equal(env["wsgi.url_scheme"], "https");
        assert.equal(env.HTTPS, "on");
        assert.equal(env.url, `https://127.0.0.1:${port}/s`);
      } finally {
        await close(server);
      }
    });

    it("serves h2 (node:http2's client) and HTTP/1.1 on the same port through the compatibility API", async () => {
      const errors = new StringErrors();
      let closes = 0;
      const app: WSGIApplication = (environ, startResponse) => {
        if (environ.PATH_INFO === "/type-twice") {
          startResponse("200 OK", [
            ["Content-Type", "text/plain"],
            ["content-type", "text/html"],
          ]);
          return [Buffer.from("never sent")];
        }
        if (environ.PATH_INFO === "/reset") {
          startResponse("200 OK", [["Content-Type", "text/plain"]]);
          return Object.assign(
            (function* () {
              yield Buffer.from("partial");
              throw new Error("after the headers");
            })(),
            { close: () => void closes++ },
          );
        }
        return environApp(environ, startResponse);
      };
      const server = createSecureServer(
        { ...tls, allowHTTP1: true },
        toNodeListener(app, { maxBodySize: 16, errors }),
      );
      const port = await listen(server as unknown as Server);
      const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const h2 = (
        headers: Record<string, string>,
        body?: string,
      ): Promise<{
        status: number;
        body: string;
        rstCode: number;
        headers: Record<string, unknown>;
      }> =>
        new Promise((resolve) => {
          const stream = session.request(headers);
          const chunks: Buffer[] = [];
          let status = 0;
          let head: Record<string, unknown> = {};
          stream.on("response", (h) => {
            status = Number(h[":status"]);
            head = h;
          });
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", () => undefined);
          stream.on("close", () =>
            resolve({
              status,
              body: Buffer.concat(chunks).toString(),
              rstCode: stream.rstCode ?? 0,
              headers: head,
            }),
          );
          stream.end(body);
        });
      try {
        const got = await h2(
          { ":method": "POST", ":path": "/h2/%41?q=1", cookie: "a=1", "Cookie-2": "x" },
          "body",
        );
        assert.equal(got.status, 200);
        assert.equal(got.headers.connection, undefined);
        const env = JSON.parse(got.body);
        assert.equal(env.SERVER_PROTOCOL, "HTTP/2");
        assert.equal(env.PATH_INFO, "/h2/A");
        assert.equal(env.REQUEST_URI, "/h2/%41?q=1");
        assert.equal(env.HTTP_HOST, `127.0.0.1:${port}`);
        assert.equal(env.HTTPS, "on");
        assert.equal(env.CONTENT_LENGTH, "4");
        assert.equal(env.body, "body");
        const cookies = await new Promise<string>((resolve) => {
          const stream = session.request({ ":path": "/c", cookie: ["a=1", "b=2"] } as never);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString()).HTTP_COOKIE));
        });
        assert.equal(cookies, "a=1; b=2");
        // Past maxBodySize: 413, the stream then closed without error.
        const big = await h2({ ":method": "POST", ":path": "/" }, "x".repeat(17));
        assert.equal(big.status, 413);
        assert.equal(big.body, "Payload Too Large\n");
        // An error after the headers resets only its stream.
        const reset = await h2({ ":path": "/reset" });
        assert.equal(reset.status, 200);
        assert.equal(reset.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
        assert.equal(closes, 1);
        assert.match(errors.getValue(), /Error: after the headers/);
        const again = await h2({ ":path": "/again" });
        assert.equal(again.status, 200);
        // A head node:http2 refuses (a single-valued field twice): the error page.
        const twice = await h2({ ":path": "/type-twice" });
        assert.equal(twice.status, 500);
        assert.doesNotMatch(twice.body, /never sent/);
        assert.match(errors.getValue(), /header content-type is sent once at most over HTTP\/2/);
        // HTTP/1.1 on the same port: Node's own IncomingMessage, the server's handler.
        const http1 = await new Promise<Reply>((resolve, reject) => {
          const req = httpsRequest(
            { host: "127.0.0.1", port, path: "/one", rejectUnauthorized: false, agent: false },
            (res) => resolve(read(res)),
          );
          req.on("error", reject);
          req.end();
        });
        assert.equal(JSON.parse(http1.body).SERVER_PROTOCOL, "HTTP/1.1");
      } finally {
        session.close();
        await close(server);
      }
    });
    it("streams large bodies and files over h2 with backpressure, refuses a Host unlike :authority, closes once on a reset", async () => {
      const dir = mkdtempSync(join(tmpdir(), "wsgiref-node-file-"));
      const file = join(dir, "f.bin");
      writeFileSync(file, Buffer.alloc(300 * 1024, "f"));
      let closes = 0;
      let release: () => void = () => {};
      const app: WSGIApplication = (environ, startResponse) => {
        startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
        if (environ.PATH_INFO === "/file") {
          return new (environ["wsgi.file_wrapper"] as typeof FileWrapper)(openFile(file));
        }
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const waits = environ.PATH_INFO === "/leave";
        return Object.assign(
          (async function* () {
            for (let i = 0; i < 32; i++) {
              yield Buffer.alloc(64 * 1024, "b");
              if (waits && i === 0) await gate;
            }
          })(),
          { close: () => void closes++ },
        );
      };
      const server = createSecureServer(tls, toNodeListener(app));
      const port = await listen(server as unknown as Server);
      const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const get = (headers: Record<string, string>) =>
        new Promise<{ status: number; length: number }>((resolve, reject) => {
          const stream = session.request(headers);
          let status = 0;
          let length = 0;
          stream.on("response", (h) => {
            status = Number(h[":status"]);
          });
          stream.on("data", (chunk: Buffer) => {
            length += chunk.length;
          });
          stream.on("end", () => resolve({ status, length }));
          stream.on("error", reject);
        });
      try {
        assert.deepEqual(await get({ ":path": "/big" }), { status: 200, length: 2 * 1024 * 1024 });
        assert.equal(closes, 1);
        assert.deepEqual(await get({ ":path": "/file" }), { status: 200, length: 300 * 1024 });
        assert.equal(
          (await get({ ":path": "/", ":authority": `127.0.0.1:${port}`, host: "elsewhere" }))
            .status,
          400,
        );
        // The client resets its stream while the application waits: close() once.
        const leaving = session.request({ ":path": "/leave" });
        await once(leaving, "data");
        leaving.close(constants.NGHTTP2_CANCEL);
        await once(leaving, "close");
        release();
        for (let i = 0; i < 200 && closes < 2; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(closes, 2);
      } finally {
        session.close();
        await close(server);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("over h2, a body", () => {
    it("read by someone else first is 500 with the reason on errors; a client that leaves mid-body never reaches the app", async () => {
      const errors = new StringErrors();
      let calls = 0;
      const listener = toNodeListener(
        (environ, startResponse) => {
          calls++;
          return environApp(environ, startResponse);
        },
        { errors },
      );
      const server = createSecureServer(certificate(), (req, res) => {
        if (req.url !== "/parsed") {
          listener(req, res);
          return;
        }
        // A body parser's part: read to the end, then hand on.
        req.resume();
        req.once("end", () => listener(req, res));
      });
      const port = await listen(server as unknown as Server);
      const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      try {
        const parsed = session.request({ ":method": "POST", ":path": "/parsed" });
        parsed.end("body");
        const [head] = (await once(parsed, "response")) as [Record<string, unknown>];
        assert.equal(head[":status"], 500);
        parsed.resume();
        assert.match(errors.getValue(), /the request body was read before the WSGI application/);
        const leaving = session.request({ ":method": "POST", ":path": "/leave" });
        leaving.write("part of it");
        await new Promise((r) => setTimeout(r, 50));
        // destroy(), not close(): close() sends END_STREAM first, a whole body.
        leaving.destroy();
        await once(leaving, "close");
        const next = session.request({ ":path": "/next" });
        next.end();
        const [after] = (await once(next, "response")) as [Record<string, unknown>];
        assert.equal(after[":status"], 200);
        next.resume();
        assert.equal(calls, 1);
      } finally {
        session.close();
        await close(server);
      }
    });
  });

  describe("in Express 5", () => {
    const errors = new StringErrors();
    const seen: string[] = [];
    let expressErrors = 0;
    let server: Server;
    let port = 0;
    before(async () => {
      const wsgiApp: WSGIApplication = (environ, startResponse) => {
        if (environ.PATH_INFO === "/fail") throw new Error("in the WSGI app");
        return environApp(environ, startResponse);
      };
      const app = express();
      app.use((req, _res, next) => {
        seen.push(req.originalUrl);
        next();
      });
      app.use("/parsed", express.json());
      app.use("/parsed", toNodeListener(wsgiApp, { errors }));
      app.use("/wsgi", toNodeListener(wsgiApp, { errors }));
      app.get("/wsgi/route", (_req, res) => {
        res.send("the Express route");
      });
      app.get("/express", (_req, res) => {
        res.send("an Express route");
      });
      app.use((_err: unknown, _req: unknown, res: ServerResponse, _next: unknown) => {
        expressErrors++;
        res.statusCode = 599;
        res.end("express error handler");
      });
      server = createServer(app);
      port = await listen(server);
    });
    after(() => close(server));

    it("gives SCRIPT_NAME the mount, PATH_INFO the rest and REQUEST_URI the original target", async () => {
      const env = JSON.parse((await fetchHttp(port, "/wsgi/a%2Fb/c?q=1")).body);
      assert.equal(env.SCRIPT_NAME, "/wsgi");
      assert.equal(env.PATH_INFO, "/a/b/c");
      assert.equal(env.REQUEST_URI, "/wsgi/a%2Fb/c?q=1");
      assert.equal(env.QUERY_STRING, "q=1");
      // requestUri quotes the decoded PATH_INFO, as Python's request_uri: %2F is a slash by then.
      assert.equal(env.url, `http://127.0.0.1:${port}/wsgi/a/b/c?q=1`);
      const root = JSON.parse((await fetchHttp(port, "/wsgi?x")).body);
      assert.equal(root.SCRIPT_NAME, "/wsgi");
      assert.equal(root.PATH_INFO, "");
      assert.equal(root.url, `http://127.0.0.1:${port}/wsgi?x`);
      const slash = JSON.parse((await fetchHttp(port, "/wsgi/")).body);
      assert.equal(slash.PATH_INFO, "/");
    });

    it("runs beside Express: a middleware before it sees the request, a route after it under its prefix is not reached, others are", async () => {
      seen.length = 0;
      const shadowed = await fetchHttp(port, "/wsgi/route");
      assert.equal(JSON.parse(shadowed.body).PATH_INFO, "/route");
      assert.deepEqual(seen, ["/wsgi/route"]);
      const other = await fetchHttp(port, "/express");
      assert.equal(other.body, "an Express route");
      const posted = await fetchHttp(port, "/wsgi/p", { method: "POST", body: "form=1" });
      assert.equal(JSON.parse(posted.body).body, "form=1");
    });

    it("answers an app error 500 itself and never calls Express's error handler", async () => {
      const reply = await fetchHttp(port, "/wsgi/fail");
      assert.equal(reply.status, 500);
      assert.equal(reply.body, ERROR_BODY);
      assert.equal(expressErrors, 0);
      assert.match(errors.getValue(), /Error: in the WSGI app/);
    });

    it("answers 500 when a body parser before it has read the body, and says why on errors", async () => {
      const json = await fetchHttp(port, "/parsed/x", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      });
      assert.equal(json.status, 500);
      assert.match(errors.getValue(), /the request body was read before the WSGI application/);
      // A body the parser leaves alone (not JSON) reaches the application.
      const text = await fetchHttp(port, "/parsed/x", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "plain",
      });
      assert.equal(JSON.parse(text.body).body, "plain");
    });
  });

  describe("in a Connect-style (req, res, next) chain", () => {
    it("takes next and never calls it; with scriptName, the mount comes from originalUrl", async () => {
      let nexts = 0;
      const errors = new StringErrors();
      const app: WSGIApplication = (environ, startResponse) => {
        if (environ.PATH_INFO === "/fail") throw new Error("connect");
        return environApp(environ, startResponse);
      };
      const listener = toNodeListener(app, { scriptName: "/mount", errors });
      // Connect's mount: req.url loses the prefix, req.originalUrl keeps the target.
      const server = createServer((req, res) => {
        const original = req.url ?? "/";
        if (!original.startsWith("/mount")) {
          res.end("not mounted");
          return;
        }
        Object.assign(req, { originalUrl: original, url: original.slice("/mount".length) || "/" });
        listener(req, res, () => {
          nexts++;
        });
      });
      const port = await listen(server);
      try {
        const env = JSON.parse((await fetchHttp(port, "/mount/x%41?z")).body);
        assert.equal(env.SCRIPT_NAME, "/mount");
        assert.equal(env.PATH_INFO, "/xA");
        assert.equal(env.REQUEST_URI, "/mount/x%41?z");
        assert.equal((await fetchHttp(port, "/mount/fail")).status, 500);
        assert.equal(nexts, 0);
      } finally {
        await close(server);
      }
    });
  });
});
