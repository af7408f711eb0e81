/**
 * wptserve's own functional tests, ported: `tools/wptserve/tests/functional/`
 * `test_response.py` (class `TestResponse`), `test_request.py` and
 * `test_cookies.py` of the web-platform-tests repository, each under its
 * Python name, served over HTTP/1.1 by simple-server and read with Python's
 * `http.client` as wptserve's tests read them. A handler that returned a value
 * in Python sets `response.content` here (wsgiref's handlers return nothing).
 *
 * Not ported: `test_route_match` and `TestAuth.test_auth` (wsgiref/response has
 * no router and no `request.auth`), and `TestH2Response`, which is in
 * h2-response.test.ts.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Handler, Response, ResponseWriter } from "../../src/response/index.js";
import { handlerApp } from "../../src/response/index.js";
import type { InputStream } from "../../src/types.js";
import { needs } from "../helpers/peers.js";
import {
  expectResponse,
  infoHeader,
  type PythonResponse,
  pythonRequest,
} from "../helpers/python-client.js";
import { serveRoutes as serveValidated } from "../helpers/response-server.js";
import type { Running } from "../helpers/server-client.js";
import { serve } from "../helpers/server-client.js";

/** wsgiref's inputs can seek (Python's io.BytesIO); the interface only promises reading. */
interface Seekable extends InputStream {
  seek(offset: number, whence?: 0 | 1 | 2): number;
  tell(): number;
}

function rawInput(environ: Record<string, unknown>): Seekable {
  return environ["wsgi.input"] as Seekable;
}

/**
 * wptserve's `send_body_as_header`, bound over `writer.endHeaders`: the default
 * headers, then `X-Body: ` so the content lands in a header. Python sets
 * `_headers_complete`; here a second call does nothing, to the same effect.
 */
function sendBodyAsHeader(response: Response): void {
  const writer: ResponseWriter = response.writer;
  let complete = false;
  writer.endHeaders = () => {
    if (complete) return true;
    complete = true;
    if (response.addRequiredHeaders) writer.writeDefaultHeaders();
    writer.write("X-Body: ");
    return true;
  };
}

/** `b" ".join(...)` */
function joinBytes(parts: Uint8Array[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((part, i) => {
    if (i > 0) out.push(Buffer.from(" "));
    out.push(Buffer.from(part));
  });
  return Buffer.concat(out);
}

/**
 * Serve the routes unvalidated: wptserve's handlers send no Content-Type, which
 * validator() (as Python's) requires; a head still goes through WSGI unless the
 * handler makes it raw.
 */
function serveRoutes(routes: Record<string, Handler>): Promise<Running> {
  return serveValidated(
    Object.fromEntries(
      Object.entries(routes).map(([path, handler]) => [path, { mode: "raw" as const, handler }]),
    ),
  );
}

const SHIFT_JIS_DOUMO = Buffer.from([0x82, 0xc7, 0x82, 0xa4, 0x82, 0xe0]); // "どうも".encode("shift-jis")

function quoteFromBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}

describe("wptserve test_response.py TestResponse", { skip: needs("python3") }, () => {
  let server: Running;

  before(async () => {
    server = await serveRoutes({
      "/test/test_head_without_body": (_request, response) => {
        sendBodyAsHeader(response);
        response.headers.set("X-Test", "TEST");
        response.content = "body\r\n";
      },
      "/test/test_head_with_body": (_request, response) => {
        response.sendBodyForHeadRequest = true;
        sendBodyAsHeader(response);
        response.headers.set("X-Test", "TEST");
        response.content = "body\r\n";
      },
      "/test/test_write_content_no_status_no_header": (_request, response) => {
        response.writer.writeContent(Buffer.from("TEST"));
      },
      "/test/test_write_content_no_headers": (_request, response) => {
        response.writer.writeStatus(201);
        response.writer.writeContent(Buffer.from("TEST"));
      },
      "/test/test_write_content_no_status": (_request, response) => {
        response.writer.writeHeader("test-header", "test-value");
        response.writer.writeContent(Buffer.from("TEST"));
      },
      "/test/test_write_content_no_status_no_required_headers": (_request, response) => {
        response.addRequiredHeaders = false;
        response.writer.writeHeader("test-header", "test-value");
        response.writer.writeContent(Buffer.from("TEST"));
      },
      "/test/test_write_content_no_status_no_headers_no_required_headers": (_request, response) => {
        response.addRequiredHeaders = false;
        response.writer.writeContent(Buffer.from("TEST"));
      },
      "/test/test_write_raw_content": (_request, response) => {
        response.writer.writeRawContent(
          Buffer.from("HTTP/1.1 202 Giraffe\nX-TEST: PASS\nContent-Length: 7\n\nContent"),
        );
      },
      "/test/test_write_raw_content_file": (_request, response) => {
        // docroot/test.asis, as a file-like object.
        const asis = Buffer.from(
          "HTTP/1.1 202 Giraffe\nX-TEST: PASS\nContent-Length: 7\n\nContent",
        );
        let at = 0;
        response.writer.writeRawContent({
          read(size: number) {
            const chunk = asis.subarray(at, at + size);
            at += chunk.length;
            return chunk;
          },
        });
      },
      "/test/test_write_raw_none": (_request, response) => {
        // Python: pytest.raises(ValueError); the TypeScript misuse error is a TypeError.
        assert.throws(() => response.writer.writeRawContent(null as unknown as string), TypeError);
      },
      "/test/test_write_raw_contents_invalid_http": (_request, response) => {
        response.writer.writeRawContent(Buffer.from("INVALID HTTP"));
      },
    });
  });
  after(() => server.close());

  const get = async (path: string, method = "GET"): Promise<PythonResponse> =>
    expectResponse(await pythonRequest(server.port, path, { method }));

  it("test_head_without_body", async () => {
    const resp = await get("/test/test_head_without_body", "HEAD");
    assert.equal(infoHeader(resp, "Content-Length"), "6");
    assert.equal(infoHeader(resp, "x-Test"), "TEST");
    assert.equal(infoHeader(resp, "x-body"), "");
  });

  it("test_head_with_body", async () => {
    const resp = await get("/test/test_head_with_body", "HEAD");
    assert.equal(infoHeader(resp, "Content-Length"), "6");
    assert.equal(infoHeader(resp, "x-Test"), "TEST");
    assert.equal(infoHeader(resp, "X-Body"), "body");
  });

  it("test_write_content_no_status_no_header", async () => {
    const resp = await get("/test/test_write_content_no_status_no_header");
    assert.equal(resp.status, 200);
    assert.deepEqual(resp.body, Buffer.from("TEST"));
    assert.equal(infoHeader(resp, "Content-Length"), "4");
    assert.ok(infoHeader(resp, "Date") !== undefined);
    assert.ok(infoHeader(resp, "Server") !== undefined);
  });

  it("test_write_content_no_headers", async () => {
    const resp = await get("/test/test_write_content_no_headers");
    assert.equal(resp.status, 201);
    assert.deepEqual(resp.body, Buffer.from("TEST"));
    assert.equal(infoHeader(resp, "Content-Length"), "4");
    assert.ok(infoHeader(resp, "Date") !== undefined);
    assert.ok(infoHeader(resp, "Server") !== undefined);
  });

  it("test_write_content_no_status", async () => {
    const resp = await get("/test/test_write_content_no_status");
    assert.equal(resp.status, 200);
    assert.deepEqual(resp.body, Buffer.from("TEST"));
    // Less the hop-by-hop headers node:http adds for a keep-alive client
    // (Connection, Keep-Alive), which wptserve's server does not send.
    const names = resp.headers.map(([k]) => k.toLowerCase());
    assert.deepEqual(names.filter((k) => k !== "connection" && k !== "keep-alive").sort(), [
      "content-length",
      "date",
      "server",
      "test-header",
    ]);
  });

  it("test_write_content_no_status_no_required_headers", async () => {
    const resp = await get("/test/test_write_content_no_status_no_required_headers");
    assert.equal(resp.status, 200);
    assert.deepEqual(resp.body, Buffer.from("TEST"));
    assert.deepEqual(resp.headers, [["test-header", "test-value"]]);
  });

  it("test_write_content_no_status_no_headers_no_required_headers", async () => {
    const resp = await get("/test/test_write_content_no_status_no_headers_no_required_headers");
    assert.equal(resp.status, 200);
    assert.deepEqual(resp.body, Buffer.from("TEST"));
    assert.deepEqual(resp.headers, []);
  });

  it("test_write_raw_content", async () => {
    const resp = await get("/test/test_write_raw_content");
    assert.equal(resp.status, 202);
    assert.equal(infoHeader(resp, "X-TEST"), "PASS");
    assert.deepEqual(resp.body, Buffer.from("Content"));
  });

  it("test_write_raw_content_file", async () => {
    const resp = await get("/test/test_write_raw_content_file");
    assert.equal(resp.status, 202);
    assert.equal(infoHeader(resp, "X-TEST"), "PASS");
    assert.deepEqual(resp.body, Buffer.from("Content"));
  });

  it("test_write_raw_none", async () => {
    // The handler's assertion passed: it wrote nothing else, so the response is the default.
    const resp = await get("/test/test_write_raw_none");
    assert.equal(resp.status, 200);
  });

  it("test_write_raw_contents_invalid_http", async () => {
    const result = await pythonRequest(server.port, "/test/test_write_raw_contents_invalid_http");
    // Python 3's branch of the test: http.client raises BadStatusLine with the line.
    assert.deepEqual(result, { error: "BadStatusLine", message: "INVALID HTTP" });
  });
});

describe("wptserve test_request.py", { skip: needs("python3") }, () => {
  let server: Running;
  let small: Running;

  const seekHandler: Handler = (request, response) => {
    const rv: Uint8Array[] = [];
    const f = rawInput(request.environ);
    f.seek(5);
    rv.push(f.read(2));
    rv.push(Buffer.from(String(f.tell())));
    f.seek(0);
    rv.push(f.readline());
    rv.push(Buffer.from(String(f.tell())));
    rv.push(f.read(-1));
    rv.push(Buffer.from(String(f.tell())));
    f.seek(0);
    rv.push(f.read());
    f.seek(0);
    rv.push(...f.readlines());
    response.content = joinBytes(rv);
  };
  const seekLongHandler: Handler = (request, response) => {
    const rv: Uint8Array[] = [];
    const f = rawInput(request.environ);
    f.seek(5);
    rv.push(f.read(2));
    rv.push(Buffer.from(String(f.tell())));
    f.seek(0);
    rv.push(Buffer.from(String(f.tell())));
    rv.push(Buffer.from(String(f.tell())));
    response.content = joinBytes(rv);
  };
  const iterHandler: Handler = (request, response) => {
    response.content = joinBytes([...rawInput(request.environ)]);
  };

  before(async () => {
    // Unvalidated, as every route here: validator()'s wsgi.input wrapper, as
    // Python's, offers only PEP 3333's reading methods.
    const routes: Record<string, Handler> = {
      "/test/test_seek": seekHandler,
      "/test/test_seek_longer": seekLongHandler,
      "/test/test_iter": iterHandler,
      "/test/test_body": (request, response) => {
        rawInput(request.environ).seek(5);
        response.content = request.body;
      },
      "/test/test_unicode_in_headers": (request, response) => {
        response.content = Buffer.from(request.headers.get("foo") ?? "", "latin1");
      },
      "/test/test_unicode_in_get": (request, response) => {
        response.content = request.rawGET.get("foo") ?? "";
      },
      "/test/test_unicode_in_POST": (request, response) => {
        response.content = request.rawPOST.get("foo") ?? "";
      },
    };
    server = await serveRoutes(routes);
    // wptserve's InputFile.max_buffer_size = 10: the body goes to a file past 10 bytes.
    const apps = new Map(Object.entries(routes).map(([path, route]) => [path, handlerApp(route)]));
    small = await serve(
      (environ, startResponse) => apps.get(environ.PATH_INFO ?? "")!(environ, startResponse),
      { spoolThreshold: 10 },
    );
  });
  after(async () => {
    await server.close();
    await small.close();
  });

  const post = async (port: number, path: string, body: Uint8Array | string) =>
    expectResponse(await pythonRequest(port, path, { method: "POST", body }));

  describe("TestInputFile", () => {
    it("test_seek", async () => {
      const resp = await post(server.port, "/test/test_seek", "12345ab\ncdef");
      assert.equal(resp.status, 200);
      assert.deepEqual(resp.body.toString("latin1").split(" "), [
        "ab",
        "7",
        "12345ab\n",
        "8",
        "cdef",
        "12",
        "12345ab\ncdef",
        "12345ab\n",
        "cdef",
      ]);
    });

    it("test_seek_input_longer_than_buffer", async () => {
      const resp = await post(small.port, "/test/test_seek_longer", "1".repeat(20));
      assert.equal(resp.status, 200);
      assert.deepEqual(resp.body.toString("latin1").split(" "), ["11", "7", "0", "0"]);
    });

    it("test_iter", async () => {
      const resp = await post(server.port, "/test/test_iter", "12345\nabcdef\r\nzyxwv");
      assert.equal(resp.status, 200);
      assert.deepEqual(resp.body.toString("latin1").split(" "), ["12345\n", "abcdef\r\n", "zyxwv"]);
    });

    it("test_iter_input_longer_than_buffer", async () => {
      const resp = await post(small.port, "/test/test_iter", "12345\nabcdef\r\nzyxwv");
      assert.equal(resp.status, 200);
      assert.deepEqual(resp.body.toString("latin1").split(" "), ["12345\n", "abcdef\r\n", "zyxwv"]);
    });
  });

  describe("TestRequest", () => {
    it("test_body", async () => {
      for (const port of [server.port, small.port]) {
        const resp = await post(port, "/test/test_body", "12345ab\ncdef");
        assert.deepEqual(resp.body, Buffer.from("12345ab\ncdef"));
      }
    });

    it("test_body (wsgi.input read by the handler, under validator)", async () => {
      // validator()'s wrapper, as Python's, cannot seek: the part the handler
      // read is gone, and request.body is the rest.
      const validated = await serveValidated({
        "/test/test_body": (request, response) => {
          (request.environ["wsgi.input"] as InputStream).read(5);
          response.headers.set("Content-Type", "application/octet-stream");
          response.content = request.body;
        },
      });
      try {
        const resp = await post(validated.port, "/test/test_body", "12345ab\ncdef");
        assert.deepEqual(resp.body, Buffer.from("ab\ncdef"));
      } finally {
        await validated.close();
      }
    });

    it("test_non_ascii_in_headers", async () => {
      const utf8 = Buffer.from("你好");
      let resp = expectResponse(
        await pythonRequest(server.port, "/test/test_unicode_in_headers", {
          headers: [["foo", utf8]],
        }),
      );
      assert.deepEqual(resp.body, utf8);
      // A different encoding from UTF-8: the bytes come back verbatim.
      resp = expectResponse(
        await pythonRequest(server.port, "/test/test_unicode_in_headers", {
          headers: [["foo", SHIFT_JIS_DOUMO]],
        }),
      );
      assert.deepEqual(resp.body, SHIFT_JIS_DOUMO);
    });

    it("test_non_ascii_in_GET_params", async () => {
      const resp = expectResponse(
        await pythonRequest(
          server.port,
          `/test/test_unicode_in_get?foo=${quoteFromBytes(SHIFT_JIS_DOUMO)}`,
        ),
      );
      assert.deepEqual(resp.body, SHIFT_JIS_DOUMO);
    });

    it("test_non_ascii_in_POST_params", async () => {
      // urllib, which wptserve's tests use, sends a body with this Content-Type.
      const resp = expectResponse(
        await pythonRequest(server.port, "/test/test_unicode_in_POST", {
          method: "POST",
          headers: [["Content-Type", "application/x-www-form-urlencoded"]],
          body: `foo=${quoteFromBytes(SHIFT_JIS_DOUMO)}`,
        }),
      );
      assert.deepEqual(resp.body, SHIFT_JIS_DOUMO);
    });
  });
});

describe("wptserve test_cookies.py", { skip: needs("python3") }, () => {
  let server: Running;

  before(async () => {
    server = await serveRoutes({
      "/test/name_value": (_request, response) => {
        response.setCookie("name", "value");
        response.content = "Test";
      },
      "/test/unset": (_request, response) => {
        response.setCookie("name", "value");
        response.unsetCookie("name");
        response.content = "Test";
      },
      "/test/delete": (_request, response) => {
        response.deleteCookie("name");
        response.content = "Test";
      },
      "/test/set_cookie": (request, response) => {
        response.content = request.cookies.get("name") ?? "";
      },
    });
  });
  after(() => server.close());

  it("test_name_value", async () => {
    const resp = expectResponse(await pythonRequest(server.port, "/test/name_value"));
    assert.equal(infoHeader(resp, "Set-Cookie"), "name=value; Path=/");
  });

  it("test_unset", async () => {
    const resp = expectResponse(await pythonRequest(server.port, "/test/unset"));
    assert.equal(infoHeader(resp, "Set-Cookie"), undefined);
  });

  it("test_delete", async () => {
    const resp = expectResponse(await pythonRequest(server.port, "/test/delete"));
    const parts = Object.fromEntries(
      (infoHeader(resp, "Set-Cookie") ?? "")
        .split("; ")
        .filter((item) => item !== "")
        .map((item) => item.split("=") as [string, string]),
    );
    assert.equal(parts.name, "");
    assert.equal(parts.Path, "/");
    // Python leaves "expires is in the past" unchecked; it is checked here.
    assert.ok(Date.parse(parts.expires ?? "") < Date.now());
  });

  it("test_set_cookie", async () => {
    const resp = expectResponse(
      await pythonRequest(server.port, "/test/set_cookie", { headers: [["Cookie", "name=value"]] }),
    );
    assert.deepEqual(resp.body, Buffer.from("value"));
  });
});
