/**
 * SimpleHandler over the kinds of stdout SPEC.md §6 allows: a Node Writable
 * (backpressure, errors, destruction), an object whose write() returns a count
 * (partial writes) or a promise, and plain sinks; plus client disconnects over a
 * real pipe.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type {
  PartialEnvironment,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../../src/types.js";
import { apps } from "../helpers/handlers-apps.js";
import { BytesSink } from "../helpers/handlers-harness.js";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");
const CGI_ENV: PartialEnvironment = { SERVER_PROTOCOL: "HTTP/1.0" };

/** A CGI-style SimpleHandler (no Date header) over `stdout`. */
function cgiHandler(stdout: ConstructorParameters<typeof SimpleHandler>[1]): {
  handler: SimpleHandler;
  errors: StringErrors;
} {
  const errors = new StringErrors();
  const handler = new SimpleHandler(new BytesInput(), stdout, errors, { ...CGI_ENV });
  handler.originServer = false;
  return { handler, errors };
}

/** A Writable that keeps what it receives and completes each write on setImmediate. */
function slowWritable(highWaterMark = 16): Writable & { received: Buffer[] } {
  const received: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      setImmediate(callback);
    },
  });
  return Object.assign(sink, { received });
}

/** An app streaming `count` chunks of `size` bytes, calling `onChunk` before each. */
function streamingApp(
  count: number,
  size: number,
  onChunk: (i: number) => void = () => {},
): { app: WSGIApplication; closes: () => number } {
  let closes = 0;
  const app: WSGIApplication = (_e, s) => {
    s("200 OK", [["Content-Type", "application/octet-stream"]]);
    const body = (function* () {
      for (let i = 0; i < count; i++) {
        onChunk(i);
        yield Buffer.alloc(size, i & 0xff);
      }
    })();
    return Object.assign(body, {
      close() {
        closes += 1;
      },
    }) as WSGIBody;
  };
  return { app, closes: () => closes };
}

const OK_CGI = "Status: 200 OK\r\n";

describe("SimpleHandler", () => {
  describe("constructor", () => {
    it("keeps its arguments, multithread true and multiprocess false by default", () => {
      const stdin = new BytesInput();
      const stdout = new BytesSink();
      const stderr = new StringErrors();
      const environ = { A: "1" };
      const handler = new SimpleHandler(stdin, stdout, stderr, environ);
      assert.equal(handler.stdin, stdin);
      assert.equal(handler.stdout, stdout);
      assert.equal(handler.stderr, stderr);
      assert.equal(handler.baseEnv, environ);
      assert.equal(handler.wsgiMultithread, true);
      assert.equal(handler.wsgiMultiprocess, false);
      const other = new SimpleHandler(stdin, stdout, stderr, environ, false, true);
      assert.equal(other.wsgiMultithread, false);
      assert.equal(other.wsgiMultiprocess, true);
    });

    it("refuses a stdout without write() and an environ that is not an object", () => {
      const make = (stdout: unknown, environ: unknown) =>
        new SimpleHandler(
          new BytesInput(),
          stdout as BytesSink,
          new StringErrors(),
          environ as WSGIEnvironment,
        );
      assert.throws(() => make(5, {}), {
        name: "TypeError",
        message: "stdout must have a write() method: 5",
      });
      assert.throws(() => make({}, {}), { name: "TypeError" });
      assert.throws(() => make(new BytesSink(), "env"), {
        name: "TypeError",
        message: "environ must be an object: 'env'",
      });
    });

    it("refuses a stdin without read(), a stderr without write() and flags that are not booleans", () => {
      const sink = new BytesSink();
      const make = (
        stdin: unknown,
        stderr: unknown,
        multithread?: unknown,
        multiprocess?: unknown,
      ) =>
        new SimpleHandler(
          stdin as BytesInput,
          sink,
          stderr as StringErrors,
          {},
          multithread as boolean,
          multiprocess as boolean,
        );
      assert.throws(() => make({ readline() {} }, new StringErrors()), {
        name: "TypeError",
        message: "stdin must have a read() method: { readline: [Function: readline] }",
      });
      assert.throws(() => make(new BytesInput(), 5), {
        name: "TypeError",
        message: "stderr must have a write() method: 5",
      });
      assert.throws(() => make(new BytesInput(), new StringErrors(), "yes"), {
        name: "TypeError",
        message: "multithread must be a boolean: 'yes'",
      });
      assert.throws(() => make(new BytesInput(), new StringErrors(), true, 1), {
        name: "TypeError",
        message: "multiprocess must be a boolean: 1",
      });
    });

    it("accepts absent streams, as Python's None, and names the one it then needs", async () => {
      for (const absent of [null, undefined]) {
        const handler = new SimpleHandler(absent, absent, absent, { ...CGI_ENV });
        handler.setupEnviron();
        assert.equal(handler.environ?.["wsgi.input"], absent);
        assert.equal(handler.environ?.["wsgi.errors"], absent);
        // Writing the response needs stdout; logging that failure needs stderr.
        await assert.rejects(
          handler.run((_e, s) => {
            s("200 OK", []);
            return [Buffer.from("x")];
          }),
          {
            name: "TypeError",
            message: `the error stream (getStderr()) must have a write() method: ${absent}`,
          },
        );
        const errors = new StringErrors();
        const logging = new SimpleHandler(absent, absent, errors, { ...CGI_ENV });
        await logging.run((_e, s) => {
          s("200 OK", []);
          return [Buffer.from("x")];
        });
        assert.match(
          errors.getValue(),
          new RegExp(`^TypeError: stdout must have a write\\(\\) method: ${absent}`),
        );
      }
    });

    it("names stdout when it is taken away after construction", () => {
      const handler = new SimpleHandler(new BytesInput(), new BytesSink(), new StringErrors(), {});
      (handler as { stdout: unknown }).stdout = null;
      assert.throws(() => handler._write(Buffer.from("x")), {
        name: "TypeError",
        message: "stdout must have a write() method: null",
      });
      assert.throws(() => handler._flush(), {
        name: "TypeError",
        message: "stdout must have a write() method: null",
      });
    });

    it("puts stdin, stderr and the environ into each request's environ", () => {
      const { handler } = cgiHandler(new BytesSink());
      handler.baseEnv = { ...CGI_ENV, PATH_INFO: "/x" };
      handler.setupEnviron();
      const environ = handler.environ as WSGIEnvironment;
      assert.equal(environ["wsgi.input"], handler.stdin);
      assert.equal(environ["wsgi.errors"], handler.stderr);
      assert.equal(environ.PATH_INFO, "/x");
      assert.equal(environ["wsgi.multithread"], true);
      assert.equal(environ["wsgi.multiprocess"], false);
    });

    // PEP 3333 lets a gateway omit both when empty (a CGI server does so for
    // PATH_INFO at the script's own URL); WSGIEnvironment promises them.
    it("gives the application SCRIPT_NAME and PATH_INFO as '' where the base environ has none, and keeps those it has", async () => {
      const seen: PartialEnvironment[] = [];
      const app: WSGIApplication = (environ, startResponse) => {
        seen.push({ SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO });
        startResponse("200 OK", []);
        return [];
      };
      for (const base of [{}, { SCRIPT_NAME: "/app" }, { PATH_INFO: "/x" }]) {
        const { handler } = cgiHandler(new BytesSink());
        handler.baseEnv = { ...CGI_ENV, ...base };
        await handler.run(app);
      }
      assert.deepEqual(seen, [
        { SCRIPT_NAME: "", PATH_INFO: "" },
        { SCRIPT_NAME: "/app", PATH_INFO: "" },
        { SCRIPT_NAME: "", PATH_INFO: "/x" },
      ]);
    });
  });

  describe("over a Node Writable", () => {
    it("writes the response and neither ends nor destroys the Writable", async () => {
      const sink = slowWritable(1024);
      const { handler } = cgiHandler(sink);
      await handler.run(apps.multi_chunk_app!);
      assert.equal(sink.writableEnded, false);
      assert.equal(sink.destroyed, false);
      // run() resolves once the Writable has taken everything, as Node's own
      // write() does; its owner ends it and waits for "finish".
      sink.end();
      await once(sink, "finish");
      assert.equal(
        Buffer.concat(sink.received).toString("latin1"),
        `${OK_CGI}Content-Type: text/plain\r\n\r\none two three`,
      );
    });

    it("respects backpressure: 200 MiB stream through a slow sink in bounded memory", async () => {
      const CHUNK = 64 * 1024;
      const COUNT = 3200; // 200 MiB
      let received = 0;
      let drains = 0;
      const sink = new Writable({
        highWaterMark: CHUNK,
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          setImmediate(callback);
        },
      });
      sink.on("drain", () => {
        drains += 1;
      });
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      const { app, closes } = streamingApp(COUNT, CHUNK, (i) => {
        if (i % 32 === 0) {
          peak = Math.max(peak, process.memoryUsage.rss());
        }
      });
      const { handler, errors } = cgiHandler(sink);
      await handler.run(app);
      const head = `${OK_CGI}Content-Type: application/octet-stream\r\n\r\n`.length;
      assert.equal(received, head + COUNT * CHUNK);
      assert.ok(drains > COUNT / 2, `waited for drain ${drains} times`);
      assert.ok(
        peak - baseline < 100 * 1024 * 1024,
        `RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
    });

    it("streams through a real pipe to a child process", async () => {
      const child = spawn(
        process.execPath,
        [
          "-e",
          "let n = 0; process.stdin.on('data', (c) => { n += c.length; }); process.stdin.on('end', () => console.log(n));",
        ],
        { stdio: ["pipe", "pipe", "inherit"] },
      );
      let printed = "";
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        printed += s;
      });
      const { app, closes } = streamingApp(256, 256 * 1024); // 64 MiB
      const { handler, errors } = cgiHandler(child.stdin);
      await handler.run(app);
      child.stdin.end();
      await once(child, "close");
      const head = `${OK_CGI}Content-Type: application/octet-stream\r\n\r\n`.length;
      assert.equal(Number(printed.trim()), head + 256 * 256 * 1024);
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
    });

    it("ends quietly when the child at the other end of a pipe has exited (EPIPE)", async () => {
      const child = spawn(process.execPath, ["-e", ""], { stdio: ["pipe", "ignore", "ignore"] });
      await once(child, "exit");
      const ownerSaw: unknown[] = [];
      child.stdin.on("error", (err) => ownerSaw.push(err));
      const { app, closes } = streamingApp(64, 1024 * 1024);
      const { handler, errors } = cgiHandler(child.stdin);
      await handler.run(app);
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
      assert.ok(child.stdin.destroyed);
    });

    it("ends quietly when the Writable is already destroyed", async () => {
      const sink = slowWritable();
      sink.destroy();
      const { app, closes } = streamingApp(4, 10);
      const { handler, errors } = cgiHandler(sink);
      await handler.run(app);
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
    });

    it("ends quietly when the Writable was ended by its owner", async () => {
      const sink = slowWritable();
      sink.end();
      const { handler, errors } = cgiHandler(sink);
      await handler.run(apps.hello_app!);
      assert.equal(errors.getValue(), "");
    });

    it("ends quietly when the Writable is destroyed while waiting for drain", async () => {
      const sink = new Writable({
        highWaterMark: 16,
        write(_chunk, _encoding, _callback) {
          // Never completes: the client stopped reading.
          setImmediate(() => sink.destroy());
        },
      });
      const { app, closes } = streamingApp(8, 1024);
      const { handler, errors } = cgiHandler(sink);
      await handler.run(app);
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
    });

    it("ends quietly when the Writable fails with ECONNRESET while waiting for drain", async () => {
      const sink = new Writable({
        highWaterMark: 16,
        write(_chunk, _encoding, callback) {
          setImmediate(() => callback(Object.assign(new Error("reset"), { code: "ECONNRESET" })));
        },
      });
      const { app, closes } = streamingApp(8, 1024);
      const { handler, errors } = cgiHandler(sink);
      await handler.run(app);
      assert.equal(closes(), 1);
      assert.equal(errors.getValue(), "");
    });

    it("logs any other Writable error and closes the body once", async () => {
      const sink = new Writable({
        highWaterMark: 16,
        write(_chunk, _encoding, callback) {
          setImmediate(() => callback(new Error("quota exceeded")));
        },
      });
      const { app, closes } = streamingApp(8, 1024);
      const { handler, errors } = cgiHandler(sink);
      await handler.run(app);
      assert.equal(closes(), 1);
      assert.match(errors.getValue(), /Error: quota exceeded/);
    });

    it("notices a Writable that failed between writes", async () => {
      const sink = new Writable({
        highWaterMark: 1024 * 1024,
        write(_chunk, _encoding, callback) {
          callback(Object.assign(new Error("pipe"), { code: "EPIPE" }));
        },
      });
      sink.on("error", () => {});
      let closes = 0;
      const { handler, errors } = cgiHandler(sink);
      await handler.run((_e, s) => {
        s("200 OK", []);
        return Object.assign(
          (async function* () {
            yield bytes("a");
            await new Promise(setImmediate);
            yield bytes("b");
          })(),
          {
            close() {
              closes += 1;
            },
          },
        );
      });
      assert.equal(closes, 1);
      assert.equal(errors.getValue(), "");
    });

    it("recognises a Writable by duck typing", async () => {
      class DuckWritable extends EventEmitter {
        readonly received: Buffer[] = [];
        writableNeedDrain = false;
        destroyed = false;
        writableEnded = false;
        write(data: Uint8Array): boolean {
          this.received.push(Buffer.from(data));
          setImmediate(() => this.emit("drain"));
          return false;
        }
      }
      const sink = new DuckWritable();
      const { handler } = cgiHandler(sink);
      await handler.run(apps.bytes_data_app!);
      assert.equal(
        Buffer.concat(sink.received).toString("latin1"),
        `${OK_CGI}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\ndata`,
      );
    });
  });

  describe("over a stdout whose write() returns a count or a promise", () => {
    it("awaits a promise from write() and from flush()", async () => {
      const events: string[] = [];
      const stdout = {
        async write(data: Uint8Array): Promise<void> {
          await new Promise(setImmediate);
          events.push(`write ${data.length}`);
        },
        async flush(): Promise<void> {
          await new Promise(setImmediate);
          events.push("flush");
        },
      };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.bytes_data_app!);
      assert.deepEqual(events, ["write 78", "write 4", "flush"]);
    });

    it("writes the rest after a promise of a partial count", async (t) => {
      const warned = t.mock.method(process, "emitWarning", () => {});
      const sink = new BytesSink();
      const stdout = {
        write(data: Uint8Array): Promise<number> {
          const part = data.subarray(0, 5);
          sink.write(part);
          return Promise.resolve(part.length);
        },
      };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.bytes_data_app!);
      assert.equal(
        sink.text(),
        `${OK_CGI}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\ndata`,
      );
      assert.equal(warned.mock.callCount(), 1);
    });

    it("accepts a count equal to the length, or a promise of it, without warning", async (t) => {
      const warned = t.mock.method(process, "emitWarning", () => {});
      const sink = new BytesSink();
      let calls = 0;
      const stdout = {
        write(data: Uint8Array): number | Promise<number> {
          sink.write(data);
          calls += 1;
          return calls % 2 === 0 ? data.length : Promise.resolve(data.length);
        },
      };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.bytes_data_app!);
      assert.equal(warned.mock.callCount(), 0);
      assert.match(sink.text(), /\r\n\r\ndata$/);
    });

    it("mixes synchronous partial writes with a promise for the rest", async (t) => {
      t.mock.method(process, "emitWarning", () => {});
      const sink = new BytesSink();
      let calls = 0;
      const stdout = {
        write(data: Uint8Array): number | Promise<number | undefined> {
          calls += 1;
          if (calls % 2 === 1) {
            const part = data.subarray(0, 3);
            sink.write(part);
            return part.length;
          }
          sink.write(data);
          return Promise.resolve(undefined);
        },
      };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.bytes_data_app!);
      assert.equal(
        sink.text(),
        `${OK_CGI}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\ndata`,
      );
    });

    it("writes the rest of a partial write once, when the second write returns nothing", async (t) => {
      t.mock.method(process, "emitWarning", () => {});
      const sink = new BytesSink();
      let calls = 0;
      const stdout = {
        write(data: Uint8Array): number | undefined {
          calls += 1;
          const part = calls === 1 ? data.subarray(0, 3) : data;
          sink.write(part);
          return calls === 1 ? part.length : undefined;
        },
      };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.bytes_data_app!);
      assert.equal(
        sink.text(),
        `${OK_CGI}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\ndata`,
      );
    });

    it("reports a Writable destroyed since the last write when flushing", () => {
      const stdout = new Writable({ write: (_chunk, _encoding, done) => done() });
      const { handler } = cgiHandler(stdout);
      handler._flush();
      stdout.destroy();
      assert.throws(() => handler._flush(), { code: "ERR_STREAM_DESTROYED" });
    });

    it("logs an error instead of looping forever when write() takes nothing", async (t) => {
      t.mock.method(process, "emitWarning", () => {});
      const { handler, errors } = cgiHandler({ write: () => 0 });
      await handler.run(apps.bytes_data_app!);
      assert.match(
        errors.getValue(),
        /Error: stdout\.write\(\) must take at least one byte of the 78 given: 0/,
      );
    });

    it("warns about partial writes once per handler", async (t) => {
      const warned = t.mock.method(process, "emitWarning", () => {});
      const stdout = { write: (data: Uint8Array) => Math.min(data.length, 2) };
      const { handler } = cgiHandler(stdout);
      await handler.run(apps.multi_chunk_app!);
      await handler.run(apps.multi_chunk_app!);
      assert.equal(warned.mock.callCount(), 1);
    });

    it("ignores other return values, such as a boolean", async () => {
      const sink = new BytesSink();
      const { handler } = cgiHandler({
        write: (data: Uint8Array) => {
          sink.write(data);
          return true;
        },
      });
      await handler.run(apps.bytes_data_app!);
      assert.match(sink.text(), /data$/);
    });

    it("calls flush() after each write when it exists", async () => {
      const sink = new BytesSink();
      const { handler } = cgiHandler(sink);
      await handler.run(apps.multi_chunk_app!);
      assert.equal(sink.flushes, 3);
    });

    it("flushes the headers of an empty body", async () => {
      const sink = new BytesSink();
      const { handler } = cgiHandler(sink);
      await handler.run(apps.non_error_app!);
      assert.equal(sink.flushes, 1);
      assert.equal(sink.text(), `${OK_CGI}Content-Length: 0\r\n\r\n`);
    });

    it("ends quietly when a promise from write() rejects with a disconnect", async () => {
      let closes = 0;
      const { handler, errors } = cgiHandler({
        write: () => Promise.reject(Object.assign(new Error("gone"), { code: "ECONNABORTED" })),
      });
      await handler.run((_e, s) => {
        s("200 OK", []);
        return Object.assign([bytes("x")], {
          close() {
            closes += 1;
          },
        });
      });
      assert.equal(closes, 1);
      assert.equal(errors.getValue(), "");
    });
  });
});
