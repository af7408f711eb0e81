/**
 * `toFetchHandler`: a WSGI application as a Fetch handler, `(request: Request)
 * => Response | Promise<Response>`, for Hono's `app.mount()`, Deno's and Bun's `serve`, a
 * Worker's `fetch` or a test. The request goes through the server's stages (the
 * head checked and turned into an environ by `gateway/request-head.ts`, the body
 * spooled within the same limits) and the gateway engine (`SinkHandler`); the
 * response body streams out of the application's iterable with backpressure.
 */

import { Buffer } from "node:buffer";
import { STATUS_CODES } from "node:http";
import { receiveStream } from "../gateway/body-from-stream.js";
import { mountEnviron } from "../gateway/mount.js";
import {
  type GatewayOptions,
  type ResolvedGatewayOptions,
  resolveGatewayOptions,
} from "../gateway/options.js";
import { BodyError, EmptyInput } from "../gateway/request-body.js";
import {
  type RequestHead,
  type RequestPeer,
  refusalStatus,
  requestEnviron,
  requestFacts,
} from "../gateway/request-head.js";
import { fieldPairs, type PartSink, SinkHandler } from "../gateway/sink-handler.js";
import { equalsFoldedBoth } from "../internal/ascii-fold.js";
import { show } from "../internal/check.js";
import { streamDestroyedError } from "../internal/disconnect.js";
import { markHandled } from "../internal/thenable.js";
import type { SpooledInput } from "../streams/spooled-input.js";
import type { PartialEnvironment, WSGIApplication } from "../types.js";
import { fetchHead, urlBaseEnviron } from "./fetch-request.js";
import { hostPeer } from "./host-peer.js";
import { type RequestUrl, RequestUrlReader } from "./request-url.js";

/** Options of `toFetchHandler`. */
export interface FetchHandlerOptions extends GatewayOptions {
  /**
   * `REMOTE_ADDR` of every request, whoever sent it (behind a proxy, say). By
   * default the client's address as the host tells it (@hono/node-server, Deno
   * and Bun do, see `toFetchHandler`), else `''`: a `Request` does not say.
   */
  remoteAddr?: string;
}

/** `FetchHandlerOptions` checked, with the defaults filled in. */
export interface ResolvedFetchOptions extends ResolvedGatewayOptions {
  readonly remoteAddr: string | undefined;
}

/** What a run reports besides its response (for the test client). */
export interface RunObserver {
  /** An error the handler logged (the application's, or a check's). */
  exception(err: unknown): void;
}

/** One request served: its response, and when the application is done with it. */
export interface FetchRun {
  /** The response, as soon as its head is known; its body may still be coming. */
  readonly response: Response;
  /** Resolves once the application has finished and its body is closed; never rejects. */
  readonly done: Promise<void>;
}

/** The peer of a request whose host does not say who sent it. */
const NO_PEER: RequestPeer = { remoteAddress: undefined, remotePort: undefined };

/** How many bytes of the response body may wait for the consumer before the application is paused. */
const HIGH_WATER_MARK = 64 * 1024;

/** Check `options` of a Fetch entry point and fill in the defaults. */
export function resolveFetchOptions(
  options: FetchHandlerOptions | undefined,
  name = "toFetchHandler",
): ResolvedFetchOptions {
  const resolved = resolveGatewayOptions(options, name, ["remoteAddr"]);
  const remoteAddr = options?.remoteAddr;
  if (remoteAddr !== undefined && typeof remoteAddr !== "string") {
    throw new TypeError(`remoteAddr must be a string: ${show(remoteAddr)}`);
  }
  return { ...resolved, remoteAddr };
}

/**
 * Make a Fetch handler that runs `app` for each `Request`.
 *
 * The request's head is checked as the server checks it (431, 400, 417 …), its
 * body received in full before the application runs (413 past `maxBodySize`,
 * spooled to a temporary file past `spoolThreshold`), and the environ built as
 * the server builds it, with `SERVER_NAME`, `SERVER_PORT` and
 * `wsgi.url_scheme` from the request's URL, `SCRIPT_NAME` the `scriptName`
 * option (a path under it has it cut from `PATH_INFO`), and `REMOTE_ADDR` the
 * `remoteAddr` option, or else the client's address and `REMOTE_PORT` its port
 * from the handler's second argument, where the host passes one that says:
 * @hono/node-server's `{ incoming }` (Hono's `c.env`, passed on by
 * `app.mount()`), Deno's `ServeHandlerInfo`, Bun's `Server`; `''` without.
 *
 * Like a Hono app's `fetch`, the handler returns the `Response` itself when it
 * is known before the handler returns (a refusal, or an application whose
 * response was complete without waiting), else a promise that resolves once the
 * status and headers are known: `await` what it returns. A host that is given
 * a `Response` writes it out at once; given a promise, @hono/node-server takes
 * a slower path for every request.
 *
 * The body streams from the application's iterable, one chunk at a
 * time as the consumer reads it, and the body's `close()` is called exactly
 * once: at its end, on an error, or when the consumer cancels the stream. An
 * error before the headers is a 500 `Response` with the handler's
 * `errorBody`; after them, the body stream errors. A HEAD request, a 204, 205
 * or 304 gets a `Response` without a body, once the application has finished.
 *
 * @example
 * const app = new Hono();
 * app.mount("/wsgi", toFetchHandler(wsgiApp, { scriptName: "/wsgi" }), { replaceRequest: false });
 */
export function toFetchHandler(
  app: WSGIApplication,
  options?: FetchHandlerOptions,
): (request: Request, context?: unknown) => Response | Promise<Response> {
  if (typeof app !== "function") throw new TypeError(`app must be a function: ${show(app)}`);
  const gateway = new FetchGateway(app, resolveFetchOptions(options));
  return (request, context) => {
    const run = gateway.serve(request, undefined, context);
    return run instanceof Promise ? run.then(responseOf) : run.response;
  };
}

/** The response of a run. */
function responseOf(run: FetchRun): Response {
  return run.response;
}

/** The answer to a request refused before the application runs: the status and its phrase. */
export function refusalResponse(status: number): Response {
  const reason = STATUS_CODES[status] ?? "Error";
  return new Response(`${reason}\n`, {
    status,
    statusText: reason,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * Serve `request` with `app`: the response, and a promise of the run's end.
 * `context` is what the host passed the handler after the request (`hostPeer`).
 */
export function serveFetch(
  app: WSGIApplication,
  request: Request,
  settings: ResolvedFetchOptions,
  observer?: RunObserver,
  context?: unknown,
): Promise<FetchRun> {
  return Promise.resolve(new FetchGateway(app, settings).serve(request, observer, context));
}

/** Serves the requests of one Fetch handler: its application, its settings, what its requests share. */
class FetchGateway {
  readonly #app: WSGIApplication;
  readonly #settings: ResolvedFetchOptions;
  readonly #urls = new RequestUrlReader();
  // The server's part of the environ of the last origin served (`urlBaseEnviron`);
  // the request stage reads it and never writes to it.
  #baseUrl: RequestUrl | undefined;
  #base: PartialEnvironment | undefined;

  constructor(app: WSGIApplication, settings: ResolvedFetchOptions) {
    this.#app = app;
    this.#settings = settings;
  }

  /**
   * Serve `request` (see `serveFetch`): the run itself rather than a promise of
   * it when its response is known before this returns (a refusal, or an
   * application whose body completed without waiting).
   */
  serve(
    request: Request,
    observer: RunObserver | undefined,
    context: unknown,
  ): FetchRun | Promise<FetchRun> {
    const settings = this.#settings;
    const url = this.#urls.read(request.url);
    const remoteAddr = settings.remoteAddr;
    const peer: RequestPeer =
      remoteAddr !== undefined
        ? { remoteAddress: remoteAddr, remotePort: undefined }
        : (hostPeer(request, context) ?? NO_PEER);
    const method = request.method;
    const head = fetchHead(request, url, peer, method);
    // A GET or HEAD Request has no body (the Fetch standard refuses one); not
    // asking spares a server's lazy Request (@hono/node-server's) being made whole.
    const body = method === "GET" || method === "HEAD" ? null : request.body;
    const facts = requestFacts(head);
    const refusal = refusalStatus(head, facts, settings);
    if (refusal !== 0) {
      // Not read: let its source go (a body another reader holds is left to it).
      if (body !== null && !body.locked) markHandled(body.cancel());
      return refused(refusal);
    }
    const base = this.#baseEnviron(url);
    const app = this.#app;
    if (body === null) {
      return runApp(app, head, url, base, new EmptyInput(), false, settings, observer);
    }
    return receiveStream(body, settings).then(
      (input) => runApp(app, head, url, base, input, true, settings, observer),
      (err: unknown) => {
        if (err instanceof BodyError) return refused(err.status);
        throw err;
      },
    );
  }

  /** The server's part of the environ of a request to `url`. */
  #baseEnviron(url: RequestUrl): PartialEnvironment {
    const last = this.#baseUrl;
    if (last !== undefined && last.host === url.host && last.protocol === url.protocol) {
      return this.#base as PartialEnvironment;
    }
    const base = urlBaseEnviron(url);
    this.#baseUrl = url;
    this.#base = base;
    return base;
  }
}

/** A run that ended before the application: the refusal, nothing left to wait for. */
function refused(status: number): FetchRun {
  return { response: refusalResponse(status), done: Promise.resolve() };
}

/**
 * Run `app` for the request described by `head` over the server's environ
 * `base`, its body (when it has one: `received`) received into `input`.
 */
function runApp(
  app: WSGIApplication,
  head: RequestHead,
  url: RequestUrl,
  base: PartialEnvironment,
  input: SpooledInput | EmptyInput,
  received: boolean,
  settings: ResolvedFetchOptions,
  observer: RunObserver | undefined,
): FetchRun | Promise<FetchRun> {
  // `urlBaseEnviron` gives no symbol key.
  const env = requestEnviron(head, base, true);
  // The length received: a Fetch request need not say it, and may say it wrong.
  if (received) env.CONTENT_LENGTH = String(input.length);
  mountEnviron(env, settings.scriptName);
  Object.assign(env, settings.environ);
  const channel = new ResponseChannel(url.pathname);
  // A plain SinkHandler unless there is an observer: one class fewer to construct.
  const handler =
    observer === undefined
      ? new SinkHandler(input, channel, settings.errors, env, false, settings.multiprocess)
      : new ObservedHandler(input, channel, settings.errors, env, observer);
  handler.wsgiMultiprocess = settings.multiprocess;
  // Built for this request alone: the handler may take it as its environ.
  handler.ownsEnviron = true;
  const running = handler.run(app);
  channel.ran();
  const done = running.then(
    () => {
      input.close();
      channel.settle();
    },
    (err: unknown) => {
      // An error while handling an error: the response failed (SinkHandler.run);
      // nothing is left to tell but the log.
      input.close();
      channel.settle();
      observer?.exception(err);
      logQuietly(handler, err);
    },
  );
  const made = channel.made;
  if (made !== undefined && !channel.bodyless) return { response: made, done };
  return channel.response.then((response): FetchRun | Promise<FetchRun> => {
    // The run ended without a head: handling its error failed before one.
    if (response === undefined) return { response: refusalResponse(500), done };
    // Not response.body: a server's own Response class (@hono/node-server's) may
    // make its whole undici Response on that read, and then write it slowly.
    if (channel.bodyless) return done.then(() => ({ response, done }));
    return { response, done };
  });
}

/** Log `err` on the handler's error stream, unless that fails too. */
function logQuietly(handler: SinkHandler, err: unknown): void {
  try {
    handler.logException(err);
  } catch {
    // The error stream itself failed: there is nowhere left to report to.
  }
}

/** A `SinkHandler` that tells an observer about each error it logs. */
class ObservedHandler extends SinkHandler {
  readonly #observer: RunObserver | undefined;

  constructor(
    stdin: SpooledInput | EmptyInput,
    sink: PartSink,
    stderr: ResolvedFetchOptions["errors"],
    environ: ReturnType<typeof requestEnviron>,
    observer: RunObserver | undefined,
  ) {
    super(stdin, sink, stderr, environ);
    this.#observer = observer;
  }

  override logException(err: unknown): void {
    this.#observer?.exception(err);
    super.logException(err);
  }
}

/**
 * The header fields (name, value, name, value…) as `Response` takes them: a
 * plain record when no name repeats (what servers such as @hono/node-server
 * write out fastest), else pairs. Names keep their case (a `Headers` folds it;
 * a server writes it as given).
 */
function headersInit(fields: string[]): Record<string, string> | Array<[string, string]> {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    // A valid field name, but on a plain object it would set the prototype.
    if (name === "__proto__") return fieldPairs(fields);
    // A repeat differs in case at most (names are tokens, checked by the part
    // sink: ASCII, so A-Z folded is every fold).
    for (let j = 0; j < i; j += 2) {
      if (equalsFoldedBoth(fields[j]!, name)) return fieldPairs(fields);
    }
    record[name] = fields[i + 1]!;
  }
  return record;
}

/**
 * A `PartSink` that becomes a Fetch `Response`. A body that is complete
 * before the event loop turns (most: a list of chunks) goes into the `Response`
 * as bytes. Otherwise the `Response` gets a `ReadableStream` at the latest once
 * the loop has turned, or as soon as more than `HIGH_WATER_MARK` bytes wait;
 * the stream then holds at most that many bytes the consumer has not read, and
 * past that each write waits for the consumer to pull. Cancelling the stream
 * makes the pending and every later write fail as a client disconnect, so the
 * handler closes the application's body and stops quietly.
 */
class ResponseChannel implements PartSink {
  readonly #path: string;
  // The Response once made (at its head for one without a body); the run's
  // consumer asks for it as a promise only when it was not made at once.
  #made: Response | undefined;
  #resolve: ((response: Response | undefined) => void) | undefined;
  #settled = false;
  // Inside the synchronous part of the run: the stream is not scheduled before
  // it returns (`ran()`), as a body complete by then needs none.
  #running = true;
  #init: ResponseInit | undefined;
  // Chunks written before the Response is made, and their size.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #immediate: NodeJS.Immediate | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #waiting: { resolve(): void; reject(err: unknown): void } | undefined;
  #finished = false;
  /** Whether the response has no body (HEAD, 204, 205, 304). */
  bodyless = false;

  constructor(path: string) {
    this.#path = path;
  }

  /** The response, if it is made already. */
  get made(): Response | undefined {
    return this.#made;
  }

  /** The response, or undefined when the run ended without one (`settle()`). */
  get response(): Promise<Response | undefined> {
    if (this.#made !== undefined || this.#settled) return Promise.resolve(this.#made);
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /**
   * The run's synchronous part returned: a head given by then whose body is
   * still coming gets its stream once the event loop turns.
   */
  ran(): void {
    this.#running = false;
    if (this.#init !== undefined && this.#made === undefined && !this.#finished) this.#schedule();
  }

  /** The run is over: a response not made by now never will be. */
  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#made === undefined) this.#resolve?.(undefined);
  }

  head(status: number, reason: string, fields: string[], bodyAllowed: boolean): void {
    const init: ResponseInit = { status, statusText: reason, headers: headersInit(fields) };
    if (!bodyAllowed) {
      this.#finished = true;
      this.bodyless = true;
      this.#make(new Response(null, init));
      return;
    }
    this.#init = init;
    if (!this.#running) this.#schedule();
  }

  body(chunk: Uint8Array): void | Promise<void> {
    if (this.#finished) throw streamDestroyedError(`the response body stream of ${this.#path}`);
    const controller = this.#controller;
    if (controller === undefined) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < HIGH_WATER_MARK) return;
      this.#stream();
      return this.#waitIfFull(
        this.#controller as unknown as ReadableStreamDefaultController<Uint8Array>,
      );
    }
    controller.enqueue(chunk);
    return this.#waitIfFull(controller);
  }

  end(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#controller !== undefined) {
      this.#controller.close();
      return;
    }
    // Complete before the Response was made: the bytes themselves.
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    const pending = this.#pending;
    // Left as it is: nothing reads it after the end, and the Response holds the bytes.
    const bytes = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending);
    if (this.#init !== undefined) this.#make(new Response(bytes, this.#init));
  }

  fail(err: unknown): void {
    if (this.#finished) return;
    if (this.#controller === undefined) this.#stream();
    this.#finished = true;
    this.#controller?.error(err);
  }

  #make(response: Response): void {
    this.#made = response;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.(response);
  }

  #schedule(): void {
    this.#immediate ??= setImmediate(() => this.#stream());
  }

  /** Make the Response, over a stream that holds what was written so far. */
  #stream(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    const init = this.#init;
    if (this.#controller !== undefined || this.#finished || init === undefined) return;
    const pending = this.#pending;
    this.#pending = [];
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          for (const chunk of pending) controller.enqueue(chunk);
        },
        pull: () => this.#release(),
        cancel: () => this.#cancel(),
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    this.#make(new Response(body, init));
  }

  #waitIfFull(controller: ReadableStreamDefaultController<Uint8Array>): void | Promise<void> {
    if ((controller.desiredSize ?? 0) > 0) return;
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  #release(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve();
  }

  #cancel(): void {
    this.#finished = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(streamDestroyedError(`the response body stream of ${this.#path}`));
  }
}
