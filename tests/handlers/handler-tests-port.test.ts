/**
 * CPython's test_wsgiref.HandlerTests, ported: every case, plus the byte-exact
 * comparison of this package's handlers with Python's own on the table in
 * tests/fixtures/handlers/expected.json (made by generate.py next to it).
 */

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { BaseHandler } from "../../src/handlers/base-handler.js";
import { BaseCGIHandler } from "../../src/handlers/cgi-handler.js";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { PartialEnvironment, WSGIEnvironment } from "../../src/types.js";
import { FileWrapper, setupTestingDefaults } from "../../src/util.js";
import { validator } from "../../src/validate.js";
import { apps, CustomException } from "../helpers/handlers-apps.js";
import {
  AbortingWriter,
  BytesSink,
  codedError,
  ErrorHandler,
  type HandlerCase,
  loadFixture,
  PartialWriter,
  TestHandler,
} from "../helpers/handlers-harness.js";

const fixture = loadFixture();
const PINNED_MS = fixture.pinnedTime * 1000;

// Where the error logged differs by design, the name TypeScript logs instead.
const TS_EXCEPTION: Record<string, string> = {
  // A body that is a string or bytes: Python fails on the first chunk
  // (AssertionError), this port refuses it before iterating (TypeError).
  "str body": "TypeError",
  "bytes body": "TypeError",
  // Python fails on None.setdefault (AttributeError); this port says why.
  "no start_response": "AssertionError",
};

function makeWriter(kind: string): BytesSink {
  if (kind === "bytesio") {
    return new BytesSink();
  }
  if (kind === "partial") {
    return new PartialWriter();
  }
  const code = kind.slice("abort:".length);
  return new AbortingWriter(code === "CustomException" ? new CustomException() : codedError(code));
}

/** Run one fixture case as generate.py ran it in Python (through `validator()` if asked). */
async function runCase(t: TestContext, c: HandlerCase, validate = false) {
  t.mock.method(Date, "now", () => PINNED_MS);
  const warned = t.mock.method(process, "emitWarning", () => {});
  const environ: PartialEnvironment = { ...c.environ };
  if (c.testingDefaults) {
    setupTestingDefaults(environ);
  }
  if (validate) {
    // setupTestingDefaults leaves it out, and the validator warns about that.
    environ.QUERY_STRING = "";
  }
  const stdout = makeWriter(c.writer);
  const stderr = new StringErrors();
  const handler = new SimpleHandler(new BytesInput(), stdout, stderr, environ, true, true);
  handler.originServer = c.originServer;
  handler.httpVersion = c.httpVersion;
  handler.serverSoftware = c.serverSoftware ?? undefined;
  const app = apps[c.app];
  assert.ok(app, `no TypeScript twin for ${c.app}`);
  await handler.run(validate ? validator(app) : app);
  const warnings = [...new Set(warned.mock.calls.map((call) => String(call.arguments[0])))];
  return { handler, stdout, errors: stderr.getValue(), warnings };
}

describe("SimpleHandler", () => {
  describe(`writes what Python ${fixture.python}'s handlers write`, () => {
    for (const c of fixture.cases) {
      it(`matches Python byte for byte: ${c.name}`, async (t) => {
        const { stdout, errors, warnings } = await runCase(t, c);
        assert.equal(stdout.text(), c.stdout);
        assert.equal(errors !== "", c.logged, errors);
        if (c.exception !== null) {
          assert.match(errors, new RegExp(`\\b${TS_EXCEPTION[c.name] ?? c.exception}\\b`));
        }
        assert.deepEqual(warnings, c.warnings);
      });
    }
  });

  describe("under validator()", () => {
    // The applications of the table that are valid themselves (most of
    // test_wsgiref's send no Content-Type), wrapped in the validator: the handler
    // meets every server-side check, and the body is unchanged. (The validator's
    // body wrapper is not an array, so, as in Python, a one-chunk body gets no
    // Content-Length: only the body is compared.)
    const valid = new Set([
      "hello_app",
      "bytes_data_app",
      "multi_chunk_app",
      "generator_app",
      "explicit_length_app",
      "write_then_list_app",
      "not_found_app",
      "exc_info_before_output_app",
    ]);
    const body = (text: string) => text.slice(text.indexOf("\r\n\r\n") + 4);
    for (const c of fixture.cases.filter((c) => c.testingDefaults && valid.has(c.app))) {
      it(`passes the validator's checks: ${c.name}`, async (t) => {
        const { stdout, errors, warnings } = await runCase(t, c, true);
        assert.equal(errors, "");
        assert.deepEqual(warnings, []);
        assert.equal(body(stdout.text()), body(c.stdout));
      });
    }
  });

  describe("test_wsgiref.HandlerTests", () => {
    // testEnviron
    it("copies osEnviron, the CGI variables and the wsgi attributes into environ", () => {
      const osEnviron = {
        HOME: "/my/home",
        PATH: "/my/path",
        LANG: "fr_FR.UTF-8",
        SCRIPT_NAME: "test_script_name",
        SERVER_NAME: "test_server_name",
      };
      const handler = new TestHandler({ X: "Y", HOME: "/override/home" });
      handler.osEnviron = osEnviron;
      handler.setupEnviron();
      const environ = handler.environ as WSGIEnvironment;
      assert.deepEqual(handler.wsgiVersion, environ["wsgi.version"]);
      assert.equal(handler.wsgiMultithread, environ["wsgi.multithread"]);
      assert.equal(handler.wsgiMultiprocess, environ["wsgi.multiprocess"]);
      assert.equal(handler.wsgiRunOnce, environ["wsgi.run_once"]);
      assert.equal(handler.wsgiFileWrapper, environ["wsgi.file_wrapper"]);

      const expected: PartialEnvironment = {};
      setupTestingDefaults(expected);
      for (const [key, value] of Object.entries(osEnviron)) {
        if (!(key in expected)) {
          expected[key] = value;
        }
      }
      Object.assign(expected, {
        X: "Y",
        HOME: "/override/home",
        SCRIPT_NAME: "",
        SERVER_NAME: "127.0.0.1",
        "wsgi.input": handler.getStdin(),
        "wsgi.errors": handler.getStderr(),
        "wsgi.version": [1, 0],
        "wsgi.run_once": false,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": true,
        "wsgi.multiprocess": true,
        "wsgi.file_wrapper": FileWrapper,
      });
      assert.deepEqual(handler.environ, expected);
    });

    // testCGIEnviron: BaseCGIHandler(None, None, None, {}), streams absent.
    it("sets wsgi.url_scheme, wsgi.input and wsgi.errors for a CGI handler", () => {
      const handler = new BaseCGIHandler(null, null, null, {});
      handler.setupEnviron();
      for (const key of ["wsgi.url_scheme", "wsgi.input", "wsgi.errors"]) {
        assert.ok(key in (handler.environ as WSGIEnvironment), key);
      }
    });

    // testScheme
    it("guesses wsgi.url_scheme from HTTPS", () => {
      let handler = new TestHandler({ HTTPS: "on" });
      handler.setupEnviron();
      assert.equal(handler.environ?.["wsgi.url_scheme"], "https");
      handler = new TestHandler();
      handler.setupEnviron();
      assert.equal(handler.environ?.["wsgi.url_scheme"], "http");
    });

    // testAbstractMethods
    it("throws from each hook a subclass must override, naming it", () => {
      const handler = new BaseHandler();
      const hooks = {
        _flush: () => handler._flush(),
        getStdin: () => handler.getStdin(),
        getStderr: () => handler.getStderr(),
        addCgiVars: () => handler.addCgiVars(),
        _write: () => handler._write(Buffer.from("test")),
      };
      for (const [name, call] of Object.entries(hooks)) {
        assert.throws(call, {
          name: "Error",
          message: `${name}() must be overridden in a subclass of BaseHandler`,
        });
      }
    });

    // testContentLength, testBasicErrorOutput, testErrorAfterOutput,
    // testHeaderFormats, testBytesData: the byte-exact table above; here their
    // log assertions, which the table only summarises.
    it("logs nothing for a good app and the AssertionError for a failing one", async () => {
      let handler = new ErrorHandler();
      await handler.run(apps.non_error_app!);
      assert.equal(handler.stderr.getValue(), "");
      handler = new ErrorHandler();
      await handler.run(apps.error_app!);
      assert.match(handler.stderr.getValue(), /AssertionError/);
      assert.match(handler.stderr.getValue(), /This should be caught by handler/);
    });

    it("lets errors through when handleError rethrows (TestHandler)", async () => {
      const handler = new TestHandler();
      await assert.rejects(handler.run(apps.error_app!), {
        name: "AssertionError",
        message: "This should be caught by handler",
      });
    });

    // testCloseOnError
    it("closes a body whose iteration fails after output", async () => {
      let closed = 0;
      const handler = new ErrorHandler();
      await handler.run((_e, s) => {
        s("200 OK", [])(Buffer.from("Some output has been sent"));
        return {
          *[Symbol.iterator]() {
            for (;;) {
              yield Buffer.from("blah");
              throw new Error("This should be caught by handler");
            }
          },
          close() {
            closed += 1;
          },
        };
      });
      assert.equal(closed, 1);
    });

    // testPartialWrite
    it("writes the rest after a partial write, with a DeprecationWarning", async (t) => {
      const warned = t.mock.method(process, "emitWarning", () => {});
      const written = new PartialWriter();
      const handler = new SimpleHandler(new BytesInput(), written, new StringErrors(), {
        SERVER_PROTOCOL: "HTTP/1.0",
      });
      await handler.run(apps.hello_app!);
      assert.deepEqual(warned.mock.calls[0]?.arguments, [
        "SimpleHandler.stdout.write() should not do partial writes",
        "DeprecationWarning",
      ]);
      assert.equal(warned.mock.callCount(), 1);
      assert.equal(
        written.text(),
        "HTTP/1.0 200 OK\r\n" +
          "Content-Type: text/plain\r\n" +
          "Date: Mon, 05 Jun 2006 18:49:54 GMT\r\n" +
          "Content-Length: 13\r\n" +
          "\r\n" +
          "Hello, world!",
      );
    });

    // testClientConnectionTerminations
    for (const code of ["ECONNABORTED", "EPIPE", "ECONNRESET"]) {
      it(`ends quietly when the client is gone (${code})`, async () => {
        const stderr = new StringErrors();
        const handler = new SimpleHandler(
          new BytesInput(),
          new AbortingWriter(codedError(code)),
          stderr,
          { SERVER_PROTOCOL: "HTTP/1.0" },
        );
        await handler.run(apps.hello_app!);
        assert.equal(stderr.getValue(), "");
      });
    }

    // testDontResetInternalStateOnException
    it("keeps its state after an output error, for inspection (bpo-29183)", async () => {
      const stderr = new StringErrors();
      const handler = new SimpleHandler(
        new BytesInput(),
        new AbortingWriter(new CustomException()),
        stderr,
        { SERVER_PROTOCOL: "HTTP/1.0" },
      );
      await handler.run(apps.hello_app!);
      assert.match(stderr.getValue(), /CustomException/);
      assert.notEqual(handler.result, undefined);
      assert.notEqual(handler.headers, undefined);
      assert.notEqual(handler.status, undefined);
      assert.notEqual(handler.environ, undefined);
    });
  });
});
