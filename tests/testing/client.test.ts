/**
 * The in-process test client: Fetch API arguments in, standard Responses out,
 * validating by default, keeping wsgi.errors and the last environ; and
 * createEnviron, the environ the client would build, synchronously.
 */
import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimpleHandler } from "../../src/handlers/index.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import { Client, createEnviron } from "../../src/testing.js";
import type { PartialEnvironment, WSGIApplication, WSGIEnvironment } from "../../src/types.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Echoes method, path and body; complains on wsgi.errors about an empty body. */
const echo: WSGIApplication = (environ, startResponse) => {
  const length = Number(environ.CONTENT_LENGTH || "0");
  const body = environ["wsgi.input"].read(length);
  if (body.length === 0) environ["wsgi.errors"].write(`empty ${environ.REQUEST_METHOD}\n`);
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["X-Path", environ.PATH_INFO],
  ]);
  return [enc(`${environ.REQUEST_METHOD} `), body];
};

describe("Client", () => {
  it("sends each method with the Fetch API's arguments and resolves to a Response", async () => {
    const client = new Client(echo);
    for (const method of ["get", "post", "put", "patch", "delete", "options"] as const) {
      const init = method === "get" ? {} : { body: method };
      const response = await client[method]("/p?x=1", init);
      assert.equal(response.status, 200);
      assert.equal(response.statusText, "OK");
      assert.equal(response.headers.get("x-path"), "/p");
      const expected = `${method.toUpperCase()} ${method === "get" ? "" : method}`;
      assert.equal(await response.text(), expected);
    }
    const head = await client.head("/h");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const viaRequest = await client.request(
      new Request("http://other.test:81/r", { method: "PUT", body: "b" }),
    );
    assert.equal(await viaRequest.text(), "PUT b");
    assert.equal(client.lastEnviron?.SERVER_NAME, "other.test");
    assert.equal(client.lastEnviron?.SERVER_PORT, "81");
  });

  it("keeps everything written to wsgi.errors across requests, and the last environ", async () => {
    const client = new Client(echo);
    await client.get("/a");
    await client.delete("/b");
    assert.equal(client.errors, "empty GET\nempty DELETE\n");
    const environ = client.lastEnviron as WSGIEnvironment;
    assert.equal(environ.REQUEST_METHOD, "DELETE");
    assert.equal(environ.PATH_INFO, "/b");
    assert.equal(environ.SERVER_NAME, "localhost");
    assert.equal(environ.REMOTE_ADDR, "127.0.0.1");
    assert.equal(environ.HTTP_HOST, "localhost");
    assert.deepEqual(environ["wsgi.version"], [1, 0]);
  });

  it("rejects with the validator's AssertionError and Python's message on a PEP 3333 violation", async () => {
    const noContentType: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", []);
      return [];
    };
    const client = new Client(noContentType);
    await assert.rejects(client.get("/"), (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      assert.equal(err.message, "No Content-Type header found in headers ([])");
      return true;
    });
    // The same violation during iteration, after the headers.
    const stringChunk: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return (function* () {
        yield enc("ok");
        yield "text" as unknown as Uint8Array;
      })();
    };
    await assert.rejects(new Client(stringChunk).get("/"), AssertionError);
    // Not validated: the gateway answers it as a server would.
    const response = await new Client(noContentType, { validate: false }).get("/");
    assert.equal(response.status, 200);
  });

  it("answers an application error before the headers with a 500 and keeps its stack", async () => {
    const client = new Client(() => {
      throw new Error("kaboom");
    });
    const response = await client.get("/");
    assert.equal(response.status, 500);
    assert.match(client.errors, /Error: kaboom/);
  });

  it("rejects with the application's error raised after its headers", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return (function* () {
        yield enc("half");
        throw new Error("midway");
      })();
    };
    await assert.rejects(new Client(app).get("/"), /midway/);
  });

  it("makes the trap impossible: wsgi.input is the request's body, never an environ key", async () => {
    // The trap: a wsgi.input set in SimpleHandler's environ is replaced by its stdin.
    const environ: PartialEnvironment = {
      REQUEST_METHOD: "POST",
      CONTENT_LENGTH: "4",
      "wsgi.input": new BytesInput(enc("lost")),
    };
    const chunks: Uint8Array[] = [];
    await new SimpleHandler(
      new BytesInput(),
      { write: (b) => void chunks.push(b) },
      new StringErrors(),
      environ,
    ).run(echo);
    assert.match(Buffer.concat(chunks).toString(), /\r\n\r\nPOST $/);
    // Through the client the body goes where the request says, and an environ
    // that tries to set wsgi.input is refused at once.
    assert.throws(
      () => new Client(echo, { environ: { "wsgi.input": new BytesInput(enc("x")) } }),
      /environ must not set wsgi.input; the request body is wsgi.input; send it as the request's body/,
    );
    assert.throws(
      () => new Client(echo, { environ: { "wsgi.errors": new StringErrors() } }),
      /wsgi.errors; use the errors option/,
    );
    const response = await new Client(echo).post("/", { body: "kept" });
    assert.equal(await response.text(), "POST kept");
  });

  it("takes environ keys, a base URL, a mount point and validator options", async () => {
    const readAll: WSGIApplication = (environ, startResponse) => {
      const body = environ["wsgi.input"].read();
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [body];
    };
    const client = new Client(readAll, {
      environ: { "my.key": 1 },
      baseUrl: "https://example.com/",
      scriptName: "/app",
      remoteAddr: "192.0.2.1",
      validate: { readRequiresSize: false },
    });
    const response = await client.post("/app/x", { body: "all" });
    assert.equal(await response.text(), "all");
    const environ = client.lastEnviron as WSGIEnvironment;
    assert.equal(environ["my.key"], 1);
    assert.equal(environ["wsgi.url_scheme"], "https");
    assert.equal(environ.SCRIPT_NAME, "/app");
    assert.equal(environ.PATH_INFO, "/x");
    assert.equal(environ.REMOTE_ADDR, "192.0.2.1");
    // Python's validator requires the size; so does the client's by default.
    await assert.rejects(
      new Client(readAll).post("/", { body: "x" }),
      /wsgi.input.read\(\) must be called with exactly one argument \(got 0\)/,
    );
    assert.throws(
      () => new Client(readAll, { validate: "yes" as unknown as boolean }),
      /validate must be a boolean/,
    );
    assert.throws(() => new Client("app" as unknown as WSGIApplication), /app must be a function/);
  });

  it("answers 413 past maxBodySize as the server does", async () => {
    const response = await new Client(echo, { maxBodySize: 3 }).post("/", { body: "four" });
    assert.equal(response.status, 413);
  });
});

describe("createEnviron", () => {
  it("builds the environ the client gives, synchronously, with the body as wsgi.input", () => {
    const environ = createEnviron("/path/caf%C3%A9?q=1", {
      method: "POST",
      headers: { "X-Token": "t" },
      body: "hello",
    });
    assert.equal(environ.REQUEST_METHOD, "POST");
    assert.equal(environ.PATH_INFO, "/path/caf\xc3\xa9");
    assert.equal(environ.QUERY_STRING, "q=1");
    assert.equal(environ.SERVER_NAME, "localhost");
    assert.equal(environ.SERVER_PORT, "80");
    assert.equal(environ.HTTP_X_TOKEN, "t");
    assert.equal(environ.CONTENT_TYPE, "text/plain;charset=UTF-8");
    assert.equal(environ.CONTENT_LENGTH, "5");
    assert.equal(Buffer.from(environ["wsgi.input"].read(100)).toString(), "hello");
    assert.ok(environ["wsgi.errors"] instanceof StringErrors);
    assert.equal(environ["wsgi.url_scheme"], "http");
    assert.equal(environ["wsgi.multithread"], false);
    assert.equal(environ["wsgi.run_once"], false);
    const body = echo(createEnviron("/x", { method: "PUT", body: enc("bytes") }), () => () => {});
    assert.equal(Buffer.concat(body as Uint8Array[]).toString(), "PUT bytes");
  });

  it("takes a URL or a bodiless Request, and refuses a Request with a body", () => {
    assert.equal(createEnviron(new URL("https://h.test/x")).HTTPS, "on");
    assert.equal(
      createEnviron(new Request("http://h.test/y", { method: "DELETE" })).REQUEST_METHOD,
      "DELETE",
    );
    assert.equal(createEnviron().PATH_INFO, "/");
    assert.throws(
      () => createEnviron(new Request("http://h/", { method: "POST", body: "x" })),
      /cannot read a Request's body synchronously; give the body in init/,
    );
    assert.throws(
      () => createEnviron("/", { body: 5 as unknown as string }),
      /body must be a string or a Uint8Array: 5/,
    );
    assert.throws(() => createEnviron("/", { method: "GET", body: "x" }), TypeError);
  });
});
