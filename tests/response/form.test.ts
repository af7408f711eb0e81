/**
 * Regression tests for `src/response/form.ts` found by the form fuzz target
 * (reliability/fuzz/form.ts), and the parse's bounds: chunked reading, files on
 * disk, the form's memory and size; the forms' ordinary behaviour is tested
 * through `Request` in request.test.ts.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  closeForm,
  DEFAULT_FORM_LIMITS,
  DiskFilePart,
  FilePart,
  FormError,
  parseMultipart,
  parseMultipartInput,
} from "../../src/response/form.js";

describe("parseMultipart", () => {
  it("rejects a body that ends inside a file part, without an uncaught error", async () => {
    const body = Buffer.from(
      '--x\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\nab',
    );
    await assert.rejects(
      parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      (err: unknown) =>
        err instanceof FormError &&
        err.status === 400 &&
        err.message === "multipart/form-data body is malformed: Unexpected end of form",
    );
    // busboy destroyed the file's stream with the error on the next tick: an
    // 'error' event without a listener would fail this test as uncaught.
    await nextTurn();
    await nextTurn();
  });

  it("rejects a part without a name as malformed (RFC 7578 §4.2), field or file", async () => {
    for (const disposition of ['form-data; nme="a"', 'form-data; filename="f.txt"']) {
      const body = Buffer.from(`--x\r\nContent-Disposition: ${disposition}\r\n\r\n1\r\n--x--\r\n`);
      await assert.rejects(
        parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
        (err: unknown) =>
          err instanceof FormError &&
          err.status === 400 &&
          err.message === "multipart/form-data part has no name (RFC 7578 §4.2)",
      );
    }
    // A nameless file part in a body that ends inside it: its stream fails too.
    const cut = Buffer.from('--x\r\nContent-Disposition: form-data; filename="f"\r\n\r\nab');
    await assert.rejects(
      parseMultipart(cut, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      FormError,
    );
    // Before, the nameless part reached MultiDict.add() in busboy's 'close' handler,
    // whose TypeError was uncaught.
    await nextTurn();
    await nextTurn();
  });

  it("rejects a file part cut short after the close delimiter, where busboy never settles", async () => {
    const body = Buffer.from(
      '--x--\r\n--x\r\n--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nab',
    );
    await assert.rejects(
      parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS),
      (err: unknown) =>
        err instanceof FormError &&
        err.status === 400 &&
        err.message === "multipart/form-data body is malformed: the body ends inside a file part",
    );
  });

  it("still reads a large file part whole", async () => {
    const data = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const body = Buffer.concat([
      Buffer.from('--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n'),
      data,
      Buffer.from("\r\n--x--\r\n"),
    ]);
    const form = await parseMultipart(body, "multipart/form-data; boundary=x", DEFAULT_FORM_LIMITS);
    assert.equal((form.get("f") as Uint8Array).byteLength, data.length);
  });
});

/** A multipart body of `parts`: `[name, data, filename?]`, boundary `x`. */
function multipart(parts: Array<[string, Uint8Array | string, string?]>): Buffer {
  const pieces: Buffer[] = [];
  for (const [name, data, filename] of parts) {
    const file = filename === undefined ? "" : `; filename="${filename}"`;
    pieces.push(
      Buffer.from(`--x\r\nContent-Disposition: form-data; name="${name}"${file}\r\n\r\n`),
      Buffer.from(data),
      Buffer.from("\r\n"),
    );
  }
  pieces.push(Buffer.from("--x--\r\n"));
  return Buffer.concat(pieces);
}

const TYPE = "multipart/form-data; boundary=x";

/** How many file descriptors this process has open (Linux). */
function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

describe("parseMultipart within its memory", () => {
  // Issue 13, finding 5: a multipart form was read whole into memory, parsed in
  // one synchronous write, and its files held in memory: a 1 GiB form took
  // 2.1 GiB of RSS and stalled every other client for seconds.
  it("parses a large body a chunk at a time, the event loop turning between chunks", async () => {
    const body = multipart([["f", Buffer.alloc(8 * 1024 * 1024, 0x62), "f.bin"]]);
    let turns = 0;
    let parsing = true;
    const tick = (): void => {
      turns += 1;
      if (parsing) setImmediate(tick);
    };
    setImmediate(tick);
    const form = await parseMultipart(body, TYPE, { maxPartSize: 16 * 1024 * 1024 });
    parsing = false;
    closeForm(form);
    // 8 MiB in 256 KiB chunks: 32 of them, a turn after each.
    assert.ok(turns >= 30, `${turns} turns of the event loop during the parse`);
  });

  it("keeps a file past fileSpoolThreshold in a temporary file, read back whole or in chunks", async () => {
    const data = randomBytes(100_000);
    const fds = openFds();
    const form = await parseMultipart(multipart([["f", data, "big.bin"]]), TYPE, {
      fileSpoolThreshold: 1024,
    });
    const part = form.get("f");
    assert.ok(part instanceof DiskFilePart, String(part));
    assert.equal(part.filename, "big.bin");
    assert.equal(part.contentType, "text/plain", "RFC 7578 §4.4's default");
    assert.equal(part.byteLength, data.length);
    assert.equal(part.length, data.length);
    assert.deepEqual(Buffer.from(part.bytes()), data);
    assert.deepEqual(Buffer.from(part), data, "Buffer.from reads it through valueOf()");
    const reader = part.open();
    const chunks: Uint8Array[] = [];
    for (let chunk = reader.read(30_000); chunk.length > 0; chunk = reader.read(30_000)) {
      chunks.push(chunk);
    }
    assert.deepEqual(
      chunks.map((c) => c.length),
      [30_000, 30_000, 30_000, 10_000],
    );
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.equal(openFds(), fds + 1);
    closeForm(form);
    assert.equal(openFds(), fds);
    assert.throws(() => part.bytes(), /removed when its request ended/);
  });

  it("keeps a small file in memory as a FilePart, readable the same way", async () => {
    const form = await parseMultipart(multipart([["f", "small", "s.txt"]]), TYPE, {});
    const part = form.get("f");
    assert.ok(part instanceof FilePart);
    assert.equal(Buffer.from(part.bytes()).toString(), "small");
    assert.equal(Buffer.from(part.open().read(100)).toString(), "small");
  });

  it("keeps files in memory while maxFormMemory lasts, the rest on disk", async () => {
    const parts: Array<[string, string, string]> = [1, 2, 3, 4].map((i) => [
      `f${i}`,
      "y".repeat(100),
      `${i}.txt`,
    ]);
    const form = await parseMultipart(multipart(parts), TYPE, { maxFormMemory: 250 });
    assert.deepEqual(
      [...form].map(([, v]) => v.constructor.name),
      ["FilePart", "FilePart", "DiskFilePart", "DiskFilePart"],
    );
    for (const [, value] of form) {
      assert.equal(Buffer.from(value as FilePart).toString(), "y".repeat(100));
    }
    closeForm(form);
  });

  it("keeps every file it puts on disk in one temporary file: one descriptor a form", async () => {
    const parts: Array<[string, string, string]> = [];
    for (let i = 0; i < 200; i++) parts.push([`f${i}`, `${i}`.repeat(50), `${i}.txt`]);
    const fds = openFds();
    const form = await parseMultipart(multipart(parts), TYPE, { maxFormMemory: 0 });
    assert.equal(openFds(), fds + 1);
    let i = 0;
    for (const [name, value] of form) {
      assert.equal(name, `f${i}`);
      assert.ok(value instanceof DiskFilePart);
      assert.equal(Buffer.from(value).toString(), `${i}`.repeat(50));
      i += 1;
    }
    assert.equal(i, 200);
    closeForm(form);
    assert.equal(openFds(), fds);
  });

  it("refuses fields past maxFormMemory with a 413", async () => {
    const body = multipart([
      ["a", "1".repeat(100)],
      ["b", "2".repeat(100)],
      ["c", "3".repeat(100)],
    ]);
    await assert.rejects(parseMultipart(body, TYPE, { maxFormMemory: 250 }), {
      name: "FormError",
      status: 413,
      message: "form takes more memory than maxFormMemory (250 bytes)",
    });
    // One field larger than the memory itself: busboy stops at it.
    await assert.rejects(parseMultipart(body, TYPE, { maxFormMemory: 50 }), {
      name: "FormError",
      status: 413,
      message: "form takes more memory than maxFormMemory (50 bytes)",
    });
  });

  it("refuses a body past maxFormSize as it reads, its temporary files removed", async () => {
    const fds = openFds();
    const body = multipart([
      ["f", Buffer.alloc(600_000, 1), "f.bin"],
      ["g", Buffer.alloc(600_000, 2), "g.bin"],
    ]);
    let read = 0;
    await assert.rejects(
      parseMultipartInput(
        (size) => {
          const chunk = body.subarray(read, read + size);
          read += chunk.length;
          return chunk;
        },
        TYPE,
        { maxFormSize: 1_000_000, fileSpoolThreshold: 1000 },
      ),
      {
        name: "FormError",
        status: 413,
        message: "form is larger than maxFormSize (1000000 bytes)",
      },
    );
    assert.ok(read < body.length, `read ${read} of ${body.length} bytes`);
    assert.equal(openFds(), fds);
  });

  it("fails with the system's error, not a FormError, when no temporary file can be made", async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(tmpdir(), `wsgiref-missing-${randomBytes(8).toString("hex")}`);
    const fds = openFds();
    try {
      await assert.rejects(
        parseMultipart(multipart([["f", Buffer.alloc(5000, 1), "f.bin"]]), TYPE, {
          fileSpoolThreshold: 1000,
        }),
        (err: unknown) =>
          !(err instanceof FormError) && (err as { code?: string }).code === "ENOENT",
      );
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.equal(openFds(), fds);
  });

  it("answers 400 for a part whose header section is over 16 KiB (busboy's limit)", async () => {
    const body = Buffer.from(
      `--x\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${"p".repeat(17 * 1024)}\r\n\r\nv\r\n--x--\r\n`,
    );
    await assert.rejects(parseMultipart(body, TYPE, {}), {
      name: "FormError",
      status: 400,
      message: "multipart/form-data body is malformed: Malformed part header",
    });
  });
});
