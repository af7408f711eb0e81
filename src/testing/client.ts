/**
 * `Client`: an in-process test client, as Werkzeug's and Flask's test clients
 * and Hono's `app.request()`: Fetch API arguments in, a standard `Response` out,
 * no socket. Requests go through the same stages as the server's (see
 * `toFetchHandler`), under `validator()` unless asked otherwise.
 */

import { AssertionError } from "node:assert";
import type { ResolvedFetchOptions } from "../fetch/to-fetch-handler.js";
import { resolveFetchOptions, serveFetch } from "../fetch/to-fetch-handler.js";
import { show } from "../internal/check.js";
import { StringErrors } from "../streams/errors.js";
import type { PartialEnvironment, WSGIApplication, WSGIEnvironment } from "../types.js";
import { type ValidatorOptions, validator } from "../validate.js";

/** Options of `Client`. */
export interface ClientOptions {
  /**
   * Run the application under `validator()` (true), with these validator
   * options, or not at all (false).
   */
  validate?: boolean | ValidatorOptions;
  /**
   * Extra environ keys for every request, set over the request's own.
   * `wsgi.input` and `wsgi.errors` cannot be set here: the request's body and
   * the client's `errors` are those.
   */
  environ?: PartialEnvironment;
  /** The URL a path is resolved against (`http://localhost/`): its host, port and scheme. */
  baseUrl?: string | URL;
  /** Where the application is mounted (`SCRIPT_NAME`); `''` by default. */
  scriptName?: string;
  /** `REMOTE_ADDR` of every request (`127.0.0.1`). */
  remoteAddr?: string;
  /** Largest request body in bytes (1 GiB, as the server): 413 past it. */
  maxBodySize?: number;
  /** Request bodies above this many bytes (1 MiB) are spooled to a temporary file. */
  spoolThreshold?: number;
}

/** What `request()` and the shortcuts take: a path (resolved against `baseUrl`), a `URL` or a `Request`. */
export type RequestInput = string | URL | Request;

const BASE_URL = "http://localhost/";

/**
 * Call a WSGI application in process, with the Fetch API's arguments, and get
 * standard `Response`s back.
 *
 * Each request runs through the server's request stages and gateway engine
 * (checked head, spooled body, the same environ, the error page), with no
 * socket. The application runs under `validator()` unless `validate` is false,
 * so a PEP 3333 violation rejects the request's promise with the
 * `AssertionError` and Python's message. The promise resolves once the
 * application has finished and its body is closed, with the whole body read; an
 * error the application raises after its headers went out rejects it with that
 * error, where a client of the server would see the response cut. Everything
 * the application wrote to `wsgi.errors` is kept in `errors`, across requests,
 * and the last request's environ in `lastEnviron`. The request body is the
 * request's own: `wsgi.input` cannot be set through `environ`.
 *
 * @example
 * const client = new Client(app);
 * const response = await client.post("/echo", { body: "ping" });
 * assert.equal(await response.text(), "ping");
 * assert.equal(client.errors, "");
 */
export class Client {
  /** The environ of the last request the application was called with. */
  lastEnviron: WSGIEnvironment | undefined = undefined;
  readonly #app: WSGIApplication;
  readonly #errors = new StringErrors();
  readonly #settings: ResolvedFetchOptions;
  readonly #base: URL;

  /** Test `app`. Throws a `TypeError` for an app that is not a function or a bad option. */
  constructor(app: WSGIApplication, options: ClientOptions = {}) {
    if (typeof app !== "function") throw new TypeError(`app must be a function: ${show(app)}`);
    const { validate = true, baseUrl = BASE_URL, remoteAddr = "127.0.0.1", ...rest } = options;
    if (typeof validate !== "boolean" && (typeof validate !== "object" || validate === null)) {
      throw new TypeError(`validate must be a boolean or validator options: ${show(validate)}`);
    }
    this.#base = new URL(baseUrl);
    this.#settings = resolveFetchOptions({ ...rest, remoteAddr, errors: this.#errors }, "Client");
    const inner = validate === false ? app : validator(app, validate === true ? {} : validate);
    this.#app = (environ, startResponse) => {
      this.lastEnviron = environ;
      return inner(environ, startResponse);
    };
  }

  /** Everything the application wrote to `wsgi.errors` so far, with the stacks of its errors. */
  get errors(): string {
    return this.#errors.getValue();
  }

  /**
   * Send a request: `input` and `init` as `fetch()` takes them (a path is
   * resolved against `baseUrl`). Resolves to the `Response` once the application
   * has finished; rejects with the `AssertionError` of a PEP 3333 violation, or
   * with the error the application raised after its headers.
   */
  async request(input: RequestInput, init?: RequestInit): Promise<Response> {
    const request =
      input instanceof Request
        ? new Request(input, init)
        : new Request(new URL(input, this.#base), init);
    let violation: { err: unknown } | undefined;
    const run = await serveFetch(this.#app, request, this.#settings, {
      exception(err) {
        if (err instanceof AssertionError) violation ??= { err };
      },
    });
    const { response } = run;
    let body: Uint8Array | null = null;
    let failure: { err: unknown } | undefined;
    if (response.body !== null) {
      try {
        body = new Uint8Array(await response.arrayBuffer());
      } catch (err) {
        failure = { err };
      }
    }
    await run.done;
    if (violation !== undefined) throw violation.err;
    if (failure !== undefined) throw failure.err;
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  /** Send a GET request. */
  get(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "GET" });
  }

  /** Send a HEAD request. */
  head(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "HEAD" });
  }

  /** Send a POST request. */
  post(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "POST" });
  }

  /** Send a PUT request. */
  put(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "PUT" });
  }

  /** Send a PATCH request. */
  patch(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "PATCH" });
  }

  /** Send a DELETE request. */
  delete(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "DELETE" });
  }

  /** Send an OPTIONS request. */
  options(input: RequestInput, init?: RequestInit): Promise<Response> {
    return this.request(input, { ...init, method: "OPTIONS" });
  }
}
