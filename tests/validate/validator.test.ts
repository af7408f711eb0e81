/**
 * `validator()`, check by check: for every entry of the CHECKS register, at least
 * one failing case (the exact AssertionError message, or the exact WSGIWarning)
 * and a passing case next to it. The cases run the validated app as a server
 * would (call, iterate, close), with a recording `startResponse`; the handler,
 * server and garbage-collection cases are in the other validate-*.test.ts files.
 *
 * Python's own validator tests are in test_wsgiref's IntegrationTests, ported in
 * validate-integration.test.ts.
 */
import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type {
  ErrorStream,
  InputStream,
  PartialEnvironment,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";
import { CHECKS, type CheckId } from "../../src/validate/checks.js";
import { type ValidatorOptions, validator } from "../../src/validate.js";

const HELLO = Buffer.from("Hello, world!");
const TEXT: Array<[string, string]> = [["Content-Type", "text/plain"]];

/** A complete environ, as a careful server builds it; `changes` set or (as `undefined`) delete keys. */
function env(changes: Record<string, unknown> = {}): WSGIEnvironment {
  const environ: PartialEnvironment = {};
  setupTestingDefaults(environ);
  environ.QUERY_STRING = "";
  environ["wsgi.input"] = new BytesInput(Buffer.from("line 1\nline 2\n"));
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete environ[key];
    } else {
      environ[key] = value;
    }
  }
  return environ;
}

/** What a recording server saw. */
interface Served {
  calls: unknown[][];
  chunks: Uint8Array[];
  written: Uint8Array[];
}

/** A `startResponse` that records its calls and returns a recording `write`. */
function recorder(served: Served): StartResponse {
  return (...args: unknown[]) => {
    served.calls.push(args);
    return (data: Uint8Array) => {
      served.written.push(data);
    };
  };
}

/** Serve `app` through the validator as a server would: call, iterate, close. */
async function serve(
  app: WSGIApplication,
  environ: WSGIEnvironment = env(),
  options?: ValidatorOptions,
): Promise<Served> {
  const served: Served = { calls: [], chunks: [], written: [] };
  const body = await validator(app, options)(environ, recorder(served));
  try {
    if (Symbol.iterator in body) {
      for (const chunk of body) {
        served.chunks.push(chunk);
      }
    } else {
      for await (const chunk of body) {
        served.chunks.push(chunk);
      }
    }
  } finally {
    await body.close?.();
  }
  return served;
}

/** An app that calls `startResponse(...args)` (any values) and returns `body` (default: hello). */
function respond(args: unknown[], ...body: [unknown?]): WSGIApplication {
  const result = body.length === 0 ? [HELLO] : body[0];
  return (_environ, startResponse) => {
    (startResponse as (...a: unknown[]) => unknown)(...args);
    return result as WSGIBody;
  };
}

/** An app that does `use(environ)` and then answers hello. */
function using(use: (environ: WSGIEnvironment, write: (data: unknown) => void) => void) {
  const app: WSGIApplication = (environ, startResponse) => {
    const write = startResponse("200 OK", TEXT) as (data: unknown) => void;
    use(environ, write);
    return [HELLO];
  };
  return app;
}

const hello = respond(["200 OK", TEXT]);

/** `respond()`, as an async app: its body comes as a promise. */
function respondLater(args: unknown[], ...body: [unknown?]): WSGIApplication {
  const app = respond(args, ...body);
  return async (environ, startResponse) => app(environ, startResponse);
}

/** A `wsgi.input` whose methods return what `results` says (the server side is wrong). */
function fakeInput(results: Partial<Record<"read" | "readline" | "readlines", unknown>>) {
  const input = new BytesInput(Buffer.from("a\nb\n"));
  return {
    read: (size?: number) => ("read" in results ? results.read : input.read(size)),
    readline: (size?: number) => ("readline" in results ? results.readline : input.readline(size)),
    readlines: (hint?: number) =>
      "readlines" in results ? results.readlines : input.readlines(hint),
    [Symbol.iterator]: () => input[Symbol.iterator](),
  };
}

/** Call a method with any arguments, past the compiler (the point is to call it wrongly). */
function call(target: unknown, method: string, ...args: unknown[]): unknown {
  const fn = (target as Record<string, (...a: unknown[]) => unknown>)[method];
  assert.equal(typeof fn, "function", `no method ${method}`);
  return fn!.apply(target, args);
}

interface Case {
  id: CheckId;
  /** The failing behaviour, in the present tense. */
  fails: string;
  run: () => unknown;
  message: string;
  /** The passing behaviour next to it. */
  passes: string;
  ok: () => unknown;
}

const CASES: Case[] = [
  // Specification Details
  {
    id: "app-arguments",
    fails: "refuses a call with one argument",
    run: () => (validator(hello) as (...a: unknown[]) => unknown)(env()),
    message: "Two arguments required",
    passes: "accepts (environ, startResponse)",
    ok: () => serve(hello),
  },
  {
    id: "app-arguments",
    fails: "refuses a call with three arguments",
    run: () => (validator(hello) as (...a: unknown[]) => unknown)(env(), recorder(newServed()), {}),
    message: "Two arguments required",
    passes: "accepts (environ, startResponse)",
    ok: () => serve(hello),
  },
  {
    id: "app-return-iterable",
    fails: "refuses an app that returns undefined",
    run: () => serve(respond(["200 OK", TEXT], undefined)),
    message: "The application must return an iterator, if only an empty list",
    passes: "accepts an empty list",
    ok: () => serve(respond(["200 OK", TEXT], [])),
  },
  {
    id: "app-return-iterable",
    fails: "refuses an app that returns false",
    run: () => serve(respond(["200 OK", TEXT], false)),
    message: "The application must return an iterator, if only an empty list",
    passes: "accepts a Set of chunks",
    ok: () => serve(respond(["200 OK", TEXT], new Set([HELLO]))),
  },
  {
    id: "app-return-iterable",
    fails: "refuses an app that returns a plain object",
    run: () => serve(respond(["200 OK", TEXT], { body: HELLO })),
    message: "The application must return an iterator, if only an empty list",
    passes: "accepts an async iterable",
    ok: () =>
      serve(
        respond(
          ["200 OK", TEXT],
          (async function* () {
            yield HELLO;
          })(),
        ),
      ),
  },
  {
    id: "app-return-iterable",
    fails: "refuses an async app whose promise resolves to null",
    run: () => serve(respondLater(["200 OK", TEXT], null)),
    message: "The application must return an iterator, if only an empty list",
    passes: "accepts an async app that resolves to a list",
    ok: () => serve(respondLater(["200 OK", TEXT])),
  },
  {
    id: "app-return-string",
    fails: "refuses a string body",
    run: () => serve(respond(["200 OK", TEXT], "Hello, world!")),
    message:
      "You should not return a string as your application iterator, instead return a single-item list containing a bytestring.",
    passes: "accepts a single-item list",
    ok: () => serve(hello),
  },
  {
    id: "app-return-string",
    fails: "refuses a bare Uint8Array body",
    run: () => serve(respond(["200 OK", TEXT], HELLO)),
    message:
      "You should not return a string as your application iterator, instead return a single-item list containing a bytestring.",
    passes: "accepts a single-item list",
    ok: () => serve(hello),
  },
  {
    id: "app-return-string",
    fails: "refuses a promised string body",
    run: () => serve(respondLater(["200 OK", TEXT], "Hi")),
    message:
      "You should not return a string as your application iterator, instead return a single-item list containing a bytestring.",
    passes: "accepts a promised list",
    ok: () => serve(respondLater(["200 OK", TEXT])),
  },
  {
    id: "body-chunk-type",
    fails: "refuses a string chunk (Python's classic mistake)",
    run: () => serve(respond(["200 OK", TEXT], ["Hello, world!"])),
    message: "Iterator yielded non-bytestring ('Hello, world!')",
    passes: "accepts Buffer and Uint8Array chunks",
    ok: () => serve(respond(["200 OK", TEXT], [HELLO, new Uint8Array([33])])),
  },
  {
    id: "body-chunk-type",
    fails: "refuses a number chunk from an async generator, as it streams",
    run: () =>
      serve(
        respond(
          ["200 OK", TEXT],
          (async function* () {
            yield HELLO;
            yield 42;
          })(),
        ),
      ),
    message: "Iterator yielded non-bytestring (42)",
    passes: "accepts byte chunks from an async generator",
    ok: () =>
      serve(
        respond(
          ["200 OK", TEXT],
          (async function* () {
            yield HELLO;
            yield HELLO;
          })(),
        ),
      ),
  },
  {
    id: "body-chunk-type",
    fails: "refuses a Uint16Array chunk",
    run: () => serve(respond(["200 OK", TEXT], [new Uint16Array(2)])),
    message: "Iterator yielded non-bytestring (Uint16Array(2) [ 0, 0 ])",
    passes: "accepts an empty chunk",
    ok: () => serve(respond(["200 OK", TEXT], [new Uint8Array(0)])),
  },
  {
    id: "body-before-start-response",
    fails: "refuses a first chunk before startResponse()",
    run: () => serve(() => [HELLO]),
    message:
      "The application returns and we started iterating over its body, but start_response has not yet been called",
    passes: "accepts a generator that calls startResponse() in its first step",
    ok: () =>
      serve(function* (_e, sr) {
        sr("200 OK", TEXT);
        yield HELLO;
      }),
  },
  {
    id: "body-ended-before-start-response",
    fails: "refuses an empty body with no startResponse() at all",
    run: () => serve(() => []),
    message:
      "The application returns and we finished iterating over its body, but start_response has not yet been called",
    passes: "accepts an empty body after startResponse()",
    ok: () => serve(respond(["204 No Content", []], [])),
  },
  {
    id: "body-read-after-close",
    fails: "refuses a server that iterates after close()",
    run: () => {
      const body = validator(hello)(env(), recorder(newServed())) as Iterable<Uint8Array> &
        WSGIBody;
      body.close?.();
      return body[Symbol.iterator]().next();
    },
    message: "Iterator read after closed",
    passes: "accepts iterating, then closing",
    ok: () => serve(hello),
  },
  {
    id: "body-read-after-close",
    fails: "refuses a server that iterates an async body after close()",
    run: async () => {
      const body = (await validator(async (_e, sr) => {
        sr("200 OK", TEXT);
        return (async function* () {
          yield HELLO;
        })();
      })(env(), recorder(newServed()))) as AsyncIterable<Uint8Array> & WSGIBody;
      await body.close?.();
      return body[Symbol.asyncIterator]().next();
    },
    message: "Iterator read after closed",
    passes: "accepts iterating an async body, then closing",
    ok: () => serve(respondLater(["200 OK", TEXT])),
  },
  {
    id: "body-closed-twice",
    fails: "refuses a server that closes the body twice",
    run: () => {
      const body = validator(hello)(env(), recorder(newServed())) as WSGIBody;
      body.close?.();
      return body.close?.();
    },
    message:
      "close() was called twice on the application's iterable; a server calls it exactly once",
    passes: "accepts one close()",
    ok: () => serve(hello),
  },

  // environ Variables
  {
    id: "environ-type",
    fails: "refuses a Map",
    run: () => serve(hello, new Map() as unknown as WSGIEnvironment),
    message: "Environment is not of the right type: Map (environment: Map(0) {})",
    passes: "accepts a null-prototype object",
    ok: () => serve(hello, Object.assign(Object.create(null) as WSGIEnvironment, env())),
  },
  {
    id: "environ-type",
    fails: "refuses null",
    run: () => serve(hello, null as unknown as WSGIEnvironment),
    message: "Environment is not of the right type: null (environment: null)",
    passes: "accepts a plain object",
    ok: () => serve(hello),
  },
  {
    id: "environ-type",
    fails: "refuses an array",
    run: () => serve(hello, [] as unknown as WSGIEnvironment),
    message: "Environment is not of the right type: Array (environment: [])",
    passes: "accepts a plain object",
    ok: () => serve(hello),
  },
  ...[
    "REQUEST_METHOD",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.version",
    "wsgi.input",
    "wsgi.errors",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.url_scheme",
  ].map(
    (key): Case => ({
      id: "environ-required-key",
      fails: `refuses an environ without ${key}`,
      run: () => serve(hello, env({ [key]: undefined })),
      message: `Environment missing required key: '${key}'`,
      passes: "accepts a complete environ",
      ok: () => serve(hello),
    }),
  ),
  ...["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"].map(
    (key): Case => ({
      id: "environ-http-content",
      fails: `refuses ${key}`,
      run: () => serve(hello, env({ [key]: "0" })),
      message: `Environment should not have the key: ${key} (use ${key.slice(5)} instead)`,
      passes: `accepts ${key.slice(5)}`,
      ok: () => serve(hello, env({ [key.slice(5)]: "0" })),
    }),
  ),
  {
    id: "environ-cgi-string",
    fails: "refuses a number for SERVER_PORT",
    run: () => serve(hello, env({ SERVER_PORT: 80 })),
    message: "Environmental variable SERVER_PORT is not a string: number (value: 80)",
    passes: "accepts any type under a key with a dot",
    ok: () => serve(hello, env({ "myserver.port": 80 })),
  },
  {
    id: "environ-cgi-string",
    fails: "refuses undefined for a CGI variable (a ported None)",
    run: () => serve(hello, { ...env(), REMOTE_USER: undefined }),
    message: "Environmental variable REMOTE_USER is not a string: undefined (value: undefined)",
    passes: "accepts a missing CGI variable",
    ok: () => serve(hello, env({ REMOTE_USER: undefined })),
  },
  {
    id: "environ-latin1",
    fails: "refuses a PATH_INFO decoded as UTF-8",
    run: () => serve(hello, env({ PATH_INFO: "/€" })),
    message:
      "Environmental variable PATH_INFO must contain only code points up to U+00FF (latin-1): '/€'",
    passes: "accepts bytes as latin-1 (PEP 3333's bytes in unicode)",
    ok: () => serve(hello, env({ PATH_INFO: "/\xe2\x82\xac" })),
  },
  {
    id: "environ-latin1",
    fails: "refuses a long header value decoded as UTF-8",
    run: () => serve(hello, env({ HTTP_COOKIE: `${"a=1; ".repeat(20)}b=✓` })),
    message: `Environmental variable HTTP_COOKIE must contain only code points up to U+00FF (latin-1): '${"a=1; ".repeat(20)}b=✓'`,
    passes: "accepts a long latin-1 value, and any string under a key with a dot",
    ok: async () => {
      await serve(hello, env({ HTTP_COOKIE: `${"a=1; ".repeat(20)}b=\xe9` }));
      await serve(hello, env({ "myserver.note": "✓" }));
    },
  },
  {
    id: "environ-version",
    fails: "refuses a version with one number",
    run: () => serve(hello, env({ "wsgi.version": [1] })),
    message: "wsgi.version should be a tuple ([ 1 ])",
    passes: "accepts [1, 0]",
    ok: () => serve(hello, env({ "wsgi.version": [1, 0] })),
  },
  {
    id: "environ-version",
    fails: "refuses a version string",
    run: () => serve(hello, env({ "wsgi.version": "1.0" })),
    message: "wsgi.version should be a tuple ('1.0')",
    passes: "accepts [1, 0]",
    ok: () => serve(hello),
  },
  {
    id: "environ-version",
    fails: "refuses a version with a string in it",
    run: () => serve(hello, env({ "wsgi.version": [1, "0"] })),
    message: "wsgi.version should be a tuple ([ 1, '0' ])",
    passes: "accepts [1, 0]",
    ok: () => serve(hello),
  },
  {
    id: "environ-url-scheme",
    fails: "refuses ftp",
    run: () => serve(hello, env({ "wsgi.url_scheme": "ftp" })),
    message: "wsgi.url_scheme unknown: 'ftp'",
    passes: "accepts https",
    ok: () => serve(hello, env({ "wsgi.url_scheme": "https", HTTPS: "on" })),
  },
  {
    id: "input-attributes",
    fails: "refuses a wsgi.input without read()",
    run: () => serve(hello, env({ "wsgi.input": {} })),
    message: "wsgi.input ({}) doesn't have the attribute read",
    passes: "accepts a BytesInput",
    ok: () => serve(hello),
  },
  {
    id: "input-attributes",
    fails: "refuses a wsgi.input that cannot be iterated",
    run: () => {
      const { read, readline, readlines } = fakeInput({});
      return serve(hello, env({ "wsgi.input": { read, readline, readlines } }));
    },
    message:
      "wsgi.input ({ read: [Function: read], readline: [Function: readline], readlines: [Function: readlines] }) doesn't have the attribute [Symbol.iterator]",
    passes: "accepts any object with the four methods",
    ok: () => serve(hello, env({ "wsgi.input": fakeInput({}) })),
  },
  {
    id: "errors-attributes",
    fails: "refuses a wsgi.errors without flush()",
    run: () => serve(hello, env({ "wsgi.errors": { write() {} } })),
    message: "wsgi.errors ({ write: [Function: write] }) doesn't have the attribute flush",
    passes: "accepts a StringErrors",
    ok: () => serve(hello, env({ "wsgi.errors": new StringErrors() })),
  },
  {
    id: "errors-attributes",
    fails: "refuses a null wsgi.errors",
    run: () => serve(hello, env({ "wsgi.errors": null })),
    message: "wsgi.errors (null) doesn't have the attribute flush",
    passes: "accepts any object with the three methods",
    ok: () => serve(hello, env({ "wsgi.errors": { flush() {}, write() {}, writelines() {} } })),
  },
  {
    id: "environ-script-name-slash",
    fails: "refuses a SCRIPT_NAME without its leading slash",
    run: () => serve(hello, env({ SCRIPT_NAME: "app" })),
    message: "SCRIPT_NAME doesn't start with /: 'app'",
    passes: "accepts /app",
    ok: () => serve(hello, env({ SCRIPT_NAME: "/app" })),
  },
  {
    id: "environ-path-info-slash",
    fails: "refuses a PATH_INFO without its leading slash",
    run: () => serve(hello, env({ PATH_INFO: "index.html" })),
    message: "PATH_INFO doesn't start with /: 'index.html'",
    passes: "accepts an empty PATH_INFO under a SCRIPT_NAME",
    ok: () => serve(hello, env({ SCRIPT_NAME: "/app", PATH_INFO: "" })),
  },
  ...["-1", "abc", " 12", "1e3"].map(
    (value): Case => ({
      id: "environ-content-length",
      fails: `refuses CONTENT_LENGTH ${JSON.stringify(value)}`,
      run: () => serve(hello, env({ CONTENT_LENGTH: value })),
      message: `Invalid CONTENT_LENGTH: '${value}'`,
      passes: "accepts digits, and an empty CONTENT_LENGTH",
      ok: async () => {
        await serve(hello, env({ CONTENT_LENGTH: "12" }));
        await serve(hello, env({ CONTENT_LENGTH: "" }));
      },
    }),
  ),
  {
    id: "environ-path-required",
    fails: "refuses an environ with neither SCRIPT_NAME nor PATH_INFO",
    run: () => serve(hello, env({ SCRIPT_NAME: "", PATH_INFO: undefined })),
    message:
      "One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' if SCRIPT_NAME is empty)",
    passes: "accepts a SCRIPT_NAME alone",
    ok: () => serve(hello, env({ SCRIPT_NAME: "/app", PATH_INFO: undefined })),
  },
  {
    id: "environ-script-name-root",
    fails: "refuses SCRIPT_NAME '/'",
    run: () => serve(hello, env({ SCRIPT_NAME: "/", PATH_INFO: "" })),
    message: "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'",
    passes: "accepts SCRIPT_NAME '' with PATH_INFO '/'",
    ok: () => serve(hello, env({ SCRIPT_NAME: "", PATH_INFO: "/" })),
  },

  // Input and Error Streams
  {
    id: "input-read-arguments",
    fails: "refuses read() without a size, as Python does",
    run: () => serve(using((e) => e["wsgi.input"]?.read())),
    message:
      "wsgi.input.read() must be called with exactly one argument (got 0); pass a size, or use validator(app, { readRequiresSize: false })",
    passes: "accepts read(size), and read() with readRequiresSize false",
    ok: async () => {
      await serve(using((e) => assert.equal(e["wsgi.input"]?.read(4).length, 4)));
      await serve(
        using((e) => assert.equal(e["wsgi.input"]?.read().length, 14)),
        env(),
        { readRequiresSize: false },
      );
    },
  },
  {
    id: "input-read-arguments",
    fails: "refuses read() with two arguments",
    run: () => serve(using((e) => call(e["wsgi.input"], "read", 1, 2))),
    message:
      "wsgi.input.read() must be called with exactly one argument (got 2); pass a size, or use validator(app, { readRequiresSize: false })",
    passes: "accepts read(-1) (all)",
    ok: () => serve(using((e) => assert.equal(e["wsgi.input"]?.read(-1).length, 14))),
  },
  ...(["readline", "readlines"] as const).map(
    (method): Case => ({
      id: "input-arguments",
      fails: `refuses ${method}() with two arguments`,
      run: () => serve(using((e) => call(e["wsgi.input"], method, 1, 2))),
      message: `wsgi.input.${method}() takes at most one argument (got 2)`,
      passes: `accepts ${method}() and ${method}(size)`,
      ok: () =>
        serve(
          using((e) => {
            call(e["wsgi.input"], method, 3);
            call(e["wsgi.input"], method);
          }),
        ),
    }),
  ),
  {
    id: "input-arguments",
    fails: "refuses read() with two arguments when readRequiresSize is false",
    run: () =>
      serve(
        using((e) => call(e["wsgi.input"], "read", 1, 2)),
        env(),
        { readRequiresSize: false },
      ),
    message: "wsgi.input.read() takes at most one argument (got 2)",
    passes: "accepts read(size) when readRequiresSize is false",
    ok: () =>
      serve(
        using((e) => e["wsgi.input"]?.read(1)),
        env(),
        { readRequiresSize: false },
      ),
  },
  ...(["read", "readline"] as const).map(
    (method): Case => ({
      id: "input-result",
      fails: `refuses a server whose ${method}() returns a string`,
      run: () =>
        serve(
          using((e) => call(e["wsgi.input"], method, 1)),
          env({ "wsgi.input": fakeInput({ [method]: "a" }) }),
        ),
      message: `wsgi.input.${method}() must return a Uint8Array: 'a'`,
      passes: `accepts a Buffer from ${method}()`,
      ok: () => serve(using((e) => call(e["wsgi.input"], method, 1))),
    }),
  ),
  {
    id: "input-result",
    fails: "refuses a server whose readline() returns a string, met while iterating the input",
    run: () =>
      serve(
        using((e) => {
          for (const _line of e["wsgi.input"] as InputStream) {
            // reading is the point
          }
        }),
        env({ "wsgi.input": fakeInput({ readline: "a\n" }) }),
      ),
    message: "wsgi.input.readline() must return a Uint8Array: 'a\\n'",
    passes: "accepts iterating the input line by line",
    ok: () =>
      serve(
        using((e) => {
          const lines = [...(e["wsgi.input"] as InputStream)].map(String);
          assert.deepEqual(lines, ["line 1\n", "line 2\n"]);
        }),
      ),
  },
  {
    id: "input-readlines-result",
    fails: "refuses a server whose readlines() returns strings",
    run: () =>
      serve(
        using((e) => e["wsgi.input"]?.readlines()),
        env({ "wsgi.input": fakeInput({ readlines: ["a\n"] }) }),
      ),
    message: "wsgi.input.readlines() must return an array of Uint8Array: [ 'a\\n' ]",
    passes: "accepts an array of Buffers",
    ok: () => serve(using((e) => assert.equal(e["wsgi.input"]?.readlines().length, 2))),
  },
  {
    id: "input-readlines-result",
    fails: "refuses a server whose readlines() returns a Uint8Array",
    run: () =>
      serve(
        using((e) => e["wsgi.input"]?.readlines(1)),
        env({ "wsgi.input": fakeInput({ readlines: HELLO.subarray(0, 1) }) }),
      ),
    message: "wsgi.input.readlines() must return an array of Uint8Array: <Buffer 48>",
    passes: "accepts readlines(hint)",
    ok: () => serve(using((e) => assert.equal(e["wsgi.input"]?.readlines(1).length, 1))),
  },
  {
    id: "input-close",
    fails: "refuses an app that closes wsgi.input",
    run: () => serve(using((e) => call(e["wsgi.input"], "close"))),
    message: "input.close() must not be called",
    passes: "accepts an app that leaves it open (the server's BytesInput has a close())",
    ok: () => serve(hello),
  },
  {
    id: "errors-write-type",
    fails: "refuses write() of a Buffer",
    run: () => serve(using((e) => call(e["wsgi.errors"], "write", HELLO))),
    message:
      "wsgi.errors.write() argument must be a string: <Buffer 48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21>",
    passes: "accepts write(), writelines() of strings and flush()",
    ok: async () => {
      const errors = new StringErrors();
      await serve(
        using((e) => {
          const stream = e["wsgi.errors"] as ErrorStream;
          stream.write("a\n");
          stream.writelines(["b\n", "c\n"]);
          stream.flush();
        }),
        env({ "wsgi.errors": errors }),
      );
      assert.equal(errors.getValue(), "a\nb\nc\n");
    },
  },
  {
    id: "errors-write-type",
    fails: "refuses writelines() with a number in it",
    run: () => serve(using((e) => call(e["wsgi.errors"], "writelines", ["a", 1]))),
    message: "wsgi.errors.write() argument must be a string: 1",
    passes: "accepts writelines() of an empty list",
    ok: () => serve(using((e) => e["wsgi.errors"]?.writelines([]))),
  },
  {
    id: "errors-close",
    fails: "refuses an app that closes wsgi.errors",
    run: () => serve(using((e) => call(e["wsgi.errors"], "close"))),
    message: "errors.close() must not be called",
    passes: "accepts an app that leaves it open",
    ok: () => serve(hello),
  },

  // The start_response() Callable
  {
    id: "start-response-arguments",
    fails: "refuses startResponse() with the status alone",
    run: () => serve(respond(["200 OK"])),
    message: "Invalid number of arguments: [ '200 OK' ]",
    passes: "accepts an undefined excInfo as a third argument",
    ok: () => serve(respond(["200 OK", TEXT, undefined])),
  },
  {
    id: "start-response-arguments",
    fails: "refuses startResponse() with four arguments",
    run: () => serve(respond(["200 OK", TEXT, undefined, 1])),
    message:
      "Invalid number of arguments: [ '200 OK', [ [ 'Content-Type', 'text/plain' ] ], undefined, 1 ]",
    passes: "accepts two arguments",
    ok: () => serve(hello),
  },
  {
    id: "status-type",
    fails: "refuses a numeric status",
    run: () => serve(respond([200, TEXT])),
    message: "Status must be of type str (got 200)",
    passes: "accepts a string",
    ok: () => serve(hello),
  },
  ...[
    ["20 OK", "'20'"],
    ["200OK", "'200OK'"],
    ["", "''"],
    ["2000 OK", "'2000'"],
  ].map(
    ([status, code]): Case => ({
      id: "status-code-length",
      fails: `refuses the status ${JSON.stringify(status)}`,
      run: () => serve(respond([status, TEXT])),
      message: `Status codes must be three characters: ${code}`,
      passes: "accepts 404 Not Found",
      ok: () => serve(respond(["404 Not Found", TEXT])),
    }),
  ),
  {
    id: "status-code-digits",
    fails: "refuses the status '20X OK'",
    run: () => serve(respond(["20X OK", TEXT])),
    message: "Status message must begin w/3-digit code: '20X'",
    passes: "accepts 599 and a long reason",
    ok: () => serve(respond(["599 Network Connect Timeout Error", TEXT])),
  },
  {
    id: "status-code-range",
    fails: "refuses the status '099 Low'",
    run: () => serve(respond(["099 Low", TEXT])),
    message: "Status code is invalid: 99",
    passes: "accepts 100",
    ok: () => serve(respond(["100 Continue", TEXT])),
  },
  {
    id: "status-control",
    fails: "refuses a status with CR LF (response splitting)",
    run: () => serve(respond(["200 OK\r\nX-Evil: 1", TEXT])),
    message: "Status must not contain control characters (got '200 OK\\r\\nX-Evil: 1')",
    passes: "accepts a tab in the reason phrase",
    ok: () => serve(respond(["200 O\tK", TEXT])),
  },
  {
    id: "status-latin1",
    fails: "refuses a reason phrase with a code point above U+00FF",
    run: () => serve(respond(["200 ✓", TEXT])),
    message: "Status must contain only code points up to U+00FF (latin-1): '200 ✓'",
    passes: "accepts a latin-1 reason phrase",
    ok: () => serve(respond(["200 Ça va", TEXT])),
  },
  {
    id: "headers-type",
    fails: "refuses headers as an object",
    run: () => serve(respond(["200 OK", { "Content-Type": "text/plain" }])),
    message: "Headers ({ 'Content-Type': 'text/plain' }) must be of type list: Object",
    passes: "accepts an array of pairs",
    ok: () => serve(hello),
  },
  {
    id: "headers-type",
    fails: "refuses headers as a Map",
    run: () => serve(respond(["200 OK", new Map(TEXT)])),
    message: "Headers (Map(1) { 'Content-Type' => 'text/plain' }) must be of type list: Map",
    passes: "accepts an array of pairs",
    ok: () => serve(hello),
  },
  {
    // Python's test_simple_validation_error passes a tuple for the list; the
    // TypeScript slip is one pair for the list of pairs.
    id: "header-type",
    fails: "refuses a single pair instead of a list of pairs",
    run: () => serve(respond(["200 OK", ["Content-Type", "text/plain"]])),
    message: "Individual headers ('Content-Type') must be of type tuple: string",
    passes: "accepts a list of one pair",
    ok: () => serve(hello),
  },
  {
    id: "header-type",
    fails: "refuses a null-prototype object as a header",
    run: () => serve(respond(["200 OK", [Object.create(null)]])),
    message: "Individual headers ([Object: null prototype] {}) must be of type tuple: Object",
    passes: "accepts an empty list of headers for a 204",
    ok: () => serve(respond(["204 No Content", []], [])),
  },
  {
    id: "header-length",
    fails: "refuses a header with a name only",
    run: () => serve(respond(["200 OK", [...TEXT, ["X-Flag"]]])),
    message: "Individual headers ([ 'X-Flag' ]) must have two items, a name and a value (got 1)",
    passes: "accepts an empty value",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-Flag", ""]]])),
  },
  {
    id: "header-name-type",
    fails: "refuses a number as a header name",
    run: () => serve(respond(["200 OK", [...TEXT, [42, "x"]]])),
    message: "Header name must be of type str (got 42)",
    passes: "accepts a string name",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-42", "x"]]])),
  },
  {
    id: "header-value-type",
    fails: "refuses a number as a header value",
    run: () => serve(respond(["200 OK", [...TEXT, ["Content-Length", 13]]])),
    message: "Header value must be of type str (got 13)",
    passes: "accepts the number as a string",
    ok: () => serve(respond(["200 OK", [...TEXT, ["Content-Length", "13"]]])),
  },
  {
    id: "header-status",
    fails: "refuses a Status header",
    run: () => serve(respond(["200 OK", [...TEXT, ["status", "404 Not Found"]]])),
    message:
      "The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: '404 Not Found').",
    passes: "accepts a header merely named like it",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-Status", "404"]]])),
  },
  {
    id: "header-name-colon-newline",
    fails: "refuses a name with its colon",
    run: () => serve(respond(["200 OK", [...TEXT, ["X-Foo:", "1"]]])),
    message: "Header names may not contain ':' or '\\n': 'X-Foo:'",
    passes: "accepts the name without it",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-Foo", "1"]]])),
  },
  {
    id: "header-name-colon-newline",
    fails: "refuses a name with a newline",
    run: () => serve(respond(["200 OK", [...TEXT, ["X\nFoo", "1"]]])),
    message: "Header names may not contain ':' or '\\n': 'X\\nFoo'",
    passes: "accepts digits, - and _ inside a name",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-Foo_2", "1"]]])),
  },
  ...["X Foo", "1X", "X.Foo", ""].map(
    (name): Case => ({
      id: "header-name-syntax",
      fails: `refuses the name ${JSON.stringify(name)}`,
      run: () => serve(respond(["200 OK", [...TEXT, [name, "1"]]])),
      message: `Bad header name: '${name}'`,
      passes: "accepts a one-letter name",
      ok: () => serve(respond(["200 OK", [...TEXT, ["X", "1"]]])),
    }),
  ),
  ...["X-Foo-", "X_"].map(
    (name): Case => ({
      id: "header-name-end",
      fails: `refuses the name ${JSON.stringify(name)}`,
      run: () => serve(respond(["200 OK", [...TEXT, [name, "1"]]])),
      message: `Names may not end in '-' or '_': '${name}'`,
      passes: "accepts a name ending in a digit",
      ok: () => serve(respond(["200 OK", [...TEXT, ["X-1", "1"]]])),
    }),
  ),
  ...[
    ["a\tb", "'a\\tb'", "'\\t'"],
    ["a\r\nSet-Cookie: x=1", "'a\\r\\nSet-Cookie: x=1'", "'\\r'"],
    ["a\x7f", "'a\\x7F'", "'\\x7F'"],
  ].map(
    ([value, shown, char]): Case => ({
      id: "header-value-chars",
      fails: `refuses the value ${JSON.stringify(value)}`,
      run: () => serve(respond(["200 OK", [...TEXT, ["X-Foo", value]]])),
      message: `Bad header value: ${shown} (bad char: ${char})`,
      passes: "accepts spaces and punctuation",
      ok: () => serve(respond(["200 OK", [...TEXT, ["X-Foo", 'a b; c="d"']]])),
    }),
  ),
  {
    id: "header-value-latin1",
    fails: "refuses a value with a code point above U+00FF",
    run: () => serve(respond(["200 OK", [...TEXT, ["X-Name", "Zoë 🙂"]]])),
    message: "Header value must contain only code points up to U+00FF (latin-1): 'Zoë 🙂'",
    passes: "accepts a latin-1 value",
    ok: () => serve(respond(["200 OK", [...TEXT, ["X-Name", "Zoë"]]])),
  },
  ...[
    ["Connection", "close"],
    ["transfer-encoding", "chunked"],
  ].map(
    ([name, value]): Case => ({
      id: "header-hop-by-hop",
      fails: `refuses the hop-by-hop header ${name}`,
      run: () => serve(respond(["200 OK", [...TEXT, [name, value]]])),
      message: `Hop-by-hop header, '${name}: ${value}', not allowed`,
      passes: "accepts end-to-end headers",
      ok: () => serve(respond(["200 OK", [...TEXT, ["Cache-Control", "no-store"]]])),
    }),
  ),
  ...["204 No Content", "304 Not Modified"].map(
    (status): Case => ({
      id: "content-type-forbidden",
      fails: `refuses a Content-Type in a ${status.slice(0, 3)} response`,
      run: () => serve(respond([status, TEXT], [])),
      message: `Content-Type header found in a ${status.slice(0, 3)} response, which must not return content.`,
      passes: `accepts a ${status.slice(0, 3)} response without one`,
      ok: () => serve(respond([status, [["ETag", '"1"']]], [])),
    }),
  ),
  {
    id: "content-type-missing",
    fails: "refuses a 200 response without Content-Type",
    run: () => serve(respond(["200 OK", [["Content-Length", "13"]]])),
    message: "No Content-Type header found in headers ([ [ 'Content-Length', '13' ] ])",
    passes: "accepts content-type in any case",
    ok: () => serve(respond(["200 OK", [["content-type", "text/plain"]]])),
  },
  {
    id: "exc-info-type",
    fails: "refuses a sys.exc_info()-style array",
    run: () =>
      serve((_e, sr) => {
        sr("200 OK", TEXT);
        (sr as (...a: unknown[]) => unknown)("500 Oops", TEXT, ["TypeError", "boom", null]);
        return [HELLO];
      }),
    message: "excInfo must be the caught error itself, not an array: [ 'TypeError', 'boom', null ]",
    passes: "accepts the caught error",
    ok: () =>
      serve((_e, sr) => {
        sr("200 OK", TEXT);
        try {
          throw new Error("boom");
        } catch (err) {
          sr("500 Oops", TEXT, err);
        }
        return [HELLO];
      }),
  },
  {
    id: "exc-info-type",
    fails: "refuses true",
    run: () => serve(respond(["500 Oops", TEXT, true])),
    message: "excInfo must be the caught error itself, not a boolean: true",
    passes: "accepts null (no excInfo) and a thrown string",
    ok: async () => {
      await serve(respond(["200 OK", TEXT, null]));
      await serve(respond(["500 Oops", TEXT, "thrown"]));
    },
  },
  {
    id: "start-response-twice",
    fails: "refuses a second call without excInfo",
    run: () =>
      serve((_e, sr) => {
        sr("200 OK", TEXT);
        sr("404 Not Found", TEXT);
        return [HELLO];
      }),
    message: "startResponse() was called twice without excInfo",
    passes: "accepts a second call with excInfo",
    ok: () =>
      serve((_e, sr) => {
        sr("200 OK", TEXT);
        sr("500 Oops", TEXT, new Error("boom"));
        return [HELLO];
      }),
  },
  {
    id: "start-response-twice",
    fails: "refuses a second call without excInfo after a first that failed",
    run: () =>
      serve((_e, sr) => {
        assert.throws(() => sr("20 OK", TEXT), AssertionError);
        sr("200 OK", TEXT);
        return [HELLO];
      }),
    message: "startResponse() was called twice without excInfo",
    passes: "accepts a second call with excInfo after a first that failed",
    ok: () =>
      serve((_e, sr) => {
        assert.throws(() => sr("20 OK", TEXT), AssertionError);
        sr("500 Oops", TEXT, new Error("bad status"));
        return [HELLO];
      }),
  },
  {
    id: "start-response-write",
    fails: "refuses a server whose startResponse() returns nothing",
    run: () => validator(hello)(env(), (() => undefined) as unknown as StartResponse),
    message: "startResponse() must return a write(data) callable: undefined",
    passes: "accepts a server that returns a function",
    ok: () => validator(hello)(env(), () => () => {}),
  },

  // The write() Callable
  {
    id: "write-type",
    fails: "refuses write() of a string",
    run: () => serve(using((_e, write) => write("Hello"))),
    message: "write() argument must be a Uint8Array: 'Hello'",
    passes: "accepts write() of bytes",
    ok: async () => {
      const served = await serve(using((_e, write) => write(HELLO)));
      assert.deepEqual(served.written, [HELLO]);
    },
  },
  {
    id: "write-inside-body",
    fails: "refuses write() from within the iterable",
    run: () =>
      serve(function* (_e, sr) {
        const write = sr("200 OK", TEXT);
        write(HELLO);
        yield HELLO;
      }),
    message: "write() must not be called from within the application's iterable",
    passes: "accepts write() before returning the iterable",
    ok: () =>
      serve((_e, sr) => {
        sr("200 OK", TEXT)(HELLO);
        return [HELLO];
      }),
  },
];

function newServed(): Served {
  return { calls: [], chunks: [], written: [] };
}

interface WarningCase {
  id: CheckId;
  warns: string;
  run: () => unknown;
  message: string;
  passes: string;
  ok: () => unknown;
}

const WARNING_CASES: WarningCase[] = [
  {
    id: "environ-query-string",
    warns: "warns when QUERY_STRING is missing",
    run: () => serve(hello, env({ QUERY_STRING: undefined })),
    message:
      "QUERY_STRING is not in the WSGI environment; applications ported from Python's cgi module, which used sys.argv when this variable is missing, are more likely to fail",
    passes: "does not warn about an empty QUERY_STRING",
    ok: () => serve(hello, env({ QUERY_STRING: "" })),
  },
  {
    id: "environ-method",
    warns: "warns about a method outside Python's list",
    run: () => serve(hello, env({ REQUEST_METHOD: "BREW" })),
    message: "Unknown REQUEST_METHOD: 'BREW'",
    passes: "does not warn about PATCH",
    ok: () => serve(hello, env({ REQUEST_METHOD: "PATCH" })),
  },
  {
    id: "status-reason",
    warns: "warns about a status without a reason phrase",
    run: () => serve(respond(["200", TEXT])),
    message:
      "The status string ('200') should be a three-digit integer followed by a single space and a status explanation",
    passes: "does not warn about 200 OK",
    ok: () => serve(hello),
  },
  {
    id: "status-reason",
    warns: "warns about a tab after the code",
    run: () => serve(respond(["200\tOK", TEXT])),
    message:
      "The status string ('200\\tOK') should be a three-digit integer followed by a single space and a status explanation",
    passes: "does not warn about an empty reason after the space",
    ok: () => serve(respond(["200 ", TEXT])),
  },
];

/** Whether `message` is an instance of check `id`'s template. */
function fitsTemplate(id: CheckId, message: string): boolean {
  const parts = CHECKS[id].message.split(/\{\w+\}/);
  const pattern = parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`, "s").test(message);
}

describe("validator", () => {
  for (const c of CASES) {
    describe(c.id, () => {
      it(c.fails, async () => {
        assert.ok(fitsTemplate(c.id, c.message), `the case's message is not ${c.id}'s`);
        await assert.rejects(
          async () => {
            await c.run();
          },
          (err: unknown) => {
            assert.ok(err instanceof AssertionError, `not an AssertionError: ${String(err)}`);
            assert.equal(err.message, c.message);
            return true;
          },
        );
      });
      it(c.passes, async () => {
        await c.ok();
      });
    });
  }

  for (const c of WARNING_CASES) {
    describe(c.id, () => {
      it(c.warns, async (t) => {
        assert.ok(fitsTemplate(c.id, c.message), `the case's message is not ${c.id}'s`);
        const emit = t.mock.method(process, "emitWarning", () => {});
        await c.run();
        assert.deepEqual(
          emit.mock.calls.map((call) => call.arguments),
          [[c.message, "WSGIWarning"]],
        );
      });
      it(c.passes, async (t) => {
        const emit = t.mock.method(process, "emitWarning", () => {});
        await c.ok();
        assert.equal(emit.mock.callCount(), 0);
      });
    });
  }

  it("has a failing case for every check in CHECKS", () => {
    const covered = new Set<string>([...CASES, ...WARNING_CASES].map((c) => c.id));
    // Shown by spawning node --expose-gc, in validate-gc.test.ts.
    covered.add("body-not-closed");
    assert.deepEqual(
      Object.keys(CHECKS).filter((id) => !covered.has(id)),
      [],
    );
  });
});

describe("validator (wrapping)", () => {
  it("throws a TypeError for an app that is not a function, or bad options", () => {
    assert.throws(() => validator("app" as unknown as WSGIApplication), {
      name: "TypeError",
      message: "application must be a function: 'app'",
    });
    assert.throws(() => validator(hello, { readRequiresSize: "no" as unknown as boolean }), {
      name: "TypeError",
      message: "options.readRequiresSize must be a boolean: 'no'",
    });
  });

  it("keeps a sync app sync: the body comes back at once, and errors are thrown at once", () => {
    const body = validator(hello)(env(), recorder(newServed()));
    assert.ok(!(body instanceof Promise));
    assert.throws(() => validator(respond([200, TEXT]))(env(), recorder(newServed())), {
      name: "AssertionError",
      message: "Status must be of type str (got 200)",
    });
  });

  it("changes nothing on the way: status, headers, excInfo and chunks reach the server as given", async () => {
    const err = new Error("boom");
    const served = await serve((_e, sr) => {
      sr("200 OK", TEXT);
      sr("500 Oops", [["Content-Type", "text/html"]], err);
      return [HELLO, HELLO];
    });
    assert.deepEqual(served.calls, [
      ["200 OK", TEXT],
      ["500 Oops", [["Content-Type", "text/html"]], err],
    ]);
    assert.deepEqual(served.chunks, [HELLO, HELLO]);
  });

  it("replaces wsgi.input and wsgi.errors with wrappers that pass reads and writes through", async () => {
    const errors = new StringErrors();
    const environ = env({ "wsgi.errors": errors });
    const served = await serve((e, sr) => {
      assert.notEqual(e["wsgi.errors"], errors);
      e["wsgi.errors"]?.write("logged\n");
      const first = e["wsgi.input"]?.readline(100);
      const rest = e["wsgi.input"]?.read(100);
      sr("200 OK", TEXT);
      return [first as Uint8Array, rest as Uint8Array];
    }, environ);
    assert.equal(Buffer.concat(served.chunks).toString(), "line 1\nline 2\n");
    assert.equal(errors.getValue(), "logged\n");
  });

  it("calls the body's close() once, and returns its promise", async () => {
    let closes = 0;
    let settled = false;
    const body = Object.assign([HELLO], {
      close: async () => {
        closes += 1;
        await new Promise((resolve) => setImmediate(resolve));
        settled = true;
      },
    });
    const wrapped = validator(respond(["200 OK", TEXT], body))(env(), recorder(newServed()));
    const closing = (wrapped as WSGIBody).close?.();
    assert.ok(closing instanceof Promise);
    assert.equal(settled, false);
    await closing;
    assert.equal(settled, true);
    assert.equal(closes, 1);
  });

  it("passes an early stop on to the generator, so its finally block runs (sync and async)", async () => {
    const cleaned: string[] = [];
    const sync = validator(function* (_e, sr) {
      sr("200 OK", TEXT);
      try {
        yield HELLO;
        yield HELLO;
      } finally {
        cleaned.push("sync");
      }
    })(env(), recorder(newServed())) as Iterable<Uint8Array> & WSGIBody;
    for (const _chunk of sync) {
      break;
    }
    sync.close?.();
    const promised = validator(async function* (_e, sr) {
      sr("200 OK", TEXT);
      try {
        yield HELLO;
        yield HELLO;
      } finally {
        cleaned.push("async");
      }
    })(env(), recorder(newServed()));
    const body = (await promised) as AsyncIterable<Uint8Array> & WSGIBody;
    for await (const _chunk of body) {
      break;
    }
    await body.close?.();
    assert.deepEqual(cleaned, ["sync", "async"]);
  });

  it("lets an error thrown by the body through, and allows write() afterwards", async () => {
    let write: ((data: Uint8Array) => void) | undefined;
    const app: WSGIApplication = (_e, sr) => {
      write = sr("200 OK", TEXT);
      return (function* () {
        yield HELLO;
        throw new RangeError("in the body");
      })();
    };
    await assert.rejects(serve(app), { name: "RangeError", message: "in the body" });
    write?.(HELLO); // not "from within the iterable": the iteration has ended
    const asyncApp: WSGIApplication = (_e, sr) => {
      sr("200 OK", TEXT);
      return (async function* () {
        yield HELLO;
        throw new RangeError("in the async body");
      })();
    };
    await assert.rejects(serve(asyncApp), { name: "RangeError", message: "in the async body" });
  });

  it("prefers sync iteration for a body that offers both, as the handler does", async () => {
    const both = {
      *[Symbol.iterator]() {
        yield HELLO;
      },
      async *[Symbol.asyncIterator]() {
        yield Buffer.from("async");
      },
    };
    const served = await serve(respond(["200 OK", TEXT], both));
    assert.deepEqual(served.chunks, [HELLO]);
  });

  it("still checks every header after many distinct names passed (names that pass are remembered, up to 1000)", async () => {
    const many: Array<[string, string]> = [...TEXT];
    for (let i = 0; i < 1500; i++) {
      many.push([`X-Name-${i}`, "1"]);
    }
    await serve(respond(["200 OK", many]));
    await assert.rejects(serve(respond(["200 OK", [...many, ["X-Bad-", "1"]]])), {
      message: "Names may not end in '-' or '_': 'X-Bad-'",
    });
  });

  it("is not a FileWrapper and has no length, as in Python (servers iterate it)", () => {
    const body = validator(hello)(env(), recorder(newServed()));
    assert.ok(!Array.isArray(body));
    assert.equal((body as { length?: unknown }).length, undefined);
    (body as WSGIBody).close?.();
  });
});

describe("validator warnings", () => {
  it("emits each distinct warning once per validator, as Python's default filter shows it once", async (t) => {
    const emit = t.mock.method(process, "emitWarning", () => {});
    const app = validator(hello);
    for (const method of ["BREW", "BREW", "WHEN"]) {
      const body = app(env({ REQUEST_METHOD: method }), recorder(newServed())) as WSGIBody;
      await body.close?.();
    }
    assert.deepEqual(
      emit.mock.calls.map((call) => call.arguments[0]),
      ["Unknown REQUEST_METHOD: 'BREW'", "Unknown REQUEST_METHOD: 'WHEN'"],
    );
  });

  it("forgets what it emitted after 1000 distinct warnings, so request data cannot grow memory", async (t) => {
    const emit = t.mock.method(process, "emitWarning", () => {});
    const app = validator(hello);
    for (let i = 0; i <= 1000; i++) {
      (app(env({ REQUEST_METHOD: `M${i}` }), recorder(newServed())) as WSGIBody).close?.();
    }
    (app(env({ REQUEST_METHOD: "M0" }), recorder(newServed())) as WSGIBody).close?.();
    assert.equal(emit.mock.callCount(), 1002);
  });

  it("reaches process 'warning' listeners as a warning named WSGIWarning", async () => {
    // Node's own listener prints warnings to stderr: set it aside, then restore it.
    const listeners = process.listeners("warning");
    process.removeAllListeners("warning");
    try {
      const seen = new Promise<Error>((resolve) => process.once("warning", resolve));
      await serve(hello, env({ REQUEST_METHOD: "PROPFIND" }));
      const warning = await seen;
      assert.equal(warning.name, "WSGIWarning");
      assert.equal(warning.message, "Unknown REQUEST_METHOD: 'PROPFIND'");
    } finally {
      process.removeAllListeners("warning");
      for (const listener of listeners) {
        process.on("warning", listener);
      }
    }
  });
});
