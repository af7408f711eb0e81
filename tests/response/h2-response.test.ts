/**
 * wsgiref/response over HTTP/2: `H2Response` and `H2ResponseWriter`, with
 * wptserve's `TestH2Response` (tools/wptserve/tests/functional/test_response.py)
 * ported under its Python names, served by simple-server over TLS with ALPN h2
 * (wptserve's H2 tests run over TLS too) and read with node:http2's client.
 * Where node:http2 cannot send what wptserve's `h2` package can (a malformed
 * header block, a raw DATA frame), the test checks the clear error instead.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  H2Response,
  type H2ResponseWriter,
  type Handler,
  handlerApp,
  Response,
} from "../../src/response/index.js";
import { type Certificate, makeCertificate } from "../helpers/certificate.js";
import { H2Client, h2Header } from "../helpers/h2-client.js";
import { needs } from "../helpers/peers.js";
import { type Running, serve } from "../helpers/server-client.js";

/** Headers as wptserve's test compares them: less the `date` node:http2 always adds. */
function withoutDate(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.filter(([name]) => name !== "date");
}

describe("H2Response", { skip: needs("openssl") }, () => {
  let cert: Certificate;
  let server: Running;
  let client: H2Client;
  const seen = new Map<string, unknown>();

  const routes: Record<string, Handler> = {
    "/h2test/test": (_request, response) => {
      const writer = response.writer as H2ResponseWriter;
      writer.writeHeaders(
        [
          ["server", "test-h2"],
          ["test", "PASS"],
        ],
        202,
      );
      writer.writeDataFrame("TEST", { endStream: false });
      // Should detect stream isn't ended and call `writer.endStream()`.
    },
    "/h2test/test_push": (request, response) => {
      const writer = response.writer as H2ResponseWriter;
      writer.writeHeaders(
        [
          ["server", "test-h2"],
          ["test", "PASS"],
        ],
        202,
      );
      const pushData = "PUSH TEST";
      writer.writePush(
        [
          [":method", "GET"],
          [":path", "/push-test"],
          [":scheme", "https"],
          [":authority", String(request.environ.HTTP_HOST)],
        ],
        {
          pushStreamId: 10,
          status: 203,
          responseHeaders: [
            ["server", "test-h2"],
            ["content-length", String(pushData.length)],
            ["content-type", "text"],
          ],
          responseData: pushData,
        },
      );
      writer.writeDataFrame("TEST", { endStream: true });
    },
    "/h2test/test_set_error": (_request, response) => {
      response.setError(503, "Test error");
    },
    "/h2test/test_file_like_response": (_request, response) => {
      const data = Buffer.from("Hello, world!");
      let at = 0;
      response.content = {
        read(size: number) {
          const chunk = data.subarray(at, at + size);
          at += chunk.length;
          return chunk;
        },
      };
    },
    "/h2test/test_list_response": (_request, response) => {
      response.content = ["hello", "world"];
    },
    "/h2test/test_content_longer_than_frame_size": (_request, response) => {
      const size = (response.writer as H2ResponseWriter).getMaxPayloadSize();
      response.headers.set("payload_size", size);
      response.content = "a".repeat(size + 5);
    },
    "/h2test/test_encode": (_request, response) => {
      response.encoding = "utf8";
      const t = response.writer.encode("hello");
      seen.set("encode", Buffer.from(t).toString());
      // Python: pytest.raises(ValueError); the TypeScript misuse error is a TypeError.
      assert.throws(() => response.writer.encode(null as unknown as string), TypeError);
    },
    "/h2test/test_raw_header_frame": (_request, response) => {
      (response.writer as H2ResponseWriter).writeRawHeaderFrame(
        [
          [":status", "204"],
          ["server", "TEST-H2"],
        ],
        { endHeaders: true },
      );
    },
    "/h2test/test_raw_header_frame_invalid": (_request, response) => {
      try {
        (response.writer as H2ResponseWriter).writeRawHeaderFrame(
          [
            ["server", "TEST-H2"],
            [":status", "204"],
          ],
          { endHeaders: true },
        );
      } catch (err) {
        seen.set("invalid", err);
        response.status = 500;
        response.content = "refused";
      }
    },
    "/h2test/test_raw_data_frame": (_request, response) => {
      const writer = response.writer as H2ResponseWriter;
      assert.throws(() => writer.writeRawDataFrame("Hello world", { endStream: true }), {
        message: /writeRawDataFrame\(\) cannot be expressed on node:http2/,
      });
      writer.writeDataFrame("Hello world", { endStream: true });
    },
    "/h2test/test_raw_header_continuation_frame": (_request, response) => {
      const writer = response.writer as H2ResponseWriter;
      writer.writeRawHeaderFrame([[":status", "204"]]);
      writer.writeRawContinuationFrame([["server", "TEST-H2"]], { endHeaders: true });
    },
    "/kind": (request, response) => {
      response.headers.set("Content-Type", "text/plain");
      response.content = [
        response instanceof H2Response ? "H2Response" : "Response",
        String(request.environ.SERVER_PROTOCOL),
        typeof (request.environ["wsgiref.http2_stream"] as { stream?: unknown } | undefined)
          ?.stream,
      ].join(" ");
    },
    "/h2test/app_error_after_headers": (_request, response) => {
      (response.writer as H2ResponseWriter).writeHeaders([], 200);
      throw new Error("fails after the headers");
    },
  };

  before(async () => {
    cert = await makeCertificate();
    const apps = new Map(Object.entries(routes).map(([path, h]) => [path, handlerApp(h)]));
    server = await serve(
      (environ, startResponse) => {
        const app = apps.get(environ.PATH_INFO ?? "");
        if (app === undefined) throw new Error(`no route ${environ.PATH_INFO}`);
        return app(environ, startResponse);
      },
      { tls: { cert: cert.cert, key: cert.key }, http2: true },
    );
    client = new H2Client(`https://127.0.0.1:${server.port}`);
  });
  after(async () => {
    await client.close();
    await server.close();
    await cert.remove();
  });

  describe("TestH2Response", () => {
    it("test_write_without_ending_stream", async () => {
      const resp = await client.request("/h2test/test");
      assert.equal(resp.status, 202);
      assert.deepEqual(withoutDate(resp.headers), [
        ["server", "test-h2"],
        ["test", "PASS"],
      ]);
      assert.deepEqual(resp.body, Buffer.from("TEST"));
    });

    it("test_push", async () => {
      const resp = await client.request("/h2test/test_push");
      assert.equal(resp.status, 202);
      assert.deepEqual(withoutDate(resp.headers), [
        ["server", "test-h2"],
        ["test", "PASS"],
      ]);
      assert.deepEqual(resp.body, Buffer.from("TEST"));
      const pushPromise = client.pushes[0];
      assert.ok(pushPromise !== undefined, "a push was promised");
      assert.equal(pushPromise.path, "/push-test");
      const push = await pushPromise.result;
      assert.equal(push.status, 203);
      assert.deepEqual(push.body, Buffer.from("PUSH TEST"));
    });

    it("test_set_error", async () => {
      const resp = await client.request("/h2test/test_set_error");
      assert.equal(resp.status, 503);
      assert.deepEqual(JSON.parse(resp.body.toString()), {
        error: { message: "Test error", code: 503 },
      });
    });

    it("test_file_like_response", async () => {
      const resp = await client.request("/h2test/test_file_like_response");
      assert.equal(resp.status, 200);
      assert.equal(resp.body.toString(), "Hello, world!");
    });

    it("test_list_response", async () => {
      const resp = await client.request("/h2test/test_list_response");
      assert.equal(resp.status, 200);
      assert.equal(resp.body.toString(), "helloworld");
    });

    it("test_content_longer_than_frame_size", async () => {
      const resp = await client.request("/h2test/test_content_longer_than_frame_size");
      assert.equal(resp.status, 200);
      const payloadSize = Number(h2Header(resp, "payload_size"));
      assert.ok(payloadSize > 0);
      assert.equal(resp.body.toString(), "a".repeat(payloadSize + 5));
    });

    it("test_encode", async () => {
      await client.request("/h2test/test_encode");
      assert.equal(seen.get("encode"), "hello");
    });

    it("test_raw_header_frame", async () => {
      const resp = await client.request("/h2test/test_raw_header_frame");
      assert.equal(resp.status, 204);
      assert.equal(h2Header(resp, "server"), "TEST-H2");
      assert.equal(resp.body.length, 0);
    });

    it("test_raw_header_frame_invalid", async () => {
      // wptserve sends the malformed block and the client fails; node:http2
      // would reorder it, so the writer refuses it with a clear error instead.
      const resp = await client.request("/h2test/test_raw_header_frame_invalid");
      assert.equal(resp.status, 500);
      assert.match(
        String((seen.get("invalid") as Error).message),
        /cannot send pseudo-header :status after a regular header/,
      );
    });

    it("test_raw_data_frame", async () => {
      const resp = await client.request("/h2test/test_raw_data_frame");
      assert.equal(resp.body.toString(), "Hello world");
    });

    it("test_raw_header_continuation_frame", async () => {
      const resp = await client.request("/h2test/test_raw_header_continuation_frame");
      assert.equal(resp.status, 204);
      assert.equal(h2Header(resp, "server"), "TEST-H2");
      assert.equal(resp.body.length, 0);
    });
  });

  it("is what handlerApp gives a handler over HTTP/2, with the stream in the environ", async () => {
    const resp = await client.request("/kind");
    assert.equal(resp.body.toString(), "H2Response HTTP/2 object");
  });

  it("resets the stream (INTERNAL_ERROR) when the handler fails after taking it over", async () => {
    const resp = await client.request("/h2test/app_error_after_headers");
    assert.equal(resp.rstCode, 2);
    // The session carries on.
    assert.equal((await client.request("/h2test/test_list_response")).status, 200);
  });

  it("is a plain Response over HTTP/1.1 on the same server", async () => {
    const { request } = await import("node:https");
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: server.port, path: "/kind", rejectUnauthorized: false },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(body, "Response HTTP/1.1 undefined");
    assert.ok(Response);
  });
});
