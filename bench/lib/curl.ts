/**
 * Single large transfers with curl: a download (the 256 MiB file) and an upload
 * (the 64 MiB body), timed by curl itself. curl keeps the client cheap and outside
 * Node, so the server under test is what gets measured.
 */

import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { request as requestTls } from "node:https";
import { pinned } from "./cpu.js";
import { run, tail } from "./proc.js";

/** One timed transfer. */
export interface Transfer {
  status: number;
  /** Bytes received (download) or sent (upload). */
  bytes: number;
  seconds: number;
  /** The response body, for uploads (the server echoes the byte count it read). */
  body: string;
}

/** Whether curl is on PATH. */
export function hasCurl(): boolean {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const WRITE_OUT = "\n%{http_code} %{size_download} %{size_upload} %{time_total}";

function parse(output: string, field: "download" | "upload"): Transfer {
  const lines = output.trimEnd().split("\n");
  const last = lines.pop() ?? "";
  const match = last.match(/^(\d{3}) (\d+) (\d+) ([\d.]+)$/);
  if (!match) {
    throw new Error(`curl printed no transfer summary:\n${tail(output)}`);
  }
  return {
    status: Number(match[1]),
    bytes: Number(field === "download" ? match[2] : match[3]),
    seconds: Number(match[4]),
    body: lines.join("\n"),
  };
}

/**
 * GET `url`, discarding the body, and time it: over HTTP/2 when `h2` (ALPN over
 * TLS), else HTTP/1.1; an `https:` URL's certificate is not checked (the run
 * makes its own).
 */
export async function download(
  url: string,
  cores: string | undefined,
  h2 = false,
): Promise<Transfer> {
  const protocol = h2 ? "--http2" : "--http1.1";
  const [cmd, args] = pinned(cores, "curl", [
    "-sS",
    "--insecure",
    protocol,
    "-o",
    "/dev/null",
    "-w",
    WRITE_OUT,
    url,
  ]);
  const result = await run(cmd, args, 120_000);
  if (result.code !== 0) {
    throw new Error(`curl exited with ${result.code}:\n${tail(result.output)}`);
  }
  return parse(result.output, "download");
}

/**
 * POST the file at `path` to `url` (streamed from disk, with its Content-Length) and
 * time it. `Expect: 100-continue` is turned off so no server waits on it.
 */
export async function upload(
  url: string,
  path: string,
  cores: string | undefined,
): Promise<Transfer> {
  const [cmd, args] = pinned(cores, "curl", [
    "-sS",
    "-X",
    "POST",
    "-T",
    path,
    "-H",
    "Expect:",
    "-H",
    "Content-Type: application/octet-stream",
    "-w",
    WRITE_OUT,
    url,
  ]);
  const result = await run(cmd, args, 120_000);
  if (result.code !== 0) {
    throw new Error(`curl exited with ${result.code}:\n${tail(result.output)}`);
  }
  return parse(result.output, "upload");
}

/**
 * Resolve with the status of GET `url` (over HTTPS/1.1 for `https:`, the run's
 * own certificate not checked), or reject on a connection error.
 */
export function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith("https:") ? requestTls : request;
    const req = send(url, { agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(2000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

/** Poll GET `url` until it answers 200, for servers whose ready line comes early. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const status = await get(url);
      if (status === 200) {
        return;
      }
      last = new Error(`GET ${url} answered ${status}`);
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`, { cause: last });
}
