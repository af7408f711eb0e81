/**
 * The body stage for bodies handed over as streams or bytes: the server's
 * limits (413, 408, the spool's threshold) over a web ReadableStream, an async
 * iterable and bytes in memory; and the mount point every entry point shares.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { receiveBytes, receiveStream } from "../../src/gateway/body-from-stream.js";
import { checkScriptName, mountEnviron } from "../../src/gateway/mount.js";
import { BodyError } from "../../src/gateway/request-body.js";
import type { PartialEnvironment } from "../../src/types.js";

const limits = { maxBodySize: 1024 * 1024 * 64, spoolThreshold: 1024 };

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++] as Uint8Array);
      else controller.close();
    },
  });
}

describe("receiveStream", () => {
  it("receives a ReadableStream and an async iterable whole, in memory or spooled", async () => {
    const chunks = [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cd")];
    const small = await receiveStream(streamOf(chunks), limits);
    assert.equal(small.length, 4);
    assert.equal(Buffer.from(small.read(10)).toString(), "abcd");
    small.close();
    // 8 MiB in 64 KiB chunks past a 1 KiB threshold: to the file, with the disk waited for.
    const big = Array.from({ length: 128 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const spooled = await receiveStream(
      (async function* () {
        yield* big;
      })(),
      limits,
    );
    assert.equal(spooled.length, 8 * 1024 * 1024);
    for (const chunk of big) assert.deepEqual(Buffer.from(spooled.read(chunk.length)), chunk);
    spooled.close();
  });

  it("refuses a body past maxBodySize with a BodyError 413 and cancels the stream", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(100));
      },
      cancel() {
        cancelled = true;
      },
    });
    await assert.rejects(
      receiveStream(endless, { ...limits, maxBodySize: 250 }),
      (err: unknown) => {
        assert.ok(err instanceof BodyError);
        assert.equal(err.status, 413);
        assert.equal(err.message, "the request body is larger than maxBodySize (250 bytes)");
        return true;
      },
    );
    assert.equal(cancelled, true);
  });

  it("answers 408 when no chunk comes for bodyTimeout, and returns the iterator", async () => {
    let returned = false;
    const stalled: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        let sent = false;
        return {
          next: () => {
            if (sent) return new Promise<IteratorResult<Uint8Array>>(() => {});
            sent = true;
            return Promise.resolve({ done: false, value: new Uint8Array(1) });
          },
          return: () => {
            returned = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
    await assert.rejects(receiveStream(stalled, { ...limits, bodyTimeout: 30 }), (err: unknown) => {
      assert.ok(err instanceof BodyError);
      assert.equal(err.status, 408);
      assert.match(err.message, /stalled past bodyTimeout \(30 ms\)/);
      return true;
    });
    assert.equal(returned, true);
    // A body that keeps coming is not timed out.
    const steady = await receiveStream(streamOf([Buffer.from("x"), Buffer.from("y")]), {
      ...limits,
      bodyTimeout: 1000,
    });
    assert.equal(steady.length, 2);
    steady.close();
  });

  it("rejects with the source's own error, and a TypeError for a chunk that is not bytes", async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("client went away"));
      },
    });
    await assert.rejects(receiveStream(failing, limits), /client went away/);
    const strings = (async function* () {
      yield "text" as unknown as Uint8Array;
    })();
    await assert.rejects(
      receiveStream(strings, limits),
      /a request body chunk must be a Uint8Array: string/,
    );
    // An iterator without return() is simply dropped.
    const bare: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: 1 as unknown as Uint8Array }),
      }),
    };
    await assert.rejects(receiveStream(bare, limits), TypeError);
  });
});

describe("receiveBytes", () => {
  it("spools bytes within maxBodySize, and refuses more with a BodyError 413", async () => {
    const input = await receiveBytes(Buffer.alloc(2000, "z"), limits);
    assert.equal(input.length, 2000);
    assert.equal(Buffer.from(input.read(3)).toString(), "zzz");
    input.close();
    const empty = await receiveBytes(new Uint8Array(0), limits);
    assert.equal(empty.length, 0);
    empty.close();
    await assert.rejects(
      receiveBytes(new Uint8Array(11), { ...limits, maxBodySize: 10 }),
      BodyError,
    );
  });
});

describe("mountEnviron", () => {
  it("cuts the mount point from a path under it, by whole segments, and sets SCRIPT_NAME", () => {
    const cases: Array<[string, string, string]> = [
      ["/app/x", "/app", "/x"],
      ["/app", "/app", ""],
      ["/apple", "/app", "/apple"],
      ["/x", "/app", "/x"],
    ];
    for (const [path, prefix, rest] of cases) {
      const env: PartialEnvironment = { PATH_INFO: path, SCRIPT_NAME: "" };
      mountEnviron(env, prefix);
      assert.equal(env.SCRIPT_NAME, prefix, path);
      assert.equal(env.PATH_INFO, rest, path);
    }
    const root: PartialEnvironment = { PATH_INFO: "/x", SCRIPT_NAME: "" };
    mountEnviron(root, "");
    assert.deepEqual(root, { PATH_INFO: "/x", SCRIPT_NAME: "" });
    const none: PartialEnvironment = {};
    mountEnviron(none, "/a");
    assert.deepEqual(none, { SCRIPT_NAME: "/a" });
  });

  it("takes '' or an absolute path as a mount point, nothing else", () => {
    assert.equal(checkScriptName("", "scriptName"), "");
    assert.equal(checkScriptName("/a/b", "scriptName"), "/a/b");
    for (const bad of ["a", "/a/", "/a%2F", "/a?x", "/a/../b", "/.", 3]) {
      assert.throws(
        () => checkScriptName(bad, "scriptName"),
        /scriptName must be '' or an absolute path/,
      );
    }
  });
});
