/**
 * The application behind `wsgiref static`: Python's file-server example (the
 * wsgiref docs' "serving the current directory") made safe to point at a real
 * directory. Files get a MIME type guessed from their extension, a directory its
 * `index.html`, anything else 404; no request reaches outside the directory.
 */

import { fstatSync, realpathSync, statSync } from "node:fs";
import { extname, join, sep } from "node:path";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "../types.js";
import { FileWrapper, openFile, requestUri } from "../util.js";

/**
 * MIME types by extension: the web's usual files. A short table rather than a
 * dependency: a development file server needs these, and an unknown extension
 * is sent as `application/octet-stream`, which browsers download rather than
 * guess at. Text types get `charset=utf-8`, as source files are written today.
 */
const MIME_TYPES: Record<string, string> = {
  ".html": "text/html",
  ".htm": "text/html",
  ".css": "text/css",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".cjs": "text/javascript",
  ".map": "application/json",
  ".json": "application/json",
  ".jsonld": "application/ld+json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".csv": "text/csv",
  ".xml": "application/xml",
  ".xhtml": "application/xhtml+xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/vnd.microsoft.icon",
  ".bmp": "image/bmp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wasm": "application/wasm",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".tar": "application/x-tar",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".wav": "audio/wav",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
};

/** Guess a file's `Content-Type` from its extension, as Python's `mimetypes.guess_file_type`. */
export function guessType(path: string): string {
  const type = MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}

/**
 * Make an application serving the files under `root`.
 *
 * `PATH_INFO` (bytes, read as UTF-8) names a file under `root`. A directory is
 * answered with its `index.html`, after a 301 to the same path with a trailing
 * slash so relative links work. Only `GET` and `HEAD` are allowed (405). A path
 * with a NUL or a `..` segment, however it was encoded, is refused with 400. A
 * symbolic link is followed only when its target is inside `root` too; one
 * pointing out is 404, as if absent. Missing files and directories without
 * `index.html` are 404.
 */
export function staticApp(root: string): WSGIApplication {
  const base = realpathSync(root);
  return (environ, startResponse) => {
    const method = environ.REQUEST_METHOD ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      return plain(startResponse, "405 Method Not Allowed", "method not allowed", [
        ["Allow", "GET, HEAD"],
      ]);
    }
    const path = Buffer.from(environ.PATH_INFO ?? "", "latin1").toString("utf8");
    const segments = path.split(sep === "/" ? "/" : /[\\/]/);
    if (path.includes("\0") || segments.includes("..")) {
      return plain(startResponse, "400 Bad Request", "bad request");
    }
    const file = inside(base, join(base, ...segments));
    if (file === undefined) {
      return notFound(startResponse);
    }
    if (statSync(file).isDirectory()) {
      if (!path.endsWith("/")) {
        return redirectToDirectory(environ, startResponse);
      }
      const index = inside(base, join(file, "index.html"));
      return index === undefined ? notFound(startResponse) : sendFile(index, startResponse);
    }
    return sendFile(file, startResponse);
  };
}

/** Errors that mean "nothing to serve here" rather than a fault of the server. */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EACCES", "EPERM", "ENAMETOOLONG"]);

function isAbsent(err: unknown): boolean {
  return err instanceof Error && ABSENT.has(String(Reflect.get(err, "code")));
}

/** The real path of `candidate` if it exists and lies within `base`, else `undefined`. */
function inside(base: string, candidate: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch (err) {
    if (isAbsent(err)) {
      return undefined;
    }
    throw err;
  }
  return real === base || real.startsWith(base.endsWith(sep) ? base : base + sep)
    ? real
    : undefined;
}

function sendFile(file: string, startResponse: StartResponse): WSGIBody {
  // Only regular files: opening a FIFO would block until a writer comes.
  if (!statSync(file).isFile()) {
    return notFound(startResponse);
  }
  let filelike: ReturnType<typeof openFile>;
  try {
    filelike = openFile(file);
  } catch (err) {
    // Unreadable, or gone since it was found: to the client, it is not there.
    if (isAbsent(err)) {
      return notFound(startResponse);
    }
    throw err;
  }
  startResponse("200 OK", [
    ["Content-Type", guessType(file)],
    ["Content-Length", String(fstatSync(filelike.fd).size)],
  ]);
  return new FileWrapper(filelike);
}

function redirectToDirectory(environ: WSGIEnvironment, startResponse: StartResponse): WSGIBody {
  const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : "";
  const location = `${requestUri(environ, false)}/${query}`;
  return plain(startResponse, "301 Moved Permanently", "moved permanently", [
    ["Location", location],
  ]);
}

function notFound(startResponse: StartResponse): WSGIBody {
  return plain(startResponse, "404 Not Found", "not found");
}

function plain(
  startResponse: StartResponse,
  status: string,
  text: string,
  extra: Array<[string, string]> = [],
): WSGIBody {
  const body = Buffer.from(`${text}\n`);
  startResponse(status, [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(body.length)],
    ...extra,
  ]);
  return [body];
}
