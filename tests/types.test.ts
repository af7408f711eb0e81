/**
 * `wsgiref/types` is checked by the compiler, so this file is a compile-time
 * test: each `@ts-expect-error` below must be an error (tsc fails the build on an
 * unused one), and each typed read must compile without a cast. The runtime
 * part runs an app written against the types through `SimpleHandler`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimpleHandler } from "../src/handlers/index.js";
import { BytesInput, StringErrors } from "../src/streams.js";
import type {
  ErrorStream,
  InputStream,
  StartResponse,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "../src/types.js";
import { setupTestingDefaults } from "../src/util.js";

/** An app that uses every typed key without a cast. */
const app: WSGIApplication = (environ, startResponse) => {
  const path: string | undefined = environ.PATH_INFO;
  const method: string | undefined = environ.REQUEST_METHOD;
  const input: InputStream | undefined = environ["wsgi.input"];
  const errors: ErrorStream | undefined = environ["wsgi.errors"];
  const version: [number, number] | undefined = environ["wsgi.version"];
  const multithread: boolean | undefined = environ["wsgi.multithread"];
  const extension: unknown = environ["x.custom"];
  errors?.write("");
  const body = input?.read() ?? new Uint8Array();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  const text = `${method} ${path ?? ""} ${body.length} ${version?.join(".")} ${multithread} ${typeof extension}`;
  return [new TextEncoder().encode(text)];
};

/** Misuses the compiler must refuse. */
function refused(environ: WSGIEnvironment, startResponse: StartResponse): void {
  // @ts-expect-error PATH_INFO is a string, not a number
  const path: number = environ.PATH_INFO;
  // @ts-expect-error wsgi.input may be absent in a partial environ: check it first
  environ["wsgi.input"].read();
  // @ts-expect-error wsgi.multithread is a boolean
  environ["wsgi.multithread"] = "yes";
  // @ts-expect-error an unknown key is unknown, not a string
  const custom: string = environ.HTTP_X_CUSTOM;
  // @ts-expect-error header pairs are [name, value] arrays
  startResponse("200 OK", [{ name: "Content-Type", value: "text/plain" }]);
  // @ts-expect-error a body is an iterable of Uint8Array, not a string
  const body: WSGIBody = "Hello";
  void [path, custom, body];
}

describe("wsgiref/types", () => {
  it("types an app that reads the known keys without casts, and runs it", async () => {
    const chunks: Uint8Array[] = [];
    const environ: WSGIEnvironment = { REQUEST_METHOD: "POST", PATH_INFO: "/typed" };
    setupTestingDefaults(environ);
    const handler = new SimpleHandler(
      new BytesInput(new TextEncoder().encode("abc")),
      { write: (b: Uint8Array) => void chunks.push(b) },
      new StringErrors(),
      environ,
    );
    await handler.run(app);
    assert.match(
      Buffer.concat(chunks).toString("latin1"),
      /\r\n\r\nPOST \/typed 3 1\.0 true undefined$/,
    );
    assert.equal(typeof refused, "function");
  });
});
