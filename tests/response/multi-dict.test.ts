/**
 * wsgiref/response: MultiDict and RequestHeaders, the maps of Request's query,
 * form, cookies and headers (wptserve's MultiDict and RequestHeaders).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MultiDict, RequestHeaders } from "../../src/response/index.js";

describe("MultiDict", () => {
  const dict = new MultiDict<string>([
    ["a", "1"],
    ["b", "2"],
    ["a", "3"],
  ]);

  it("gives the first value with get() and undefined for a missing key", () => {
    assert.equal(dict.get("a"), "1");
    assert.equal(dict.get("missing"), undefined);
  });

  it("gives the first and last values, or the default", () => {
    assert.equal(dict.first("a"), "1");
    assert.equal(dict.last("a"), "3");
    assert.equal(dict.first("missing", "d"), "d");
    assert.equal(dict.last("missing", undefined), undefined);
  });

  it("throws a RangeError naming the key from first() and last() without a default", () => {
    assert.throws(() => dict.first("missing"), {
      name: "RangeError",
      message: "key has no value: 'missing'",
    });
    assert.throws(() => dict.last("missing"), RangeError);
  });

  it("lists every value of a key in order, as a copy", () => {
    const list = dict.getList("a");
    assert.deepEqual(list, ["1", "3"]);
    list.push("x");
    assert.deepEqual(dict.getList("a"), ["1", "3"]);
    assert.deepEqual(dict.getList("missing"), []);
  });

  it("tells which keys it has, each once, in first-seen order", () => {
    assert.equal(dict.has("b"), true);
    assert.equal(dict.has("B"), false);
    assert.deepEqual(dict.keys(), ["a", "b"]);
    assert.equal(dict.length, 2);
  });

  it("iterates over every pair in the order added", () => {
    assert.deepEqual(
      [...dict],
      [
        ["a", "1"],
        ["b", "2"],
        ["a", "3"],
      ],
    );
  });

  it("adds values after the existing ones", () => {
    const d = new MultiDict<number>();
    d.add("x", 1);
    d.add("x", 2);
    assert.deepEqual(d.getList("x"), [1, 2]);
  });

  it("refuses a key that is not a string", () => {
    assert.throws(() => dict.get(1 as unknown as string), {
      name: "TypeError",
      message: "key must be a string: 1",
    });
  });

  it("refuses entries that are not an iterable of [key, value] pairs", () => {
    assert.throws(() => new MultiDict(5 as unknown as []), {
      name: "TypeError",
      message: "entries must be an iterable of [key, value] pairs: 5",
    });
    assert.throws(() => new MultiDict(["ab"] as unknown as []), {
      name: "TypeError",
      message: "each of entries must be a [key, value] pair: 'ab'",
    });
  });
});

describe("RequestHeaders", () => {
  it("compares names without case", () => {
    const headers = new RequestHeaders([
      ["content-type", "text/plain"],
      ["x-a", "1"],
      ["X-A", "2"],
    ]);
    assert.equal(headers.get("Content-Type"), "text/plain");
    assert.deepEqual(headers.getList("x-A"), ["1", "2"]);
    assert.equal(headers.has("CONTENT-TYPE"), true);
    assert.deepEqual(headers.keys(), ["content-type", "x-a"]);
  });
});
