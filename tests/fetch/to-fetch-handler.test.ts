/**
 * toFetchHandler with Node's own Request and Response: the environ the server
 * would build, the body limits, the response streamed with backpressure, and
 * close() exactly once whether the body ends, fails or the consumer cancels.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toFetchHandler } from "../../src/fetch.js";
import { StringErrors } from "../../src/streams.js";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.js";
import { validator } from "../../src/validate.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** An app that answers the environ keys it was asked for (`?keys=A,B`) as JSON, and the body it read. */
const environApp: WSGIApplication = (environ, startResponse) => {
  const keys = new URLSearchParams(environ.QUERY_STRING).get("keys")?.split(",") ?? [];
  const picked: Record<string, unknown> = {};
  for (const key of keys) picked[key] = environ[key];
  const input = environ["wsgi.input"];
  picked.body = Buffer.from(input.read(1 << 30)).toString("latin1");
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  return [enc(JSON.stringify(picked))];
};

/** A body that counts its close() calls. */
function counted(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>) {
  const state = { closes: 0 };
  const body = Object.assign(chunks, { close: () => void state.closes++ });
  return { body, state };
}

describe("toFetchHandler", () => {
  it("builds the environ the server builds, from the Request and its URL", async () => {
    const handler = toFetchHandler(validator(environApp), {
      remoteAddr: "203.0.113.9",
      errors: new StringErrors(),
    });
    const keys = [
      "REQUEST_METHOD",
      "SCRIPT_NAME",
      "PATH_INFO",
      "QUERY_STRING",
      "REQUEST_URI",
      "SERVER_NAME",
      "SERVER_PORT",
      "SERVER_PROTOCOL",
      "HTTP_HOST",
      "HTTP_X_NAME",
      "CONTENT_TYPE",
      "CONTENT_LENGTH",
      "REMOTE_ADDR",
      "wsgi.url_scheme",
      "wsgi.input_terminated",
    ];
    const response = await handler(
      new Request(`https://example.org:8443/caf%C3%A9/a%2Fb?keys=${keys.join(",")}`, {
        method: "POST",
        headers: { "X-Name": "ada", "Content-Type": "text/plain" },
        body: "ping",
      }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      REQUEST_METHOD: "POST",
      SCRIPT_NAME: "",
      // Decoded once, as bytes read as latin-1: %2F becomes "/", REQUEST_URI keeps it.
      PATH_INFO: "/caf\xc3\xa9/a/b",
      QUERY_STRING: `keys=${keys.join(",")}`,
      REQUEST_URI: `/caf%C3%A9/a%2Fb?keys=${keys.join(",")}`,
      SERVER_NAME: "example.org",
      SERVER_PORT: "8443",
      SERVER_PROTOCOL: "HTTP/1.1",
      HTTP_HOST: "example.org:8443",
      HTTP_X_NAME: "ada",
      CONTENT_TYPE: "text/plain",
      CONTENT_LENGTH: "4",
      REMOTE_ADDR: "203.0.113.9",
      "wsgi.url_scheme": "https",
      "wsgi.input_terminated": true,
      body: "ping",
    });
  });

  it("puts the app under scriptName, cutting it from a path that has it", async () => {
    const handler = toFetchHandler(environApp, { scriptName: "/wsgi", errors: new StringErrors() });
    const q = "?keys=SCRIPT_NAME,PATH_INFO,REQUEST_URI";
    const full = await (await handler(new Request(`http://h/wsgi/x${q}`))).json();
    assert.deepEqual(full, {
      SCRIPT_NAME: "/wsgi",
      PATH_INFO: "/x",
      REQUEST_URI: `/wsgi/x${q}`,
      body: "",
    });
    // A router that cut the prefix already (Hono's mount by default).
    const cut = (await (await handler(new Request(`http://h/x${q}`))).json()) as Record<
      string,
      string
    >;
    assert.equal(cut.SCRIPT_NAME, "/wsgi");
    assert.equal(cut.PATH_INFO, "/x");
    // Whole segments only.
    const apple = (await (await handler(new Request(`http://h/wsgiapple${q}`))).json()) as Record<
      string,
      string
    >;
    assert.equal(apple.PATH_INFO, "/wsgiapple");
  });

  it("answers 413 past maxBodySize without calling the app, and 431 past maxHeaders", async () => {
    let calls = 0;
    const app: WSGIApplication = (environ, startResponse) => {
      calls++;
      return environApp(environ, startResponse);
    };
    const handler = toFetchHandler(app, {
      maxBodySize: 10,
      maxHeaders: 2,
      errors: new StringErrors(),
    });
    const big = await handler(new Request("http://h/", { method: "POST", body: "x".repeat(11) }));
    assert.equal(big.status, 413);
    assert.equal(await big.text(), "Payload Too Large\n");
    // A streamed body without a length is refused as it grows past the limit.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(enc("123456"));
      },
    });
    const streamed = await handler(
      new Request("http://h/", { method: "POST", body: stream, duplex: "half" } as RequestInit),
    );
    assert.equal(streamed.status, 413);
    const many = await handler(new Request("http://h/", { headers: { a: "1", b: "2", c: "3" } }));
    assert.equal(many.status, 431);
    assert.equal(calls, 0);
    const fits = await handler(
      new Request("http://h/?keys=CONTENT_LENGTH", { method: "POST", body: "x".repeat(10) }),
    );
    assert.deepEqual(await fits.json(), { CONTENT_LENGTH: "10", body: "x".repeat(10) });
  });

  it("spools a body past spoolThreshold and reads it back whole", async () => {
    const handler = toFetchHandler(environApp, {
      spoolThreshold: 1024,
      errors: new StringErrors(),
    });
    const body = Buffer.alloc(300_000, "ab");
    const response = await handler(
      new Request("http://h/?keys=CONTENT_LENGTH", { method: "POST", body }),
    );
    const json = (await response.json()) as Record<string, string>;
    assert.equal(json.CONTENT_LENGTH, "300000");
    assert.equal(json.body, body.toString("latin1"));
  });

  it("streams the body one chunk at a time as the consumer reads (backpressure)", async () => {
    let produced = 0;
    const chunk = new Uint8Array(32 * 1024);
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return (function* () {
        for (let i = 0; i < 100; i++) {
          produced++;
          yield chunk;
        }
      })();
    };
    const response = await toFetchHandler(app, { errors: new StringErrors() })(
      new Request("http://h/"),
    );
    // Let the producer run as far as it may while nobody reads.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // 64 KiB may wait unread: two 32 KiB chunks, and the one being written.
    assert.ok(produced <= 4, `${produced} chunks produced before any read`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let total = 0;
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      total += step.value.length;
    }
    assert.equal(total, 100 * chunk.length);
    assert.equal(produced, 100);
  });

  it("closes the body once, and runs the generator's finally, when the consumer cancels", async () => {
    let finalized = 0;
    const { body, state } = counted(
      (function* () {
        try {
          for (;;) yield enc("tick\n");
        } finally {
          finalized++;
        }
      })(),
    );
    const errors = new StringErrors();
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return body;
    };
    const response = await toFetchHandler(validator(app), { errors })(new Request("http://h/"));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "tick\n");
    await reader.cancel();
    for (let i = 0; i < 10 && state.closes === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(state.closes, 1);
    assert.equal(finalized, 1);
    assert.equal(errors.getValue(), "");
  });

  it("answers 500 with the error page before the headers, and errors the stream after them", async () => {
    const errors = new StringErrors();
    const before: WSGIApplication = () => {
      throw new Error("before headers");
    };
    const early = await toFetchHandler(before, { errors })(new Request("http://h/"));
    assert.equal(early.status, 500);
    assert.equal(await early.text(), "A server error occurred.  Please contact the administrator.");
    assert.match(errors.getValue(), /Error: before headers/);

    const { body, state } = counted(
      (async function* () {
        yield enc("partial");
        throw new Error("after headers");
      })(),
    );
    const late = await toFetchHandler(
      (_e, startResponse) => {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return body;
      },
      { errors },
    )(new Request("http://h/"));
    assert.equal(late.status, 200);
    await assert.rejects(late.text(), /after headers/);
    assert.equal(state.closes, 1);
    assert.match(errors.getValue(), /Error: after headers/);
  });

  it("gives the Response of a body complete at once only once its close() is done, sync or not", async () => {
    for (const later of [false, true]) {
      const state = { closes: 0 };
      const body = Object.assign([enc("he"), enc("llo")], {
        close: (): void | Promise<void> => {
          if (!later) return void state.closes++;
          return new Promise<void>((resolve) =>
            setImmediate(() => {
              state.closes++;
              resolve();
            }),
          );
        },
      });
      const response = await toFetchHandler((_environ, startResponse) => {
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return body;
      })(new Request("http://h/"));
      assert.equal(state.closes, 1, `close() ${later ? "later" : "at once"}`);
      assert.equal(await response.text(), "hello");
    }
  });

  it("returns the Response itself when it is known at once, as a Hono app's fetch does, else a promise", async () => {
    const handler = toFetchHandler(environApp, { errors: new StringErrors() });
    // A list body: complete before the handler returns.
    const atOnce = handler(new Request("http://h/?keys=PATH_INFO"));
    assert.ok(atOnce instanceof Response, "a Response, not a promise");
    assert.deepEqual(await atOnce.json(), { PATH_INFO: "/", body: "" });
    // A refusal (431) is known at once too.
    const refused = toFetchHandler(environApp, { maxHeaders: 1 })(
      new Request("http://h/", { headers: { a: "1", b: "2" } }),
    );
    assert.ok(refused instanceof Response);
    assert.equal(refused.status, 431);
    // A body to receive first: a promise.
    const posted = handler(new Request("http://h/?keys=", { method: "POST", body: "ping" }));
    assert.ok(posted instanceof Promise);
    assert.deepEqual(await (await posted).json(), { body: "ping" });
    // An application that waits: a promise.
    const waiting = toFetchHandler(() => Promise.reject(new Error("later")), {
      errors: new StringErrors(),
    })(new Request("http://h/"));
    assert.ok(waiting instanceof Promise);
    assert.equal((await waiting).status, 500);
  });

  it("answers HEAD, 204 and 304 without a body, once the app has finished, keeping Content-Length", async () => {
    const { body, state } = counted([enc("hello")]);
    const app: WSGIApplication = (environ, startResponse) => {
      const status = environ.PATH_INFO === "/" ? "200 OK" : `${environ.PATH_INFO.slice(1)} X`;
      startResponse(status, status.startsWith("200") ? [["Content-Type", "text/plain"]] : []);
      return status.startsWith("200") ? body : [];
    };
    const handler = toFetchHandler(app, { errors: new StringErrors() });
    const head = await handler(new Request("http://h/", { method: "HEAD" }));
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-length"), "5");
    assert.equal(state.closes, 1);
    for (const code of [204, 205, 304]) {
      const response = await handler(new Request(`http://h/${code}`));
      assert.equal(response.status, code);
      assert.equal(response.body, null);
    }
  });

  it("cuts a body at its Content-Length and fails one that falls short, saying so on wsgi.errors", async () => {
    const errors = new StringErrors();
    const app: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["Content-Length", "4"],
      ]);
      return environ.PATH_INFO === "/long" ? [enc("12"), enc("3456")] : [enc("12")];
    };
    const handler = toFetchHandler(app, { errors });
    assert.equal(await (await handler(new Request("http://h/long"))).text(), "1234");
    assert.match(errors.getValue(), /GET \/long is longer than its Content-Length \(4 bytes\)/);
    await assert.rejects(
      (await handler(new Request("http://h/short"))).text(),
      /shorter than its Content-Length/,
    );
    assert.match(
      errors.getValue(),
      /GET \/short is shorter than its Content-Length \(2 of 4 bytes\)/,
    );
  });

  it("passes a reason phrase and repeated headers through", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("299 Quite Fine", [
        ["Content-Type", "text/plain"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
      ]);
      return [];
    };
    const response = await toFetchHandler(app)(new Request("http://h/"));
    assert.equal(response.status, 299);
    assert.equal(response.statusText, "Quite Fine");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(response.headers.get("content-length"), "0");
  });

  it("keeps headers repeated in another case, and a field named __proto__", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [
        ["Set-Cookie", "a=1"],
        ["set-cookie", "b=2"],
        ["X-Tag", "x"],
      ]);
      return [];
    };
    const response = await toFetchHandler(app)(new Request("http://h/"));
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(response.headers.get("x-tag"), "x");
    const proto: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["__proto__", "p"]]);
      return [];
    };
    const answer = await toFetchHandler(proto)(new Request("http://h/"));
    assert.equal(answer.headers.get("__proto__"), "p");
  });

  it("refuses bad options and apps with a TypeError", () => {
    const app: WSGIApplication = () => [];
    assert.throws(
      () => toFetchHandler(42 as unknown as WSGIApplication),
      /app must be a function: 42/,
    );
    assert.throws(() => toFetchHandler(app, { scriptName: "/x/" }), /scriptName must be ''/);
    assert.throws(
      () => toFetchHandler(app, { maxBodySize: -1 }),
      /maxBodySize must be a non-negative integer: -1/,
    );
    assert.throws(
      () => toFetchHandler(app, { maxHeaders: 0 }),
      /maxHeaders must be a positive integer: 0/,
    );
    assert.throws(
      () => toFetchHandler(app, { remoteAddr: 1 as unknown as string }),
      /remoteAddr must be a string: 1/,
    );
    assert.throws(
      () => toFetchHandler(app, { nope: 1 } as object),
      /toFetchHandler options have no field named 'nope'/,
    );
    assert.throws(
      () => toFetchHandler(app, { environ: { "wsgi.input": {} } as WSGIEnvironment }),
      /environ must not set wsgi.input; the request body is wsgi.input/,
    );
    assert.throws(
      () => toFetchHandler(app, { errors: {} as StringErrors }),
      /errors must be an ErrorStream/,
    );
    assert.throws(
      () => toFetchHandler(app, { multiprocess: 1 as unknown as boolean }),
      /multiprocess must be a boolean/,
    );
  });

  it("sets extra environ keys over the request's own", async () => {
    const handler = toFetchHandler(environApp, {
      environ: { REMOTE_ADDR: "10.0.0.1", "my.key": "v" },
      multiprocess: true,
      errors: new StringErrors(),
    });
    const json = await (
      await handler(new Request("http://h/?keys=REMOTE_ADDR,my.key,wsgi.multiprocess"))
    ).json();
    assert.deepEqual(json, {
      REMOTE_ADDR: "10.0.0.1",
      "my.key": "v",
      "wsgi.multiprocess": true,
      body: "",
    });
  });

  it("rejects when the request body fails (the client went away), and answers 500 when even logging fails", async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("upload aborted"));
      },
    });
    const handler = toFetchHandler(environApp, { errors: new StringErrors() });
    await assert.rejects(
      Promise.resolve(
        handler(
          new Request("http://h/", {
            method: "POST",
            body: failing,
            duplex: "half",
          } as RequestInit),
        ),
      ),
      /upload aborted/,
    );
    // An app error whose logging fails too: Python's "error handling an error".
    const brokenLog = {
      write() {
        throw new Error("log down");
      },
      writelines() {},
      flush() {},
    };
    const response = await toFetchHandler(
      () => {
        throw new Error("app down");
      },
      { errors: brokenLog },
    )(new Request("http://h/"));
    assert.equal(response.status, 500);
  });

  it("answers 500 for a header value beyond latin-1 or a hop-by-hop field added after startResponse()", async () => {
    const errors = new StringErrors();
    const app: WSGIApplication = (environ, startResponse) => {
      const headers: Array<[string, string]> = [["Content-Type", "text/plain"]];
      startResponse("200 OK", headers);
      if (environ.PATH_INFO === "/wide") headers.push(["X-Name", "\u0100"]);
      else headers.push(["Connection", "close"]);
      return [enc("x")];
    };
    const handler = toFetchHandler(app, { errors });
    assert.equal((await handler(new Request("http://h/wide"))).status, 500);
    assert.match(errors.getValue(), /TypeError: the value of header X-Name is not latin-1: 'Ā'/);
    assert.equal((await handler(new Request("http://h/hop"))).status, 500);
    assert.match(errors.getValue(), /Hop-by-hop header, 'Connection: close', not allowed/);
  });

  it("answers 500 for a header split by CR LF, or a name that is no token, added after startResponse()", async () => {
    const errors = new StringErrors();
    const app: WSGIApplication = (environ, startResponse) => {
      const headers: Array<[string, string]> = [["Content-Type", "text/plain"]];
      startResponse("200 OK", headers);
      if (environ.PATH_INFO === "/split") headers.push(["X-A", "a\r\nSet-Cookie: pwned=1"]);
      else headers.push(["X A", "b"]);
      return [enc("x")];
    };
    const handler = toFetchHandler(app, { errors });
    const split = await handler(new Request("http://h/split"));
    assert.equal(split.status, 500);
    assert.equal(split.headers.get("set-cookie"), null);
    assert.match(errors.getValue(), /TypeError: the value of header X-A has a control character/);
    assert.equal((await handler(new Request("http://h/name"))).status, 500);
    assert.match(errors.getValue(), /TypeError: a header name is not a token: 'X A'/);
  });
});
