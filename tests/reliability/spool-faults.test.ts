/**
 * Fault injection, the spool: a request body past `spoolThreshold` that cannot
 * be written to its temporary file, because the temporary directory is not a
 * directory (ENOTDIR), is gone (ENOENT), or the disk fills up once the file is
 * open (the process's file size limit, RLIMIT_FSIZE, set with util-linux's
 * `prlimit`: a real EFBIG from write(2), as ENOSPC would be). The client gets
 * 500, wsgi.errors says why, the server does not crash, and after each fault the
 * next request is answered, no temporary file is left and no file descriptor
 * (the spool file's included) leaked.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Bench } from "../helpers/fault-bench.js";
import { needs } from "../helpers/peers.js";
import { exchange, header, parseResponses, request } from "../helpers/server-client.js";

const BODY = "z".repeat(64 * 1024);

/** This process's soft file size limit, as prlimit takes it (`unlimited` or bytes). */
function softFileSizeLimit(): string {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max file size"));
  return line?.split(/\s{2,}/)[1] ?? "unlimited";
}

/** Set this process's soft file size limit (prlimit, util-linux). */
function setFileSizeLimit(soft: string): void {
  const run = spawnSync("prlimit", ["--pid", String(process.pid), `--fsize=${soft}:`], {
    encoding: "utf8",
  });
  if (run.status !== 0) {
    throw new Error(`prlimit failed: ${run.error?.message ?? run.stderr ?? `exit ${run.status}`}`);
  }
}

describe("WSGIServer when a request body cannot be spooled", () => {
  let bench: Bench;
  let uploads = 0;
  before(async () => {
    bench = await Bench.start("spool-faults", { server: { spoolThreshold: 1024 } });
    bench.route("/upload", (environ, startResponse) => {
      uploads += 1;
      const body = environ["wsgi.input"]!.read();
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return bench.track("/upload", [Buffer.from(String(body.length))]);
    });
  });
  after(() => bench.close());

  /** Upload BODY with TMPDIR set to `tmpdir` meanwhile; return the response and what was logged. */
  async function upload(tmpdir: string): Promise<{ status: number; close?: string; log: string }> {
    let status = 0;
    let close: string | undefined;
    const log = await bench.survives("temporary directory unwritable while spooling", async () => {
      process.env.TMPDIR = tmpdir;
      try {
        const received = await exchange(
          bench.port,
          request("POST", "/upload", [`Content-Length: ${BODY.length}`], BODY),
        );
        const [response] = parseResponses(received);
        status = response?.status ?? 0;
        close = response === undefined ? undefined : header(response, "Connection");
      } finally {
        process.env.TMPDIR = bench.temp;
      }
    });
    return { status, close, log };
  }

  it("answers 500 when the temporary directory is not a directory (ENOTDIR)", async () => {
    const file = join(bench.temp, "..", `${bench.temp.split("/").pop()}-a-file`);
    writeFileSync(file, "");
    try {
      const before = uploads;
      const { status, close, log } = await upload(file);
      assert.equal(status, 500);
      assert.equal(close, "close");
      assert.match(log, /ENOTDIR: not a directory, open '.*wsgiref-spool-[0-9a-f]+'/);
      assert.equal(uploads, before, "the application is not called");
    } finally {
      rmSync(file);
    }
  });

  it("answers 500 when the temporary directory is gone (ENOENT)", async () => {
    const { status, log } = await upload(join(bench.temp, "removed"));
    assert.equal(status, 500);
    assert.match(log, /ENOENT: no such file or directory, open '.*wsgiref-spool-[0-9a-f]+'/);
  });

  it("answers 500 and closes the spool file when the disk fills up mid-body (EFBIG)", {
    skip: needs("prlimit"),
  }, async () => {
    const saved = softFileSizeLimit();
    setFileSizeLimit("8192");
    try {
      const { status, log } = await upload(bench.temp);
      assert.equal(status, 500);
      assert.match(log, /EFBIG: file too large, write/);
    } finally {
      setFileSizeLimit(saved);
    }
  });

  it("spools again once the temporary directory is back", async () => {
    await bench.survives(
      "temporary directory unwritable while spooling",
      async () => {
        const received = await exchange(
          bench.port,
          request("POST", "/upload", [`Content-Length: ${BODY.length}`, "Connection: close"], BODY),
        );
        assert.equal(parseResponses(received)[0]?.body.toString(), String(BODY.length));
      },
      0,
    );
  });
});
