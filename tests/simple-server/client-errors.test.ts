/**
 * The status of a request Node could not parse, for a header section past
 * maxHeaderSize: 414 for the request line, 431 for a header field, told from
 * the read that overflowed and, when that read cannot tell, from the end of
 * the line it continues.
 */

import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { clientErrorStatus, whenClientErrorStatus } from "../../src/simple-server/client-errors.js";

/** llhttp's error for a head that overflowed at `at` of the read `packet`. */
function overflow(packet: string, at = packet.length) {
  return Object.assign(new Error("Parse Error: Header overflow"), {
    code: "HPE_HEADER_OVERFLOW",
    bytesParsed: at,
    rawPacket: Buffer.from(packet, "latin1"),
  });
}

/** `packet` cut where llhttp stops: just before `mark`, or after it with `after`. */
function at(packet: string, mark: string, after = false): number {
  const index = packet.indexOf(mark);
  return after ? index + mark.length : index;
}

/** llhttp's error for a method it does not know, stopped at `at` of the read `packet`. */
function badMethod(packet: string, at: number) {
  return Object.assign(new Error("Parse Error: Invalid method encountered"), {
    code: "HPE_INVALID_METHOD",
    bytesParsed: at,
    rawPacket: Buffer.from(packet, "latin1"),
  });
}

describe("clientErrorStatus", () => {
  it("gives 501 for an unknown token method, however long, wherever it starts in the read", () => {
    // Where llhttp stops, as Node 20 reports it: after the known `GET` of a long
    // method; inside a method pipelined after a request.
    const long = `${"GET".repeat(40)} / HTTP/1.1\r\nHost: x\r\n\r\n`;
    assert.equal(clientErrorStatus(badMethod(long, 3)), 501);
    const served = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert.equal(
      clientErrorStatus(badMethod(`${served}GEX / HTTP/1.1\r\n\r\n`, served.length + 2)),
      501,
    );
    assert.equal(
      clientErrorStatus(badMethod(`${served}FOO / HTTP/1.1\r\n\r\n`, served.length + 1)),
      501,
    );
    assert.equal(clientErrorStatus(badMethod("GE / HTTP/1.1\r\n\r\n", 2)), 501);
  });

  it("gives 400 for a method that is not a token", () => {
    const served = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert.equal(
      clientErrorStatus(badMethod(`${served}G\x01T / HTTP/1.1\r\n\r\n`, served.length + 1)),
      400,
    );
    assert.equal(clientErrorStatus(badMethod(" GET / HTTP/1.1\r\n\r\n", 0)), 400);
    assert.equal(clientErrorStatus(badMethod(`G${"E".repeat(9000)}`, 1)), 400);
  });

  it("gives 414 when llhttp stops at the space after the target", () => {
    const read = `GET /${"a".repeat(100)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    assert.equal(clientErrorStatus(overflow(read, at(read, " HTTP"))), 414);
    // A target may end in a colon: the version after it tells.
    const colon = `GET /${"a".repeat(100)}: HTTP/1.1\r\nHost: x\r\n\r\n`;
    assert.equal(clientErrorStatus(overflow(colon, at(colon, " HTTP"))), 414);
  });

  it("gives 431 when llhttp stops after a field name's colon or at a value's end", () => {
    const name = `GET / HTTP/1.1\r\nX-${"c".repeat(100)}: 1\r\n\r\n`;
    assert.equal(clientErrorStatus(overflow(name, at(name, ":", true))), 431);
    const bare = `GET / HTTP/1.1\r\nX-${"c".repeat(100)}:1\r\n\r\n`;
    assert.equal(clientErrorStatus(overflow(bare, at(bare, ":", true))), 431);
    const value = `GET / HTTP/1.1\r\nX: ${"c ".repeat(50)}\r\n\r\n`;
    assert.equal(clientErrorStatus(overflow(value, at(value, "\r\n\r\n"))), 431);
  });

  it("gives 414 for a read that starts a request line and ends inside its target", () => {
    assert.equal(clientErrorStatus(overflow(`GET /${"a".repeat(100)}`)), 414);
    assert.equal(clientErrorStatus(overflow(`OPTIONS http://a.example/${"a".repeat(100)}`)), 414);
  });

  it("gives 431 for a read that ends inside a field begun after a line end in it", () => {
    assert.equal(clientErrorStatus(overflow(`GET / HTTP/1.1\r\nX-Big: ${"c".repeat(100)}`)), 431);
    assert.equal(clientErrorStatus(overflow(`cc\r\nX-Big: ${"c".repeat(100)}`)), 431);
  });

  it("gives 0, cannot tell, for a read that continues a line begun in an earlier one", () => {
    // The rest of a 128 KiB field, or of a 128 KiB target: the same bytes.
    assert.equal(clientErrorStatus(overflow("c".repeat(65536))), 0);
    assert.equal(clientErrorStatus(overflow(`cc ${"c".repeat(100)} c`)), 0);
  });

  it("gives 431 when the error carries no read", () => {
    const err = Object.assign(new Error("x"), { code: "HPE_HEADER_OVERFLOW" });
    assert.equal(clientErrorStatus(err), 431);
  });
});

describe("whenClientErrorStatus", () => {
  /** Run it over a stream standing for the socket; resolve with what it answers. */
  function answered(
    err: ReturnType<typeof overflow>,
    feed: (socket: PassThrough) => void,
  ): { status: Promise<number>; socket: PassThrough } {
    const socket = new PassThrough();
    const status = new Promise<number>((resolve) => {
      whenClientErrorStatus(err, socket, resolve);
    });
    feed(socket);
    return { status, socket };
  }

  it("answers at once when the read tells", async () => {
    let status = 0;
    whenClientErrorStatus(overflow(`GET /${"a".repeat(10)}`), new PassThrough(), (s) => {
      status = s;
    });
    assert.equal(status, 414);
  });

  it("answers 414 when the continued line ends in an HTTP version", async () => {
    const { status, socket } = answered(overflow("a".repeat(1000)), (s) => {
      s.write("aaaa HTT");
      s.write("P/1.1\r\nHost: x\r\n\r\n");
    });
    assert.equal(await status, 414);
    assert.equal(socket.listenerCount("data"), 0, "it stops listening");
  });

  it("answers 414 when the version was at the end of the read that overflowed", async () => {
    const { status } = answered(overflow(`${"a".repeat(1000)} HTTP/1.1\r`), (s) => {
      s.write("\nHost: x\r\n\r\n");
    });
    assert.equal(await status, 414);
  });

  it("answers 431 when the continued line is a field", async () => {
    const { status } = answered(overflow("c".repeat(1000)), (s) => {
      s.write(`${"c".repeat(5000)}\r\n\r\n`);
    });
    assert.equal(await status, 431);
  });

  it("answers 431 when the client stops sending before the line ends", async () => {
    const ended = answered(overflow("c".repeat(1000)), (s) => s.end("ccc"));
    assert.equal(await ended.status, 431);
  });

  it("answers 431 when the line has not ended within a second", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let status = 0;
    const socket = new PassThrough();
    whenClientErrorStatus(overflow("c".repeat(1000)), socket, (s) => {
      status = s;
    });
    socket.write("cccc");
    t.mock.timers.tick(999);
    assert.equal(status, 0);
    t.mock.timers.tick(1);
    assert.equal(status, 431);
    assert.equal(socket.listenerCount("data"), 0);
  });
});
