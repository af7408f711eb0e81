/**
 * The WSGI interface itself: the shapes an application, a server and the streams
 * between them agree on. Types only; nothing here exists at run time.
 *
 * Port of Python's `wsgiref.types`, widened where Node needs it (async
 * applications and bodies).
 *
 * @see https://peps.python.org/pep-3333/#specification-details
 *
 * @module wsgiref/types
 */

/**
 * Read the request body, synchronously.
 *
 * Servers receive the whole body before calling the application, so `read()`
 * never blocks the event loop. Semantics follow Python's `io` readers: a missing or
 * negative `size` means "all", and an empty result means end of input. The bytes
 * are backed by an `ArrayBuffer` (never a `SharedArrayBuffer`), the type the
 * Fetch API takes as a body: `new Response(environ["wsgi.input"].read())`.
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export interface InputStream {
  /** Read at most `size` bytes; all that remain when `size` is omitted or negative. */
  read(size?: number): Uint8Array<ArrayBuffer>;
  /** Read one line, newline included, or at most `size` bytes of it. */
  readline(size?: number): Uint8Array<ArrayBuffer>;
  /** Read lines until their total length reaches `hint` (all lines when omitted or ≤ 0). */
  readlines(hint?: number): Uint8Array<ArrayBuffer>[];
  /** Iterate over the remaining lines. */
  [Symbol.iterator](): Iterator<Uint8Array<ArrayBuffer>>;
}

/**
 * Write diagnostic text, synchronously (`wsgi.errors`).
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export interface ErrorStream {
  /** Write `s` as it is; add the `\n` yourself. */
  write(s: string): unknown;
  /** Write each string of `seq` in turn, as `write()` would. */
  writelines(seq: Iterable<string>): unknown;
  /** Push out what is buffered, if anything. */
  flush(): unknown;
}

/**
 * A file-like object a `FileWrapper` reads from: Python's `open(path, "rb")`.
 *
 * When `fd` is present a server may send the file with `sendfile()` from its
 * current position instead of reading it through JavaScript. When `remaining`
 * is present too, it is how many bytes `read()` will still return (a byte range
 * of the file): the server sends no more than that from `fd`, and the file
 * going on past it does not make the body longer than its Content-Length.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"
 */
export interface FileLike {
  /** Read at most `size` bytes from the current position; an empty result means the end. */
  read(size: number): Uint8Array;
  /** Release the file; `FileWrapper.close()` calls it. */
  close?(): void;
  /** The file descriptor, when there is one: a server may `sendfile()` from it. */
  readonly fd?: number;
  /** How many bytes `read()` will still return, when the file is a byte range of `fd`. */
  readonly remaining?: number;
}

/**
 * The object `wsgi.file_wrapper` builds: an iterable over a file's blocks that
 * keeps the file at hand so the server can recognise it and send it faster.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"
 */
export interface FileWrapper extends Iterable<Uint8Array> {
  /** The file the blocks are read from. */
  readonly filelike: FileLike;
  /** Close `filelike`; present only when `filelike` has a `close()`. */
  close?(): void;
}

/**
 * The constructor stored under `wsgi.file_wrapper`.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"
 */
export type FileWrapperClass = new (filelike: FileLike, blksize?: number) => FileWrapper;

/**
 * The callable `startResponse` returns, for applications that push output
 * imperatively (legacy but supported).
 *
 * @see PEP 3333, "The write() Callable"
 */
export type WriteCallable = (data: Uint8Array) => void;

/**
 * Begin the response: a status such as `"200 OK"`, the header list, and — when
 * called again from an error handler — the thrown value.
 *
 * @see PEP 3333, "The start_response() Callable"
 */
export type StartResponse = (
  status: string,
  headers: Array<[string, string]>,
  excInfo?: unknown,
) => WriteCallable;

/**
 * A response body: any sync or async iterable of byte chunks, optionally with a
 * `close()` the server calls exactly once when it is done with it.
 *
 * @see PEP 3333, "Specification Details" (the iterable and its `close()`)
 */
export type WSGIBody = (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & {
  /** Release what the body holds; the server calls it exactly once, on every path. */
  close?(): void | Promise<void>;
};

/**
 * An environ that may still lack keys: what a test builds before
 * `setupTestingDefaults()`, what a gateway holds while it assembles one, and what
 * the `wsgiref/util` functions accept (as Python's accept any dict).
 *
 * The keys PEP 3333 and CGI define are typed; `HTTP_*` keys (the request's
 * headers) are strings; any other key is allowed (server extensions) and is
 * `unknown`. Values of CGI keys are "bytes in unicode": strings of code points
 * ≤ U+00FF.
 *
 * @see PEP 3333, "environ Variables"
 */
export interface PartialEnvironment {
  /** A server extension or any other key. */
  [key: string]: unknown;
  /** A request header, such as `HTTP_ACCEPT` for `Accept`. @see PEP 3333, "environ Variables" */
  [key: `HTTP_${string}`]: string | undefined;
  /** The HTTP method, such as `"GET"`. @see PEP 3333, "environ Variables" */
  REQUEST_METHOD?: string;
  /** Where the application is mounted; `""` at the root. @see PEP 3333, "environ Variables" */
  SCRIPT_NAME?: string;
  /** The rest of the path, after SCRIPT_NAME. @see PEP 3333, "environ Variables" */
  PATH_INFO?: string;
  /** The part of the URL after `?`. @see PEP 3333, "environ Variables" */
  QUERY_STRING?: string;
  /** The request's `Content-Type`. @see PEP 3333, "environ Variables" */
  CONTENT_TYPE?: string;
  /** The request's `Content-Length`, as a decimal string. @see PEP 3333, "environ Variables" */
  CONTENT_LENGTH?: string;
  /** The server's host name. @see PEP 3333, "environ Variables" */
  SERVER_NAME?: string;
  /** The server's port, as a decimal string. @see PEP 3333, "environ Variables" */
  SERVER_PORT?: string;
  /** The request's protocol version, such as `"HTTP/1.1"`. @see PEP 3333, "environ Variables" */
  SERVER_PROTOCOL?: string;
  /** The server's name and version. @see CGI (RFC 3875) 4.1.17 */
  SERVER_SOFTWARE?: string;
  /** `"CGI/1.1"`. @see CGI (RFC 3875) 4.1.4 */
  GATEWAY_INTERFACE?: string;
  /** The client's address. @see CGI (RFC 3875) 4.1.8 */
  REMOTE_ADDR?: string;
  /** The client's port. */
  REMOTE_PORT?: string;
  /** The client's host name, when known. @see CGI (RFC 3875) 4.1.9 */
  REMOTE_HOST?: string;
  /** The raw request target, query included. */
  REQUEST_URI?: string;
  /** The `Host` request header. @see PEP 3333, "URL Reconstruction" */
  HTTP_HOST?: string;
  /** `"on"`, `"1"` or `"yes"` when the request came over TLS (CGI convention). */
  HTTPS?: string;
  /** `[1, 0]`. @see PEP 3333, "environ Variables" */
  "wsgi.version"?: [number, number];
  /** `"http"` or `"https"`. @see PEP 3333, "environ Variables" */
  "wsgi.url_scheme"?: string;
  /** The request body. @see PEP 3333, "Input and Error Streams" */
  "wsgi.input"?: InputStream;
  /** Where the application writes diagnostics. @see PEP 3333, "Input and Error Streams" */
  "wsgi.errors"?: ErrorStream;
  /** Whether another thread may call the application at once. @see PEP 3333, "environ Variables" */
  "wsgi.multithread"?: boolean;
  /** Whether another process may call the application at once. @see PEP 3333, "environ Variables" */
  "wsgi.multiprocess"?: boolean;
  /** Whether the application runs once per process (CGI). @see PEP 3333, "environ Variables" */
  "wsgi.run_once"?: boolean;
  /** Whether reading `wsgi.input` to its end is safe. @see PEP 3333, "environ Variables" (wsgi.input_terminated, a later extension) */
  "wsgi.input_terminated"?: boolean;
  /** The platform's file wrapper. @see PEP 3333, "Optional Platform-Specific File Handling" */
  "wsgi.file_wrapper"?: FileWrapperClass;
}

/**
 * The request environment every application receives: a `PartialEnvironment`
 * whose keys PEP 3333 requires of a server are present.
 *
 * The gateways of this package (the server, the CGI handlers, `SimpleHandler`)
 * set the `wsgi.*` keys themselves and fill an absent `SCRIPT_NAME` or
 * `PATH_INFO` with `""`; the CGI keys (`REQUEST_METHOD`, `SERVER_NAME`,
 * `SERVER_PORT`, `SERVER_PROTOCOL`) come from the request, or, in a test, from
 * `setupTestingDefaults()`. `QUERY_STRING`, `CONTENT_TYPE` and `CONTENT_LENGTH`
 * stay optional: PEP 3333 lets a server omit them when empty.
 *
 * @see PEP 3333, "environ Variables"
 */
export interface WSGIEnvironment extends PartialEnvironment {
  REQUEST_METHOD: string;
  SCRIPT_NAME: string;
  PATH_INFO: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SERVER_PROTOCOL: string;
  "wsgi.version": [number, number];
  "wsgi.url_scheme": string;
  "wsgi.input": InputStream;
  "wsgi.errors": ErrorStream;
  "wsgi.multithread": boolean;
  "wsgi.multiprocess": boolean;
  "wsgi.run_once": boolean;
}

/**
 * A WSGI application: sync or async, returning a body.
 *
 * @see PEP 3333, "The Application/Framework Side"
 */
export type WSGIApplication = (
  environ: WSGIEnvironment,
  startResponse: StartResponse,
) => WSGIBody | Promise<WSGIBody>;
