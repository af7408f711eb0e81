/**
 * `wsgiref/types` is checked by the compiler, so this file is partly a
 * compile-time test: each `@ts-expect-error` below must be an error (tsc fails
 * the build on an unused one), and each typed read must compile without a cast.
 * The apps under tests/types/ are what a user writes; they are run here, and
 * compiled once more with the DOM library, as a browser-minded project has it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SimpleHandler } from "../src/handlers/index.js";
import { BytesInput, StringErrors } from "../src/streams.js";
import type {
  PartialEnvironment,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../src/types.js";
import { setupTestingDefaults } from "../src/util.js";
import { describeRequest } from "./types/environ-keys.js";
import { echo, fetchBridge } from "./types/fetch-bridge.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

/** Misuses the compiler must refuse. */
function refused(environ: WSGIEnvironment, partial: PartialEnvironment, start: StartResponse) {
  // @ts-expect-error PATH_INFO is a string, not a number
  const path: number = environ.PATH_INFO;
  // @ts-expect-error wsgi.input may be absent from a partial environ: check it first
  partial["wsgi.input"].read();
  // @ts-expect-error PATH_INFO may be absent from a partial environ
  const partialPath: string = partial.PATH_INFO;
  // @ts-expect-error QUERY_STRING may be absent even from a complete environ (PEP 3333)
  const query: string = environ.QUERY_STRING;
  // @ts-expect-error wsgi.multithread is a boolean
  environ["wsgi.multithread"] = "yes";
  // @ts-expect-error a header is a string or absent, never a number
  environ.HTTP_X_COUNT = 5;
  // @ts-expect-error a header may be absent
  const accept: string = environ.HTTP_ACCEPT;
  // @ts-expect-error an extension key is unknown, not a string
  const custom: string = environ["x.custom"];
  // @ts-expect-error a partial environ is not an application's environ
  const complete: WSGIEnvironment = partial;
  // @ts-expect-error header pairs are [name, value] arrays
  start("200 OK", [{ name: "Content-Type", value: "text/plain" }]);
  // @ts-expect-error a body is an iterable of Uint8Array, not a string
  const body: WSGIBody = "Hello";
  void [path, partialPath, query, accept, custom, complete, body];
}

/** Reads that must compile as they are. */
function accepted(environ: WSGIEnvironment): void {
  // What read() returns is a Fetch body: an ArrayBuffer-backed Uint8Array.
  const bytes: Uint8Array<ArrayBuffer> = environ["wsgi.input"].read();
  const line: Uint8Array<ArrayBuffer> = environ["wsgi.input"].readline();
  const header: string | undefined = environ.HTTP_USER_AGENT;
  const complete: PartialEnvironment = environ;
  void [bytes, line, header, complete];
}

/** Run `app` once under SimpleHandler over `environ`; the response as latin-1 text. */
async function runApp(app: WSGIApplication, environ: PartialEnvironment, body = "") {
  const chunks: Uint8Array[] = [];
  const errors = new StringErrors();
  await new SimpleHandler(
    new BytesInput(new TextEncoder().encode(body)),
    { write: (b: Uint8Array) => void chunks.push(b) },
    errors,
    environ,
  ).run(app);
  return { response: Buffer.concat(chunks).toString("latin1"), errors: errors.getValue() };
}

describe("wsgiref/types", () => {
  it("types an app that reads the required keys and the headers without casts, and runs it", async () => {
    const environ: PartialEnvironment = {
      REQUEST_METHOD: "POST",
      PATH_INFO: "/typed",
      HTTP_ACCEPT: "text/plain, */*",
      HTTP_AUTHORIZATION: "Bearer t0k",
      CONTENT_LENGTH: "3",
    };
    setupTestingDefaults(environ);
    const { response, errors } = await runApp(describeRequest, environ, "abc");
    assert.equal(errors, "POST /typed\n");
    assert.match(
      response,
      /\r\n\r\nmethod: POST\npath: \/typed\nhost: 127\.0\.0\.1:80\nprotocol: HTTP\/1\.0\nscheme: http\nwsgi: 1\.0\nshared: true\naccept: text\/plain\|\*\/\*\ntoken: t0k\nquery: \nbody: 3\/3\nonce: false\n$/,
    );
    assert.equal(typeof refused, "function");
    assert.equal(typeof accepted, "function");
  });

  it("passes what wsgi.input reads to the Fetch API as a request body", async () => {
    const environ: PartialEnvironment = {
      REQUEST_METHOD: "POST",
      PATH_INFO: "/echo",
      CONTENT_TYPE: "application/octet-stream",
    };
    setupTestingDefaults(environ);
    const { response } = await runApp(fetchBridge(echo), environ, "bytes\x00\xff");
    assert.match(response, /^HTTP\/1\.0 200 OK\r\n/);
    assert.ok(response.endsWith("\r\n\r\nbytes\x00\xc3\xbf"), response);

    const get: PartialEnvironment = { PATH_INFO: "/", HTTP_X_NAME: "typed" };
    setupTestingDefaults(get);
    assert.ok((await runApp(fetchBridge(echo), get)).response.endsWith("\r\n\r\nGET typed"));
  });

  it("narrows a partial environ to a WSGIEnvironment after setupTestingDefaults, so an app can be called with it", () => {
    const environ: PartialEnvironment = { SCRIPT_NAME: "/app" };
    setupTestingDefaults(environ);
    const complete: WSGIEnvironment = environ;
    assert.equal(complete.PATH_INFO, "");
    const body = describeRequest(environ, () => () => undefined) as Uint8Array[];
    assert.match(new TextDecoder().decode(body[0]), /^method: GET\npath: \/app\n/);
  });

  it("compiles the apps of tests/types with the DOM library's Fetch types", async () => {
    // Not what `npm run build` uses (Node's own types only): DOM's BodyInit
    // refuses a Uint8Array<ArrayBufferLike>, so this is the strict reading.
    const tsc = `${root}node_modules/typescript/bin/tsc`;
    await run(process.execPath, [tsc, "-p", "tests/types/tsconfig.json"], { cwd: root });
  });
});
