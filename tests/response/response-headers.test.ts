/**
 * wsgiref/response: ResponseHeaders, wptserve's dictionary of response headers
 * (set, append, get → every value, delete, has, iteration).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResponseHeaders } from "../../src/response/index.js";

describe("ResponseHeaders", () => {
  it("refuses items that are not an iterable of [name, value] pairs", () => {
    assert.throws(() => new ResponseHeaders(5 as unknown as []), {
      name: "TypeError",
      message: "items must be an iterable of [key, value] pairs: 5",
    });
    assert.throws(() => new ResponseHeaders([["X-A", "1", "extra"]] as unknown as []), {
      name: "TypeError",
      message: "each of items must be a [key, value] pair: [ 'X-A', '1', 'extra' ]",
    });
  });

  it("sets one value, replacing the others in place, under the new spelling", () => {
    const headers = new ResponseHeaders([
      ["A", "1"],
      ["B", "2"],
      ["a", "3"],
    ]);
    headers.set("a", "4");
    assert.deepEqual(headers.items(), [
      ["a", "4"],
      ["B", "2"],
    ]);
  });

  it("appends values to a name, which keeps its place", () => {
    const headers = new ResponseHeaders();
    headers.append("Set-Cookie", "a=1");
    headers.append("X", 2);
    headers.append("set-cookie", "b=2");
    assert.deepEqual(
      [...headers],
      [
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["X", "2"],
      ],
    );
  });

  it("gets every value of a name, [] when absent, or the default given", () => {
    const headers = new ResponseHeaders([
      ["Vary", "A"],
      ["vary", "B"],
    ]);
    assert.deepEqual(headers.get("VARY"), ["A", "B"]);
    assert.deepEqual(headers.get("missing"), []);
    assert.equal(headers.get("missing", undefined), undefined);
    headers.get("vary").push("C");
    assert.deepEqual(headers.get("vary"), ["A", "B"]);
  });

  it("deletes a name and tells which names it has, without case", () => {
    const headers = new ResponseHeaders([["Content-Type", "text/plain"]]);
    assert.equal(headers.has("content-type"), true);
    headers.delete("CONTENT-TYPE");
    headers.delete("not-there");
    assert.equal(headers.has("Content-Type"), false);
    assert.deepEqual(headers.items(), []);
  });

  it("writes numbers in decimal", () => {
    const headers = new ResponseHeaders();
    headers.set("Content-Length", 42);
    assert.deepEqual(headers.get("content-length"), ["42"]);
  });

  it("keeps malformed names and values for raw output", () => {
    const headers = new ResponseHeaders();
    headers.set("Bad Name", "a\r\nb");
    assert.deepEqual(headers.items(), [["Bad Name", "a\r\nb"]]);
  });

  it("refuses names and values that are neither strings nor finite numbers", () => {
    const headers = new ResponseHeaders();
    assert.throws(() => headers.set(1 as unknown as string, "x"), {
      name: "TypeError",
      message: "header name must be a string: 1",
    });
    assert.throws(() => headers.append("X", Number.NaN), {
      name: "TypeError",
      message: "value of header X must be a string or a finite number: NaN",
    });
    assert.throws(() => headers.set("X", null as unknown as string), TypeError);
  });
});
