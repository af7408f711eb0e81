/**
 * Tests of `wsgiref/streams`: `BytesInput` and `SpooledInput` against a table of
 * what Python's `io.BytesIO` answers, the spooling to an anonymous temporary
 * file, and the two `wsgi.errors` streams.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readlinkSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { BytesInput, SpooledInput, StreamErrors, StringErrors } from "../src/streams.js";
import type { InputStream } from "../src/types.js";
import { STREAM_CASES, type StreamOp, type StreamResult } from "./helpers/streams-cases.js";

const MiB = 1024 * 1024;
const onLinux = process.platform === "linux";

/** Bytes of a latin-1 string, one byte per code point. */
function bytes(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

/** A latin-1 string of bytes, one code point per byte. */
function text(chunk: Uint8Array): string {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
}

/** Apply the operations of a table case, answering as the Python generator does. */
function replay(stream: InputStream, ops: StreamOp[]): StreamResult[] {
  return ops.map((op): StreamResult => {
    switch (op[0]) {
      case "iter":
        return [...stream].map(text);
      case "next": {
        const step = stream[Symbol.iterator]().next();
        return step.done ? null : text(step.value);
      }
      case "readlines":
        return stream.readlines(op[1]).map(text);
      default:
        return text(stream[op[0]](op[1]));
    }
  });
}

/** Describe a table case for a test title. */
function title(data: string, ops: StreamOp[]): string {
  return `${JSON.stringify(data)}: ${ops.map(([name, ...args]) => `${name}(${args.join()})`).join(", ")}`;
}

/** Fill a `SpooledInput` in chunks of `chunkSize` bytes, awaiting each write, then end it. */
async function spool(data: Uint8Array, threshold?: number, chunkSize = 3): Promise<SpooledInput> {
  const input = new SpooledInput(threshold);
  for (let at = 0; at < data.length; at += chunkSize) {
    await input.write(data.subarray(at, at + chunkSize));
  }
  await input.end();
  return input;
}

/**
 * Run `body` with `os.tmpdir()` pointing at a new empty directory, then restore
 * `TMPDIR` and remove the directory. The test itself checks what is left in it.
 */
async function withTmpdir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-streams-test-"));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await body(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The open descriptors of process `pid` that point under `dir` (Linux `/proc`), with their targets. */
function descriptorsUnder(dir: string, pid: number | "self" = "self"): Array<[string, string]> {
  const fdDir = `/proc/${pid}/fd`;
  const found: Array<[string, string]> = [];
  for (const fd of readdirSync(fdDir)) {
    try {
      const target = readlinkSync(join(fdDir, fd));
      if (target.startsWith(`${dir}/`)) found.push([join(fdDir, fd), target]);
    } catch {
      // The descriptor readdir itself used is gone by now; it is not ours anyway.
    }
  }
  return found;
}

/** What the open descriptors of process `pid` point to under `dir` (Linux `/proc`). */
function openFilesUnder(dir: string, pid: number | "self" = "self"): string[] {
  return descriptorsUnder(dir, pid).map(([, target]) => target);
}

describe("BytesInput", () => {
  // Expected values: tests/helpers/streams-cases.ts, produced once by running the
  // same operations on io.BytesIO with tests/helpers/streams-cases.py.
  describe("matches io.BytesIO", () => {
    for (const { data, ops, expected } of STREAM_CASES) {
      it(`answers ${title(data, ops)}`, () => {
        assert.deepEqual(replay(new BytesInput(bytes(data)), ops), expected);
      });
    }
  });

  it("seeks and tells as io.BytesIO, for wptserve's request.raw_input", async () => {
    // io.BytesIO(b"12345ab\ncdef"): seek(5), read(2) -> b"ab", tell() -> 7;
    // seek(-4, 2) -> 8; seek(2, 1) -> 10; seek past the end reads b"".
    for (const input of [
      new BytesInput(bytes("12345ab\ncdef")),
      await spool(bytes("12345ab\ncdef"), 0),
    ]) {
      assert.equal(input.seek(5), 5);
      assert.equal(text(input.read(2)), "ab");
      assert.equal(input.tell(), 7);
      assert.equal(input.seek(-4, 2), 8);
      assert.equal(input.seek(2, 1), 10);
      assert.equal(text(input.read()), "ef");
      assert.equal(input.seek(100), 100);
      assert.equal(text(input.read()), "");
      assert.equal(text(input.readline()), "");
      input.seek(0);
      assert.equal(text(input.readline()), "12345ab\n");
      assert.throws(() => input.seek(-1), RangeError);
      assert.throws(() => input.seek(0, 3 as 0), TypeError);
      input.close();
      assert.throws(() => input.tell(), /closed file/);
    }
  });

  it("reads nothing when built without data", () => {
    const input = new BytesInput();
    assert.equal(input.length, 0);
    assert.deepEqual(input.read(), Buffer.alloc(0));
    assert.deepEqual(input.readlines(), []);
  });

  it("counts every byte in length, read or not", () => {
    const input = new BytesInput(bytes("ab\ncd"));
    input.readline();
    assert.equal(input.length, 5);
  });

  it("copies its data, so later changes to it do not show", () => {
    const data = bytes("abc\n");
    const input = new BytesInput(data);
    data.fill(0x78);
    assert.equal(text(input.read()), "abc\n");
  });

  it("returns chunks that own their whole ArrayBuffer", () => {
    const input = new BytesInput(bytes("one\ntwo\nthree"));
    const chunks = [input.readline(), input.read(2), input.readline(1), ...input];
    assert.deepEqual(chunks.map(text), ["one\n", "tw", "o", "\n", "three"]);
    for (const chunk of chunks) {
      assert.ok(chunk instanceof Uint8Array);
      assert.equal(chunk.byteOffset, 0);
      assert.equal(chunk.buffer.byteLength, chunk.length);
    }
    chunks[0]?.fill(0);
    assert.equal(text(chunks[1] ?? new Uint8Array()), "tw");
  });

  it("shares its position between readline() and iteration", () => {
    const input = new BytesInput(bytes("1\n2\n3\n4\n"));
    const lines: string[] = [];
    for (const line of input) {
      lines.push(text(line));
      if (lines.length === 2) break;
    }
    assert.equal(text(input.readline()), "3\n");
    assert.deepEqual([...input].map(text), ["4\n"]);
  });

  it("refuses data that is not a Uint8Array", () => {
    for (const data of ["text", null, [1, 2], new ArrayBuffer(2)]) {
      assert.throws(() => new BytesInput(data as unknown as Uint8Array), {
        name: "TypeError",
        message: /^data must be a Uint8Array: /,
      });
    }
  });

  it("refuses a size or hint that is not an integer", () => {
    const input = new BytesInput(bytes("abc\n"));
    const bad: Array<[() => unknown, RegExp]> = [
      [() => input.read("3" as unknown as number), /^size must be an integer: '3'$/],
      [() => input.read(1.5), /^size must be an integer: 1.5$/],
      [() => input.read(null as unknown as number), /^size must be an integer: null$/],
      [() => input.read(Number.NaN), /^size must be an integer: NaN$/],
      [() => input.readline(Number.POSITIVE_INFINITY), /^size must be an integer: Infinity$/],
      [() => input.readlines("2" as unknown as number), /^hint must be an integer: '2'$/],
    ];
    for (const [call, message] of bad) {
      assert.throws(call, { name: "TypeError", message });
    }
    assert.equal(text(input.read()), "abc\n", "a refused call reads nothing");
  });

  it("throws on every read once closed, and closes twice harmlessly", () => {
    const input = new BytesInput(bytes("abc\n"));
    input.close();
    input.close();
    const closed = { name: "Error", message: "I/O operation on closed file" };
    assert.throws(() => input.read(), closed);
    assert.throws(() => input.read(0), closed);
    assert.throws(() => input.readline(), closed);
    assert.throws(() => input.readlines(), closed);
    assert.throws(() => [...input], closed);
    assert.equal(input.length, 4);
  });
});

describe("SpooledInput", () => {
  // The same table as BytesInput, written 3 bytes at a time: through a temporary
  // file (threshold 1, so every input of 2 bytes or more spills) and in memory.
  for (const threshold of [1, undefined]) {
    const where = threshold === 1 ? "through a temporary file" : "in memory";
    describe(`matches io.BytesIO ${where}`, () => {
      for (const { data, ops, expected } of STREAM_CASES) {
        it(`answers ${title(data, ops)}`, async () => {
          const input = await spool(bytes(data), threshold);
          try {
            assert.deepEqual(replay(input, ops), expected);
          } finally {
            input.close();
          }
        });
      }
    });
  }

  it("defaults its threshold to 1 MiB", () => {
    assert.equal(new SpooledInput().threshold, MiB);
  });

  it("keeps the order of chunks written to the file together, not awaited", async () => {
    // Small chunks (more than one writev takes) and large ones (more bytes than
    // one batch), all written before any write to the file has finished.
    const chunks: Buffer[] = [];
    for (let i = 0; i < 3000; i++) chunks.push(Buffer.from([i % 251]));
    for (let i = 0; i < 5; i++) chunks.push(Buffer.alloc(700 * 1024, i + 1));
    for (let i = 0; i < 2000; i++) chunks.push(Buffer.from([(i * 7) % 256, 0x0a]));
    const input = new SpooledInput(1000);
    const writes = chunks.map((chunk) => input.write(chunk));
    await Promise.all(writes);
    await input.end();
    try {
      const expected = Buffer.concat(chunks);
      assert.equal(input.length, expected.length);
      assert.ok(expected.equals(input.read(expected.length)));
    } finally {
      input.close();
    }
  });

  it("refuses a threshold that is not a non-negative integer", () => {
    for (const [threshold, message] of [
      [-1, /^threshold must be a non-negative integer: -1$/],
      [1.5, /^threshold must be an integer: 1.5$/],
      ["1", /^threshold must be an integer: '1'$/],
      [null, /^threshold must be an integer: null$/],
    ] as const) {
      assert.throws(() => new SpooledInput(threshold as unknown as number), {
        name: "TypeError",
        message,
      });
    }
  });

  it("refuses a chunk that is not a Uint8Array", () => {
    const input = new SpooledInput();
    assert.throws(() => input.write("str" as unknown as Uint8Array), {
      name: "TypeError",
      message: "chunk must be a Uint8Array: 'str'",
    });
    assert.equal(input.length, 0);
  });

  it("returns a Promise from write() and end() even in memory", async () => {
    const input = new SpooledInput();
    const written = input.write(bytes("abc"));
    assert.ok(written instanceof Promise);
    await written;
    const ended = input.end();
    assert.ok(ended instanceof Promise);
    assert.equal(input.end(), ended, "end() again returns the same Promise");
    await ended;
    assert.equal(text(input.read()), "abc");
  });

  it("copies chunks it keeps in memory, so the caller may reuse them", async () => {
    const input = new SpooledInput();
    const chunk = bytes("abc");
    await input.write(chunk);
    chunk.fill(0x78);
    await input.write(chunk);
    await input.end();
    assert.equal(text(input.read()), "abcxxx");
  });

  it("counts the bytes written in length", async () => {
    const input = new SpooledInput(4);
    assert.equal(input.length, 0);
    await input.write(bytes("abc"));
    assert.equal(input.length, 3);
    await input.write(bytes("defg"));
    assert.equal(input.length, 7);
    await input.end();
    input.readline();
    assert.equal(input.length, 7);
    input.close();
    assert.equal(input.length, 7);
  });

  it("throws when written after end()", async () => {
    const input = new SpooledInput();
    const ended = input.end();
    assert.throws(() => input.write(bytes("x")), {
      name: "Error",
      message: "SpooledInput.write() was called after end()",
    });
    await ended;
    assert.throws(() => input.write(bytes("x")), /called after end\(\)/);
  });

  it("throws when read before end() has resolved", async () => {
    const input = new SpooledInput(2);
    await input.write(bytes("a\nb\n"));
    const notYet = { name: "Error", message: /^SpooledInput was read before end\(\) resolved/ };
    assert.throws(() => input.read(), notYet);
    assert.throws(() => input.readline(), notYet);
    assert.throws(() => input.readlines(), notYet);
    assert.throws(() => [...input], notYet);
    const ended = input.end();
    assert.throws(() => input.read(), notYet, "end() called but not resolved");
    await ended;
    assert.equal(text(input.read()), "a\nb\n");
    input.close();
  });

  it("throws on everything but close() and length once closed", async () => {
    const input = await spool(bytes("a\nb\n"), 1);
    input.close();
    input.close();
    const closed = { name: "Error", message: "I/O operation on closed file" };
    assert.throws(() => input.read(), closed);
    assert.throws(() => input.readline(), closed);
    assert.throws(() => input.readlines(), closed);
    assert.throws(() => [...input], closed);
    assert.throws(() => input.write(bytes("x")), closed);
    assert.throws(() => input.end(), closed);
    assert.equal(input.length, 4);
  });

  it("keeps exactly threshold bytes in memory and spills at threshold + 1", {
    skip: !onLinux && "needs /proc",
  }, async () => {
    await withTmpdir(async (dir) => {
      const input = new SpooledInput(10);
      await input.write(bytes("0123456"));
      await input.write(bytes("789"));
      assert.deepEqual(openFilesUnder(dir), [], "10 bytes stay in memory");
      await input.write(bytes("a"));
      const open = openFilesUnder(dir);
      assert.equal(open.length, 1, "the 11th byte spills");
      assert.match(open[0] ?? "", /\/wsgiref-spool-[0-9a-f]{32} \(deleted\)$/);
      assert.deepEqual(readdirSync(dir), [], "the file has no name left");
      await input.end();
      assert.equal(text(input.read()), "0123456789a");
      input.close();
      assert.deepEqual(openFilesUnder(dir), [], "close() frees the file");
    });
  });

  it("spills at the first byte with threshold 0, and never for an empty body", {
    skip: !onLinux && "needs /proc",
  }, async () => {
    await withTmpdir(async (dir) => {
      const empty = await spool(new Uint8Array(0), 0);
      assert.deepEqual(openFilesUnder(dir), []);
      assert.equal(empty.read().length, 0);
      const one = new SpooledInput(0);
      await one.write(new Uint8Array(0));
      assert.deepEqual(openFilesUnder(dir), []);
      await one.write(bytes("x"));
      assert.equal(openFilesUnder(dir).length, 1);
      one.close();
      assert.deepEqual(openFilesUnder(dir), []);
    });
  });

  it("closes its file only after a write still running, and drops the queued ones", {
    skip: !onLinux && "needs /proc",
  }, async () => {
    await withTmpdir(async (dir) => {
      const input = new SpooledInput(1);
      const first = input.write(bytes("abc"));
      const second = input.write(bytes("def"));
      input.close();
      assert.throws(() => input.write(bytes("x")), /closed file/);
      await Promise.all([first, second]);
      assert.deepEqual(openFilesUnder(dir), []);
    });
  });

  it("drops queued writes without opening a file when closed first", async () => {
    await withTmpdir(async (dir) => {
      const input = new SpooledInput(1);
      const pending = input.write(bytes("abc"));
      input.close();
      await pending;
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("rejects write() and end() when the temporary file cannot be created", async () => {
    await withTmpdir(async (dir) => {
      process.env.TMPDIR = join(dir, "missing");
      const input = new SpooledInput(2);
      await input.write(bytes("ab"));
      await assert.rejects(input.write(bytes("c")), { code: "ENOENT" });
      await assert.rejects(input.write(bytes("d")), { code: "ENOENT" });
      await assert.rejects(input.end(), { code: "ENOENT" });
      assert.throws(() => input.read(), /before end\(\) resolved/);
      input.close();
    });
  });

  it("throws rather than loop when its file was truncated behind its back", {
    skip: !onLinux && "needs /proc",
  }, async () => {
    await withTmpdir(async (dir) => {
      const input = await spool(bytes("0123456789\n"), 1);
      const [[path] = [""]] = descriptorsUnder(dir);
      truncateSync(path, 4);
      assert.throws(() => input.read(), {
        name: "Error",
        message: "temporary file of SpooledInput ended early at byte 4",
      });
      input.close();
    });
  });

  it("leaves nothing in the temporary directory when the process is killed", {
    skip: !onLinux && "needs /proc",
  }, async () => {
    await withTmpdir(async (dir) => {
      const childPath = fileURLToPath(new URL("./helpers/streams-spool-child.js", import.meta.url));
      const child = spawn(process.execPath, [childPath], {
        env: { ...process.env, TMPDIR: dir },
        stdio: ["pipe", "pipe", "inherit"],
      });
      const exited = once(child, "exit");
      try {
        const [line] = (await once(child.stdout, "data")) as [Buffer];
        assert.equal(line.toString(), "spooled 8192\n");
        assert.equal(openFilesUnder(dir, child.pid ?? 0).length, 1, "the child spooled to a file");
        assert.deepEqual(readdirSync(dir), []);
      } finally {
        child.kill("SIGKILL");
      }
      const [code, signal] = await exited;
      assert.equal(code, null);
      assert.equal(signal, "SIGKILL");
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it("reads back 16 MiB through a 1 MiB threshold byte for byte", async () => {
    await withTmpdir(async () => {
      const data = randomBytes(16 * MiB);
      const input = await spool(data, MiB, 64 * 1024);
      try {
        assert.equal(input.length, data.length);
        // Mix every way of reading: short lines from the block cache, reads of
        // sizes that straddle blocks, and one large read past the cache.
        const parts: Uint8Array[] = [];
        for (let i = 0; i < 2000; i += 1) parts.push(input.readline());
        for (let i = 0; i < 200; i += 1) parts.push(input.read(12_345), input.readline(100));
        parts.push(input.read(3 * MiB), ...input.readlines(MiB), input.read());
        assert.ok(Buffer.concat(parts).equals(data));
        assert.equal(input.read().length, 0);
      } finally {
        input.close();
      }
    });
  });

  it("reads a line longer than its block from the file", async () => {
    await withTmpdir(async () => {
      const line = Buffer.concat([Buffer.alloc(200_000, 0x61), bytes("\n")]);
      const input = await spool(Buffer.concat([line, bytes("tail")]), 0, 50_000);
      try {
        assert.equal(input.readline(150_000).length, 150_000);
        assert.ok(Buffer.concat([bytes("a".repeat(150_000)), input.readline()]).equals(line));
        assert.equal(text(input.readline()), "tail");
      } finally {
        input.close();
      }
    });
  });

  it("keeps memory near its threshold while spooling 64 MiB", async () => {
    await withTmpdir(async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x7a);
      const input = new SpooledInput(MiB);
      const before = process.memoryUsage().arrayBuffers;
      let peak = before;
      for (let written = 0; written < 64 * MiB; written += chunk.length) {
        await input.write(chunk);
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      }
      await input.end();
      assert.equal(input.length, 64 * MiB);
      assert.ok(peak - before < 8 * MiB, `grew by ${peak - before} bytes`);
      assert.equal(input.readline().length, 64 * MiB);
      input.close();
    });
  });
});

describe("StringErrors", () => {
  it("collects what is written, in order", () => {
    const errors = new StringErrors();
    assert.equal(errors.getValue(), "");
    errors.write("one\n");
    errors.writelines(["two", " ", "three\n"]);
    errors.writelines(
      (function* () {
        yield "four";
      })(),
    );
    errors.flush();
    errors.write("");
    assert.equal(errors.getValue(), "one\ntwo three\nfour");
  });

  it("refuses text that is not a string, as io.StringIO does", () => {
    const errors = new StringErrors();
    assert.throws(() => errors.write(Buffer.from("x") as unknown as string), {
      name: "TypeError",
      message: /^s must be a string: <Buffer 78>$/,
    });
    assert.throws(() => errors.writelines(3 as unknown as string[]), {
      name: "TypeError",
      message: "seq must be an iterable of strings: 3",
    });
    assert.throws(() => errors.writelines(["a", 1, "b"] as unknown as string[]), {
      name: "TypeError",
      message: "each item of seq must be a string: 1",
    });
    assert.equal(errors.getValue(), "a", "the items before the bad one are written");
  });
});

/** A `Writable` that keeps what it is given, as text, or fails each write with `error`. */
class Recorder extends Writable {
  readonly chunks: string[] = [];
  /** How many `error` listeners there were each time an `error` event was emitted. */
  readonly errorListeners: number[] = [];
  readonly #error: Error | undefined;

  constructor(error?: Error) {
    super({ decodeStrings: false });
    this.#error = error;
  }

  override _write(chunk: unknown, _encoding: string, callback: (error?: Error) => void): void {
    this.chunks.push(String(chunk));
    callback(this.#error);
  }

  // Record instead of throwing when no one listens: the test wants to see that
  // such an error would have reached the owner, without crashing the run.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "error") {
      this.errorListeners.push(this.listenerCount("error"));
      if (this.listenerCount("error") === 0) return false;
    }
    return super.emit(event, ...args);
  }
}

/**
 * Wait for `stream` to emit `close`. Unlike `events.once()`, this adds no `error`
 * listener of its own, which would hide what the tests look at.
 */
function closed(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.on("close", resolve));
}

/** An error with a Node-style `code`. */
function codeError(code: string): Error {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe("StreamErrors", () => {
  it("writes strings through to the writable", async () => {
    const sink = new Recorder();
    const errors = new StreamErrors(sink);
    errors.write("one\n");
    errors.writelines(["two", "\n"]);
    errors.flush();
    sink.end();
    await once(sink, "finish");
    assert.deepEqual(sink.chunks, ["one\n", "two", "\n"]);
  });

  it("accepts process.stderr", () => {
    const errors = new StreamErrors(process.stderr);
    errors.write("");
    errors.flush();
  });

  it("refuses a writable that is not a stream, and text that is not a string", () => {
    for (const writable of [{}, null, "stderr", { write() {} }]) {
      assert.throws(() => new StreamErrors(writable as unknown as Writable), {
        name: "TypeError",
        message: /^writable must be a Writable stream: /,
      });
    }
    const errors = new StreamErrors(new Recorder());
    assert.throws(() => errors.write(42 as unknown as string), {
      name: "TypeError",
      message: "s must be a string: 42",
    });
    assert.throws(() => errors.writelines([42] as unknown as string[]), TypeError);
    assert.throws(() => errors.writelines(42 as unknown as string[]), TypeError);
  });

  it("calls the writable's own flush() when it has one", () => {
    let flushed = 0;
    const sink = Object.assign(new Recorder(), {
      flush() {
        flushed += 1;
      },
    });
    const errors = new StreamErrors(sink);
    errors.flush();
    assert.equal(flushed, 1);
    sink.destroy();
    errors.flush();
    assert.equal(flushed, 1, "not once destroyed");
  });

  it("drops text quietly once the writable is ended or destroyed", async () => {
    const ended = new Recorder();
    ended.end();
    new StreamErrors(ended).write("late\n");
    const destroyed = new Recorder();
    destroyed.destroy();
    new StreamErrors(destroyed).write("late\n");
    await Promise.all([closed(ended), closed(destroyed)]);
    assert.deepEqual([ended.chunks, destroyed.chunks], [[], []]);
    assert.deepEqual([ended.errorListeners, destroyed.errorListeners], [[], []]);
  });

  it("swallows a write that fails because the reader has gone (EPIPE)", async () => {
    const sink = new Recorder(codeError("EPIPE"));
    new StreamErrors(sink).write("lost\n");
    await closed(sink);
    assert.deepEqual(sink.errorListeners, [1], "a listener caught the error event");
    assert.equal(sink.listenerCount("error"), 0, "and went away with it");
  });

  it("leaves any other write failure to the stream's owner", async () => {
    const unowned = new Recorder(codeError("EACCES"));
    new StreamErrors(unowned).write("x\n");
    await closed(unowned);
    assert.deepEqual(unowned.errorListeners, [0], "the error event would be uncaught");

    const owned = new Recorder(codeError("EPIPE"));
    const seen: unknown[] = [];
    owned.on("error", (error) => seen.push(error));
    new StreamErrors(owned).write("x\n");
    await closed(owned);
    assert.deepEqual(owned.errorListeners, [1], "no listener of ours is added");
    assert.equal(seen.length, 1);
  });

  it("survives a real EPIPE on a pipe whose reader has closed it", async () => {
    // Without StreamErrors, this write crashes the process: "Unhandled 'error' event".
    const reader =
      "require('node:fs').closeSync(0); console.log('closed'); setInterval(() => {}, 2 ** 30)";
    const child = spawn(process.execPath, ["-e", reader], { stdio: ["pipe", "pipe", "inherit"] });
    const exited = once(child, "exit");
    try {
      await once(child.stdout, "data");
      const errors = new StreamErrors(child.stdin);
      errors.write("x".repeat(128 * 1024));
      await closed(child.stdin);
      assert.ok(child.stdin.destroyed);
      errors.write("after\n");
    } finally {
      child.kill("SIGKILL");
    }
    await exited;
  });
});
