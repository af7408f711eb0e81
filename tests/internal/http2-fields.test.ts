/** What node:http2 refuses in a response head, told before anything is sent. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { checkHttp2Field, checkHttp2Fields } from "../../src/internal/http2-fields.js";

describe("checkHttp2Fields", () => {
  it("refuses a single-valued field twice in any case, and HTTP2-Settings", () => {
    assert.throws(
      () => checkHttp2Fields(["Content-Type", "a", "CONTENT-TYPE", "b"]),
      new TypeError("header CONTENT-TYPE is sent once at most over HTTP/2: 'b'"),
    );
    assert.throws(
      () => checkHttp2Fields(["HTTP2-Settings", "AAMAAABk"]),
      new TypeError("a response cannot carry HTTP2-Settings over HTTP/2: 'AAMAAABk'"),
    );
    assert.throws(() => checkHttp2Fields(["ETag", '"a"', "Vary", "x", "etag", '"b"']), TypeError);
  });

  it("accepts fields that may repeat, and single-valued ones once", () => {
    checkHttp2Fields(["Set-Cookie", "a=1", "set-cookie", "b=2", "Vary", "x", "Vary", "y"]);
    checkHttp2Fields(["Content-Type", "text/plain", "Content-Length", "3", "Date", "d"]);
    checkHttp2Field("content-type", "Content-Type", "a", false);
  });

  it("refuses exactly what node:http2's respond() refuses", async () => {
    // Each name sent twice (or HTTP2-Settings once) through a real respond().
    const names = [
      "content-type",
      "content-length",
      "date",
      "etag",
      "location",
      "user-agent",
      "set-cookie",
      "vary",
      "link",
      "cache-control",
      "x-custom",
    ];
    const server = createServer();
    const refusedByNode = new Set<string>();
    server.on("stream", (stream, headers) => {
      const name = String(headers[":path"]).slice(1);
      try {
        stream.respond({ ":status": 200, [name]: ["1", "2"] }, { endStream: true });
      } catch {
        refusedByNode.add(name);
        stream.close();
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      for (const name of names) {
        const stream = session.request({ ":path": `/${name}` });
        stream.on("error", () => undefined);
        stream.resume();
        await once(stream, "close");
      }
    } finally {
      session.close();
      server.close();
    }
    const refusedHere = names.filter((name) => {
      try {
        checkHttp2Fields([name, "1", name, "2"]);
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(
      refusedHere,
      [...refusedByNode].sort((a, b) => names.indexOf(a) - names.indexOf(b)),
    );
    assert.ok(refusedHere.length >= 6);
  });
});
