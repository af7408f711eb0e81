/**
 * The output stage on its own, over a sink that records what it is given: the
 * framing rules every transport shares (the server's tests hold them over
 * node:http).
 */

import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OutputStage, type ResponseSink, type SentFile } from "../../src/gateway/output-stage.js";

/** A sink that records every call. */
class RecordingSink implements ResponseSink {
  readonly calls: unknown[][] = [];
  destroyed = false;
  takenOver = false;
  readonly connection = undefined;

  head(code: number, reason: string, fields: string[], lengthFramed: boolean): void {
    this.calls.push(["head", code, reason, fields, lengthFramed]);
  }
  write(chunk: Uint8Array, last = false): boolean {
    this.calls.push(["write", Buffer.from(chunk).toString(), last]);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  async sendFile(_fd: number, limit: number): Promise<SentFile> {
    this.calls.push(["sendFile", limit]);
    return { sent: Math.min(limit, 10), excess: limit < 10 };
  }
  end(closeAfter: boolean): void {
    this.calls.push(["end", closeAfter]);
  }
  cut(): void {
    this.calls.push(["cut"]);
  }
}

function stage(): { sink: RecordingSink; output: OutputStage; reports: string[] } {
  const sink = new RecordingSink();
  const reports: string[] = [];
  return { sink, output: new OutputStage(sink, (what) => reports.push(what)), reports };
}

describe("OutputStage", () => {
  it("refuses a status that is not final, sending nothing", () => {
    for (const status of ["100 Continue", "103 Early Hints", "600 X", "099 X"]) {
      const { sink, output } = stage();
      assert.throws(() => output.start(status, [], "GET", "S"), AssertionError);
      assert.deepEqual(sink.calls, []);
      assert.equal(output.started, false);
    }
  });

  it("refuses a hop-by-hop field and Content-Lengths that disagree, sending nothing", () => {
    for (const pairs of [
      [["Connection", "close"]],
      [["Transfer-Encoding", "chunked"]],
      [["Content-Length", "1x"]],
      [
        ["Content-Length", "1"],
        ["Content-Length", "2"],
      ],
    ] as Array<Array<[string, string]>>) {
      const { sink, output } = stage();
      assert.throws(() => output.start("200 OK", pairs, "GET", "S"), AssertionError);
      assert.deepEqual(sink.calls, []);
    }
  });

  it("puts Date and Server first unless set, and one Content-Length of equal ones last", () => {
    const { sink, output } = stage();
    output.start(
      "200 OK",
      [
        ["Content-Length", "2"],
        ["X-A", "1"],
        ["content-length", "2"],
      ],
      "GET",
      "S/1",
    );
    const [, code, reason, fields, framed] = sink.calls[0] as [
      string,
      number,
      string,
      string[],
      boolean,
    ];
    assert.equal(code, 200);
    assert.equal(reason, "OK");
    assert.equal(fields[0], "Date");
    assert.deepEqual(fields.slice(2), ["Server", "S/1", "X-A", "1", "Content-Length", "2"]);
    assert.equal(framed, true);
    const own = stage();
    own.output.start(
      "200 OK",
      [
        ["Server", "mine"],
        ["Date", "d"],
      ],
      "GET",
      "S/1",
    );
    assert.deepEqual((own.sink.calls[0] as unknown[])[3], ["Server", "mine", "Date", "d"]);
  });

  it("counts the body against its Content-Length: the last chunk marked, the excess dropped and reported", () => {
    const { sink, output, reports } = stage();
    output.start("200 OK", [["Content-Length", "5"]], "GET", undefined);
    output.write(Buffer.from("abc"));
    output.write(Buffer.from("defg"));
    output.write(Buffer.from("h"));
    output.end();
    assert.deepEqual(sink.calls.slice(1), [
      ["write", "abc", false],
      ["write", "de", true],
      ["end", true],
    ]);
    assert.equal(output.bodyBytes, 5);
    assert.equal(reports.length, 1);
    assert.match(reports[0] ?? "", /longer than its Content-Length \(5 bytes\)/);
  });

  it("cuts a body short of its Content-Length and reports it", () => {
    const { sink, output, reports } = stage();
    output.start("200 OK", [["Content-Length", "5"]], "GET", undefined);
    output.write(Buffer.from("abc"));
    output.end();
    output.end();
    assert.deepEqual(sink.calls.slice(1), [["write", "abc", false], ["cut"]]);
    assert.match(reports[0] ?? "", /shorter than its Content-Length \(3 of 5 bytes\)/);
  });

  it("sends no body for HEAD, 204 and 304, counting it as sent", () => {
    for (const [status, method] of [
      ["200 OK", "HEAD"],
      ["204 No Content", "GET"],
      ["304 Not Modified", "GET"],
    ]) {
      const { sink, output } = stage();
      output.start(status as string, [["Content-Length", "3"]], method, undefined);
      output.write(Buffer.from("abc"));
      output.end();
      assert.deepEqual(sink.calls.slice(1), [["end", false]]);
      assert.equal(output.bodyBytes, 3);
    }
  });

  it("sends a file within the declared length, a byte range's end being no excess", async () => {
    const { sink, output, reports } = stage();
    output.start("200 OK", [["Content-Length", "4"]], "GET", undefined);
    assert.equal(await output.sendFile(3, 4), 4);
    assert.deepEqual(sink.calls.slice(1), [
      ["sendFile", 4],
      ["end", false],
    ]);
    assert.deepEqual(reports, []);
    const unranged = stage();
    unranged.output.start("200 OK", [["Content-Length", "4"]], "GET", undefined);
    await unranged.output.sendFile(3, undefined);
    assert.deepEqual(unranged.sink.calls.slice(1), [
      ["sendFile", 4],
      ["end", true],
    ]);
    const head = stage();
    head.output.start("200 OK", [], "HEAD", undefined);
    assert.equal(await head.output.sendFile(3, undefined), 0);
    assert.deepEqual(head.sink.calls.slice(1), [["end", false]]);
  });

  it("gives a taken-over sink nothing, and a destroyed one no end", async () => {
    const { sink, output } = stage();
    sink.takenOver = true;
    output.start("200 OK", [], "GET", "S");
    assert.equal(output.write(Buffer.from("x")), true);
    assert.equal(await output.sendFile(3, undefined), 0);
    output.end();
    output.cut();
    assert.deepEqual(sink.calls, []);
    const gone = stage();
    gone.output.start("200 OK", [], "GET", "S");
    gone.sink.destroyed = true;
    gone.output.end();
    assert.equal(gone.output.ended, true);
    assert.deepEqual(gone.sink.calls.slice(1), []);
  });

  it("cuts once, and not after the end", () => {
    const { sink, output } = stage();
    output.start("200 OK", [], "GET", "S");
    output.cut();
    output.cut();
    output.end();
    assert.deepEqual(sink.calls.slice(1), [["cut"]]);
  });
});
