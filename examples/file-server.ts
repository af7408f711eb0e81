/**
 * Python's small file server (wsgiref docs, Examples): takes a path to serve
 * from and an optional port number (defaults to 8000), then tries to serve
 * files. MIME types are guessed from the file names, 404 errors are raised if
 * the file is not found.
 *
 * One change makes it safe to point at a real directory: a file is served only
 * if its real path lies inside the directory (Python's version serves
 * `/../../etc/passwd` and follows any symbolic link). It listens on 127.0.0.1,
 * not every interface. `wsgiref static DIR` is the same server as a command.
 *
 * Run: node build/examples/file-server.js [PATH] [PORT]
 * The application is exported too, as `fileServerApp(path)`, for tests.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, extname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { makeServer } from "wsgiref/simple-server";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "wsgiref/types";
import { FileWrapper, openFile } from "wsgiref/util";

// Python asks its mimetypes module, which knows hundreds; a few do for an example.
const MIME_TYPES: Record<string, string> = {
  ".html": "text/html",
  ".txt": "text/plain",
  ".css": "text/css",
  ".js": "text/javascript",
  ".json": "application/json",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
};

/**
 * Python's `app`, serving the files under `path`. Python reads `path` from the
 * command line as a global; here it is an argument, so tests can import the app.
 */
export function fileServerApp(path: string): WSGIApplication {
  const root = realpathSync(path);

  /** Whether `fn` is a file whose real path, links resolved, is inside the served directory. */
  const isServable = (fn: string): boolean =>
    existsSync(fn) && statSync(fn).isFile() && realpathSync(fn).startsWith(root + sep);

  return function app(environ: WSGIEnvironment, respond: StartResponse): WSGIBody {
    // Get the file name and MIME type (PATH_INFO holds the request's bytes, here UTF-8)
    const pathInfo = Buffer.from(environ.PATH_INFO ?? "/", "latin1").toString("utf8");
    let fn = join(path, pathInfo.slice(1));
    if (!basename(fn).includes(".")) {
      fn = join(fn, "index.html");
    }
    const mimeType = MIME_TYPES[extname(fn)] ?? "application/octet-stream";

    // Return 200 OK if file exists, otherwise 404 Not Found
    if (isServable(fn)) {
      respond("200 OK", [["Content-Type", mimeType]]);
      return new FileWrapper(openFile(fn));
    }
    respond("404 Not Found", [["Content-Type", "text/plain"]]);
    return [new TextEncoder().encode("not found")];
  };
}

// Python's `if __name__ == '__main__'`: serve only when run as a script.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Get the path and port from command-line arguments
  const path = process.argv[2] ?? process.cwd();
  const port = process.argv[3] === undefined ? 8000 : Number(process.argv[3]);

  // Make and start the server until control-C
  const httpd = await makeServer("127.0.0.1", port, fileServerApp(path));
  console.log(`Serving ${path} on port ${httpd.serverAddress[1]}, control-C to stop`);
  process.once("SIGINT", () => {
    console.log("Shutting down.");
    void httpd.serverClose();
  });
  await httpd.serveForever();
}
