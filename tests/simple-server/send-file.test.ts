/**
 * Files sent from a FileWrapper's descriptor by the HTTP/1.1 server's sink
 * (`sendFile`: sendfile(2) or 64 KiB reads).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { filePosition } from "../../src/simple-server/send-file.js";
import type { FileLike, WSGIApplication } from "../../src/types.js";
import { openFile } from "../../src/util.js";
import {
  exchange,
  open,
  parseResponses,
  type Running,
  request,
  serve,
} from "../helpers/server-client.js";

describe("sendFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-sendfile-"));
  const path = join(dir, "data.bin");
  const content = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 0xff;
  writeFileSync(path, content);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const bigPath = join(dir, "big.bin");
  writeFileSync(bigPath, Buffer.alloc(48 * 1024 * 1024));
  let bigFile = false;
  let closes = 0;
  let skip = 0;
  let server: Running;
  const app: WSGIApplication = (environ, startResponse) => {
    const file = openFile(bigFile ? bigPath : path);
    const counted: FileLike = {
      get fd() {
        return environ.PATH_INFO === "/no-fd" ? undefined : file.fd;
      },
      read: (size: number) => file.read(size),
      close() {
        closes += 1;
        file.close();
      },
    };
    if (skip > 0) file.read(skip);
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    const Wrapper = environ["wsgi.file_wrapper"]!;
    return new Wrapper(counted, 64 * 1024);
  };
  before(async () => {
    server = await serve(app);
  });
  after(() => server.close());

  const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

  it("sends the file from the descriptor, chunked, and closes the wrapper once", async () => {
    closes = 0;
    skip = 0;
    const [response] = parseResponses(
      await exchange(server.port, request("GET", "/", ["Connection: close"])),
    );
    assert.equal(response?.chunked, true);
    assert.equal(sha(response!.body), sha(content));
    assert.equal(closes, 1);
  });

  it("starts at the file's current position", async () => {
    closes = 0;
    skip = 1000;
    const [response] = parseResponses(await exchange(server.port, "GET / HTTP/1.0\r\n\r\n"));
    assert.equal(sha(response!.body), sha(content.subarray(1000)));
    assert.equal(closes, 1);
  });

  it("iterates a wrapper whose file has no descriptor", async () => {
    closes = 0;
    skip = 0;
    const [response] = parseResponses(
      await exchange(server.port, request("GET", "/no-fd", ["Connection: close"])),
    );
    assert.equal(sha(response!.body), sha(content));
    assert.equal(closes, 1);
  });

  it("sends no body to HEAD and still closes the wrapper", async () => {
    closes = 0;
    skip = 0;
    const received = await exchange(server.port, request("HEAD", "/", ["Connection: close"]));
    const [response] = parseResponses(received, [0]);
    assert.equal(response?.status, 200);
    assert.ok(received.toString("latin1").endsWith("\r\n\r\n"));
    assert.equal(closes, 1);
  });

  it("stops sending and closes the wrapper once when a client stops reading, then leaves", async () => {
    closes = 0;
    skip = 0;
    bigFile = true;
    const socket = await open(server.port);
    socket.write(request("GET", "/"));
    await once(socket, "data");
    // Reading no more: the server fills the connection's buffers with its first
    // 1 MiB block and waits for them to drain, until the client leaves.
    socket.pause();
    socket.destroy();
    while (closes < 1) await new Promise<void>((resolve) => setImmediate(resolve));
    bigFile = false;
    assert.equal(closes, 1);
  });

  it("closes the wrapper once when the client leaves mid-file, and keeps serving", async () => {
    closes = 0;
    skip = 0;
    const socket = await open(server.port);
    socket.write(request("GET", "/"));
    await once(socket, "data");
    socket.destroy();
    const [response] = parseResponses(
      await exchange(server.port, request("HEAD", "/", ["Connection: close"])),
      [0],
    );
    assert.equal(response?.status, 200);
    // The first request's close may come after the second's: count both.
    while (closes < 2) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(closes, 2);
  });
});

describe("filePosition", () => {
  it("gives the position of a file read into, on Linux, and undefined for a descriptor that is not open", {
    skip: process.platform !== "linux",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-position-"));
    try {
      writeFileSync(join(dir, "f"), Buffer.alloc(100));
      const file = openFile(join(dir, "f"));
      assert.equal(filePosition(file.fd), 0);
      file.read(30);
      assert.equal(filePosition(file.fd), 30);
      file.close();
      assert.equal(filePosition(file.fd), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
