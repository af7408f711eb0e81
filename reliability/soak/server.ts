/**
 * The server under soak: `wsgiref serve` on the soak application, in a process
 * of its own with a private temporary directory (so spool files can be
 * counted), started and stopped by its PID; plus one-off requests to it.
 */

import { Buffer } from "node:buffer";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { type Started, start } from "../../bench/lib/proc.js";

/** The command, `bin/wsgiref.js`, which runs the compiled CLI. */
const BIN = fileURLToPath(new URL("../../../bin/wsgiref.js", import.meta.url));
/** The compiled soak application, next to this file. */
const APP = fileURLToPath(new URL("./app.js", import.meta.url));

/** A running server and the port it printed. */
export interface Served {
  process: Started;
  port: number;
}

/** Start `wsgiref serve` on port 0 with `TMPDIR` set to `tempDir`; resolves once it is listening. */
export async function startServer(tempDir: string, spoolThreshold: number): Promise<Served> {
  const args = [
    BIN,
    "serve",
    `${APP}:app`,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--quiet",
    "--spool-threshold",
    String(spoolThreshold),
  ];
  // The spool files go to os.tmpdir(), which Node takes from TMPDIR.
  const started = start(process.execPath, args, { env: { ...process.env, TMPDIR: tempDir } });
  const match = await started.waitFor(/Serving HTTP on \S+ port (\d+) \(/, 15_000);
  return { process: started, port: Number(match[1]) };
}

/** One request on a connection of its own; resolves with the status and the body length. */
export function fetchOnce(
  port: number,
  method: string,
  path: string,
  body?: Uint8Array,
  timeoutMs = 10_000,
): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, agent: false, timeout: timeoutMs },
      (res) => {
        let length = 0;
        res.on("data", (chunk: Buffer) => {
          length += chunk.length;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, length }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Send each kind of request once, a spooled upload included, and check each is a 200. */
export async function warmUpRequests(port: number, spoolThreshold: number): Promise<void> {
  const requests: Array<[string, string, Uint8Array | undefined]> = [
    ["GET", "/small", undefined],
    ["GET", "/large", undefined],
    ["GET", "/chunked", undefined],
    ["POST", "/upload", Buffer.alloc(1024, "a")],
    ["POST", "/upload", Buffer.alloc(spoolThreshold * 4, "b")],
  ];
  for (const [method, path, body] of requests) {
    const { status } = await fetchOnce(port, method, path, body);
    if (status !== 200) throw new Error(`warm-up ${method} ${path} answered ${status}`);
  }
}
