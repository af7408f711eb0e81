/**
 * `createEnviron`: the environ a request would get, built synchronously for a
 * test that calls an application by hand, as Werkzeug's `create_environ`.
 */

import { Buffer } from "node:buffer";
import { fetchHead, urlBaseEnviron } from "../fetch/fetch-request.js";
import { requestEnviron } from "../gateway/request-head.js";
import { SimpleHandler } from "../handlers/simple-handler.js";
import { show } from "../internal/check.js";
import { BytesInput } from "../streams/bytes-input.js";
import { StringErrors } from "../streams/errors.js";
import type { PartialEnvironment, WSGIEnvironment } from "../types.js";

/** What `createEnviron` takes besides the URL: `RequestInit`'s fields, with a body in memory. */
export interface EnvironInit {
  /** The method (`GET`). */
  method?: string;
  /** The request's header fields. */
  headers?: RequestInit["headers"];
  /** The body: a string is sent as UTF-8 (and `Content-Type` defaults to `text/plain;charset=UTF-8`, as `fetch` does). */
  body?: string | Uint8Array | null;
}

const BASE_URL = "http://localhost/";

/**
 * Build the environ the test client would give the application for a request
 * to `input` (a path, resolved against `http://localhost/`, a `URL`, or a
 * `Request` without a body), with no socket and no waiting.
 *
 * The CGI keys are the server's (the same builder), `wsgi.input` a
 * `BytesInput` over the body with `CONTENT_LENGTH` its length, `wsgi.errors` a
 * new `StringErrors`, and the `wsgi.*` keys a `SimpleHandler` sets
 * (`wsgi.multithread`, `wsgi.multiprocess` and `wsgi.run_once` false). Throws
 * a `TypeError` for a `Request` with a body (it can only be read
 * asynchronously: give the body in `init`) and wherever `new Request()` would.
 *
 * @example
 * const environ = createEnviron("/hello?x=1", { method: "POST", body: "ping" });
 * const body = app(environ, startResponse);
 */
export function createEnviron(
  input: string | URL | Request = "/",
  init: EnvironInit = {},
): WSGIEnvironment {
  if (input instanceof Request && input.body !== null) {
    throw new TypeError(
      "createEnviron() cannot read a Request's body synchronously; give the body in init",
    );
  }
  const bodyGiven = init.body;
  if (
    bodyGiven !== undefined &&
    bodyGiven !== null &&
    typeof bodyGiven !== "string" &&
    !(bodyGiven instanceof Uint8Array)
  ) {
    throw new TypeError(`body must be a string or a Uint8Array: ${show(bodyGiven)}`);
  }
  const bytes =
    bodyGiven === undefined || bodyGiven === null
      ? undefined
      : typeof bodyGiven === "string"
        ? Buffer.from(bodyGiven, "utf8")
        : bodyGiven;
  // A Request normalises the method and header fields as the client's would,
  // and refuses what the client's would refuse (a GET with a body).
  const request =
    input instanceof Request
      ? new Request(input, { ...init, body: bodyGiven })
      : new Request(new URL(input, BASE_URL), { ...init, body: bodyGiven });
  const url = new URL(request.url);
  const env: PartialEnvironment = requestEnviron(
    fetchHead(request, url, { remoteAddress: "127.0.0.1", remotePort: undefined }),
    urlBaseEnviron(url),
  );
  if (bytes !== undefined) env.CONTENT_LENGTH = String(bytes.length);
  const handler = new SimpleHandler(
    new BytesInput(bytes),
    null,
    new StringErrors(),
    env,
    false,
    false,
  );
  handler.setupEnviron();
  return handler.environ as WSGIEnvironment;
}
