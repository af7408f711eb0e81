/**
 * The bytes every benchmark server sends, so each comparison is between servers
 * answering the same requests with the same bodies. `wsgi_app.py` mirrors these.
 *
 * Routes: `GET /` hello world, `GET /1m` 1 MiB, `GET /file` the file named by
 * `WSGIREF_BENCH_FILE`, `POST /upload` reads the whole body and answers its length.
 */

import { Buffer } from "node:buffer";

/** The hello-world body. */
export const HELLO = Buffer.from("Hello world!\n");

/** The 1 MiB body: `a` repeated. */
export const ONE_MIB = Buffer.alloc(1024 * 1024, "a");

/** The environment variable naming the file `GET /file` sends. */
export const FILE_ENV = "WSGIREF_BENCH_FILE";

/** The file `GET /file` sends, from `WSGIREF_BENCH_FILE`. */
export function benchFile(): string {
  const path = process.env[FILE_ENV];
  if (path === undefined || path === "") {
    throw new Error(`${FILE_ENV} is not set: GET /file needs the path of the file to send`);
  }
  return path;
}
