/**
 * Tests for src/headers.ts: CPython's HeaderTests first (the conformance floor),
 * then the array identity, the argument checks, the refusal of control characters
 * and non-token names on every way in, `addHeader` quoting against what CPython
 * prints, and latin-1 output.
 */

import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { Headers } from "../src/headers.js";

/** C0 controls and DEL, as CPython's `test.support.control_characters_c0()`. */
const CONTROL_CHARACTERS = [
  ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)),
  "\x7F",
];

/** Each control character except tab, which header values may hold. */
const VALUE_CONTROL_CHARACTERS = CONTROL_CHARACTERS.filter((c) => c !== "\t");

/** Match an `AssertionError` with Python's message for a non-string name or value. */
function notStr(repr: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AssertionError);
    assert.equal(err.message, `Header names/values must be of type str (got ${repr})`);
    return true;
  };
}

/** Match a `TypeError` with exactly this message. */
function typeError(message: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof TypeError);
    assert.equal(err.message, message);
    return true;
  };
}

/** Call a method the way a JavaScript caller could, past the compiler's types. */
function loose(h: Headers): Record<string, (...args: unknown[]) => unknown> {
  return h as unknown as Record<string, (...args: unknown[]) => unknown>;
}

/** Construct from an untyped value, as a JavaScript caller could. */
function construct(value: unknown): Headers {
  return new Headers(value as Array<[string, string]>);
}

describe("Headers", () => {
  describe("CPython HeaderTests", () => {
    // HeaderTests.testMappingInterface
    it("acts as a case-insensitive mapping over a copied item list", () => {
      const test: Array<[string, string]> = [["x", "y"]];
      assert.equal(new Headers().length, 0);
      assert.equal(new Headers([]).length, 0);
      assert.equal(new Headers(test.slice()).length, 1);
      assert.deepEqual(new Headers(test.slice()).keys(), ["x"]);
      assert.deepEqual(new Headers(test.slice()).values(), ["y"]);
      assert.deepEqual(new Headers(test.slice()).items(), test);
      assert.notEqual(new Headers(test).items(), test); // must be copy!

      const h = new Headers();
      h.delete("foo"); // should not raise an error

      h.set("Foo", "bar");
      for (const name of ["foo", "Foo", "FOO"]) {
        assert.equal(h.has(name), true);
        assert.ok(h.get(name));
        assert.ok(h.getAll(name).length > 0);
      }
      assert.equal(h.has("bar"), false);
      assert.equal(h.get("bar"), undefined);
      assert.deepEqual(h.getAll("bar"), []);

      assert.equal(h.get("foo"), "bar");
      h.set("foo", "baz");
      assert.equal(h.get("FOO"), "baz");
      assert.deepEqual(h.getAll("foo"), ["baz"]);

      assert.equal(h.get("foo", "whee"), "baz");
      assert.equal(h.get("zoo", "whee"), "whee");
      assert.equal(h.setDefault("foo", "whee"), "baz");
      assert.equal(h.setDefault("zoo", "whee"), "whee");
      assert.equal(h.get("foo"), "baz");
      assert.equal(h.get("zoo"), "whee");
    });

    // HeaderTests.testRequireList
    it("requires an array", () => {
      assert.throws(() => construct("foo"), TypeError);
    });

    // HeaderTests.testExtras
    it("formats headers and parameters", () => {
      const h = new Headers();
      assert.equal(h.toString(), "\r\n");

      h.addHeader("foo", "bar", { baz: "spam" });
      assert.equal(h.get("foo"), 'bar; baz="spam"');
      assert.equal(h.toString(), 'foo: bar; baz="spam"\r\n\r\n');

      h.addHeader("Foo", "bar", { cheese: null });
      assert.deepEqual(h.getAll("foo"), ['bar; baz="spam"', "bar; cheese"]);

      assert.equal(h.toString(), 'foo: bar; baz="spam"\r\nFoo: bar; cheese\r\n\r\n');
    });

    // HeaderTests.testRaisesControlCharacters (CPython 2026, with gh-144118's HTAB rule)
    it("refuses control characters from set() and addHeader()", () => {
      for (const c0 of CONTROL_CHARACTERS) {
        const h = new Headers();
        assert.throws(() => h.set(`key${c0}`, "val"), TypeError, inspect(c0));
        assert.throws(() => h.addHeader(`key${c0}`, "val", { param: "param" }), TypeError);
        if (c0 === "\t") {
          h.set("key", `val${c0}`);
          h.addHeader("key", `val${c0}`, { param: "param" });
          h.addHeader("key", "val", { param: `param${c0}` });
          assert.equal(h.length, 3);
        } else {
          assert.throws(() => h.set("key", `val${c0}`), TypeError, inspect(c0));
          assert.throws(() => h.addHeader("key", `val${c0}`, { param: "param" }), TypeError);
          assert.throws(() => h.addHeader("key", "val", { param: `param${c0}` }), TypeError);
          assert.equal(h.length, 0);
        }
      }
    });
  });

  describe("constructor", () => {
    it("wraps the very array it is given", () => {
      const list: Array<[string, string]> = [["A", "1"]];
      const h = new Headers(list);

      h.set("B", "2");
      h.addHeader("C", "3");
      h.setDefault("D", "4");
      assert.deepEqual(list, [
        ["A", "1"],
        ["B", "2"],
        ["C", "3"],
        ["D", "4"],
      ]);

      h.delete("a");
      assert.deepEqual(list, [
        ["B", "2"],
        ["C", "3"],
        ["D", "4"],
      ]);

      h.set("c", "three");
      assert.deepEqual(list, [
        ["B", "2"],
        ["D", "4"],
        ["c", "three"],
      ]);

      list.push(["E", "5"]);
      assert.equal(h.get("e"), "5");
      assert.equal(h.length, 4);
      list.length = 0;
      assert.equal(h.length, 0);
      assert.equal(h.get("B"), undefined);
    });

    it("keeps the array's identity when deleting", () => {
      const list: Array<[string, string]> = [
        ["X", "1"],
        ["Y", "2"],
        ["x", "3"],
      ];
      const h = new Headers(list);
      const pairY = list[1];
      h.delete("X");
      assert.equal(list.length, 1);
      assert.equal(list[0], pairY);
    });

    it("starts from a new empty array by default", () => {
      const a = new Headers();
      const b = new Headers();
      a.set("X", "1");
      assert.equal(b.length, 0);
      assert.equal(new Headers(undefined).length, 0);
    });

    it("throws a TypeError for anything but an array", () => {
      for (const bad of ["foo", null, 42, { length: 0 }, new Map(), [["a", "b"]].values()]) {
        assert.throws(
          () => construct(bad),
          typeError(`headers must be an array of [name, value] pairs: ${inspect(bad)}`),
        );
      }
    });

    it("throws a TypeError naming the index of a malformed pair", () => {
      assert.throws(
        () => construct([["a", "b"], ["c"]]),
        typeError("headers[1] must be a [name, value] pair: [ 'c' ]"),
      );
      assert.throws(
        () => construct([["a", "b", "c"]]),
        typeError("headers[0] must be a [name, value] pair: [ 'a', 'b', 'c' ]"),
      );
      assert.throws(
        () => construct([["a", "b"], ["c", "d"], "ef"]),
        typeError("headers[2] must be a [name, value] pair: 'ef'"),
      );
      // A hole in a sparse array is not skipped.
      const sparse: unknown[] = [["a", "b"]];
      sparse[2] = ["c", "d"];
      assert.throws(
        () => construct(sparse),
        typeError("headers[1] must be a [name, value] pair: undefined"),
      );
    });

    it("throws Python's AssertionError for a non-string name or value", () => {
      assert.throws(() => construct([["a", 1]]), notStr("1"));
      assert.throws(() => construct([[null, "x"]]), notStr("null"));
      assert.throws(() => construct([[undefined, "x"]]), notStr("undefined"));
      assert.throws(
        () =>
          construct([
            ["a", "b"],
            ["c", ["d"]],
          ]),
        notStr("[ 'd' ]"),
      );
      assert.throws(() => construct([["a", Buffer.from("b")]]), notStr("<Buffer 62>"));
    });

    it("leaves the array untouched when it refuses it", () => {
      const list: unknown[] = [
        ["ok", "1"],
        ["bad", "a\nb"],
      ];
      assert.throws(() => construct(list), TypeError);
      assert.deepEqual(list, [
        ["ok", "1"],
        ["bad", "a\nb"],
      ]);
    });
  });

  describe("type checks", () => {
    it("throws Python's AssertionError from set(), setDefault() and addHeader()", () => {
      const h = loose(new Headers());
      assert.throws(() => h.set?.(1, "x"), notStr("1"));
      assert.throws(() => h.set?.("X", 1), notStr("1"));
      assert.throws(() => h.set?.("X", undefined), notStr("undefined"));
      assert.throws(() => h.setDefault?.(Symbol("s"), "x"), notStr("Symbol(s)"));
      assert.throws(() => h.setDefault?.("X", null), notStr("null"));
      assert.throws(() => h.addHeader?.(true, "x"), notStr("true"));
      assert.throws(() => h.addHeader?.("X", 12), notStr("12"));
      assert.throws(() => h.addHeader?.("X", "v", { a: 1 }), notStr("1"));
      // Only null makes a bare flag: an undefined parameter is more likely a bug.
      assert.throws(() => h.addHeader?.("X", "v", { a: undefined }), notStr("undefined"));
      assert.equal(h.length, 0);
    });

    it("throws Python's AssertionError for a non-string name in lookups", () => {
      const h = loose(new Headers([["X", "1"]]));
      for (const method of ["get", "has", "getAll", "delete"]) {
        assert.throws(() => h[method]?.(1), notStr("1"), method);
        assert.throws(() => h[method]?.(null), notStr("null"), method);
      }
    });

    it("throws a TypeError when addHeader()'s params is not an object", () => {
      const h = loose(new Headers());
      assert.throws(
        () => h.addHeader?.("X", "v", "a=b"),
        typeError("params must be an object: 'a=b'"),
      );
      assert.throws(
        () => h.addHeader?.("X", "v", null),
        typeError("params must be an object: null"),
      );
      assert.throws(
        () => h.addHeader?.("X", "v", ["a"]),
        typeError("params must be an object: [ 'a' ]"),
      );
      assert.equal(h.length, 0);
    });
  });

  describe("control characters", () => {
    it("are refused in names from the constructor", () => {
      for (const c of CONTROL_CHARACTERS) {
        const name = `X${c}Foo`;
        assert.throws(
          () => new Headers([[name, "v"]]),
          typeError(`header name contains a control character: ${inspect(name)}`),
        );
      }
    });

    it("are refused in values from the constructor, except tab", () => {
      for (const c of VALUE_CONTROL_CHARACTERS) {
        const value = `a${c}b`;
        assert.throws(
          () => new Headers([["X-Foo", value]]),
          typeError(`header value for 'X-Foo' contains a control character: ${inspect(value)}`),
        );
      }
      assert.equal(new Headers([["X-Foo", "a\tb"]]).get("x-foo"), "a\tb");
    });

    it("are refused by set()", () => {
      const h = new Headers([["X-Foo", "old"]]);
      for (const c of CONTROL_CHARACTERS) {
        assert.throws(
          () => h.set(`X${c}`, "v"),
          typeError(`header name contains a control character: ${inspect(`X${c}`)}`),
        );
      }
      for (const c of VALUE_CONTROL_CHARACTERS) {
        assert.throws(
          () => h.set("X-Foo", `a${c}b`),
          typeError(`header value for 'X-Foo' contains a control character: ${inspect(`a${c}b`)}`),
        );
      }
      // Checked before the old value is removed (Python's __setitem__ deletes first).
      assert.deepEqual(h.items(), [["X-Foo", "old"]]);
    });

    it("gives the example message for CR LF", () => {
      const h = new Headers();
      assert.throws(
        () => h.set("X-Foo", "a\r\nb"),
        typeError("header value for 'X-Foo' contains a control character: 'a\\r\\nb'"),
      );
    });

    it("are refused by setDefault(), even when the header exists", () => {
      const h = new Headers([["X-Foo", "old"]]);
      for (const c of CONTROL_CHARACTERS) {
        assert.throws(() => h.setDefault(`X${c}`, "v"), TypeError);
      }
      for (const c of VALUE_CONTROL_CHARACTERS) {
        assert.throws(
          () => h.setDefault("X-Bar", `a${c}b`),
          typeError(`header value for 'X-Bar' contains a control character: ${inspect(`a${c}b`)}`),
        );
        assert.throws(() => h.setDefault("X-Foo", `a${c}b`), TypeError);
      }
      assert.deepEqual(h.items(), [["X-Foo", "old"]]);
    });

    it("are refused by addHeader() in the name, the value, parameter names and values", () => {
      const h = new Headers();
      for (const c of CONTROL_CHARACTERS) {
        assert.throws(
          () => h.addHeader(`X${c}`, "v"),
          typeError(`header name contains a control character: ${inspect(`X${c}`)}`),
        );
        assert.throws(
          () => h.addHeader("X-Foo", "v", { [`p${c}`]: "1" }),
          typeError(`parameter name for 'X-Foo' contains a control character: ${inspect(`p${c}`)}`),
        );
        assert.throws(
          () => h.addHeader("X-Foo", "v", { [`p${c}`]: null }),
          typeError(`parameter name for 'X-Foo' contains a control character: ${inspect(`p${c}`)}`),
        );
      }
      for (const c of VALUE_CONTROL_CHARACTERS) {
        assert.throws(
          () => h.addHeader("X-Foo", `a${c}b`),
          typeError(`header value for 'X-Foo' contains a control character: ${inspect(`a${c}b`)}`),
        );
        assert.throws(
          () => h.addHeader("X-Foo", "v", { file_name: `a${c}b` }),
          typeError(
            `parameter 'file_name' for 'X-Foo' contains a control character: ${inspect(`a${c}b`)}`,
          ),
        );
      }
      // A bad second parameter leaves nothing behind.
      assert.throws(() => h.addHeader("X-Foo", "v", { ok: "1", bad: "\n" }), TypeError);
      assert.equal(h.length, 0);
    });

    it("are allowed as tab in values and parameter values", () => {
      const h = new Headers();
      h.set("A", "1\t2");
      h.setDefault("B", "\t");
      h.addHeader("C", "x\ty", { p: "a\tb" });
      assert.equal(h.toString(), 'A: 1\t2\r\nB: \t\r\nC: x\ty; p="a\tb"\r\n\r\n');
    });

    it("are refused in lookup names, which could never match", () => {
      const h = new Headers([["X", "1"]]);
      for (const method of ["get", "has", "getAll", "delete"] as const) {
        assert.throws(
          () => h[method]("X\r\n"),
          typeError("header name contains a control character: 'X\\r\\n'"),
          method,
        );
      }
      assert.equal(h.length, 1);
    });
  });

  describe("token rule", () => {
    const NON_TOKENS = [
      "",
      "X Foo",
      "X:Foo",
      "(x)",
      "a,b",
      'q"',
      "x/y",
      "[x]",
      "a=b",
      "a;b",
      "é",
      "{}",
    ];

    it("refuses a header name that is not an HTTP token, on every way in", () => {
      for (const name of NON_TOKENS) {
        const message = `header name must be an HTTP token (RFC 9110 tchar): ${inspect(name)}`;
        const h = new Headers();
        assert.throws(() => new Headers([[name, "v"]]), typeError(message));
        assert.throws(() => h.set(name, "v"), typeError(message));
        assert.throws(() => h.setDefault(name, "v"), typeError(message));
        assert.throws(() => h.addHeader(name, "v"), typeError(message));
        assert.equal(h.length, 0);
      }
    });

    it("refuses a parameter name that is not an HTTP token", () => {
      const h = new Headers();
      for (const name of NON_TOKENS) {
        assert.throws(
          () => h.addHeader("X", "v", { [name]: "1" }),
          typeError(
            `parameter name for 'X' must be an HTTP token (RFC 9110 tchar): ${inspect(name)}`,
          ),
        );
      }
      assert.equal(h.length, 0);
    });

    it("accepts every tchar", () => {
      const name = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
      const h = new Headers([[name, "v"]]);
      h.set(name, "w");
      h.addHeader("X", null, { [name]: null });
      assert.equal(h.get(name.toLowerCase()), "w");
      assert.equal(h.get("x"), name.replaceAll("_", "-"));
    });

    it("does not apply to lookups, so a pair pushed directly can still be removed", () => {
      const list: Array<[string, string]> = [];
      const h = new Headers(list);
      list.push(["Bad Name", "v"]);
      assert.equal(h.get("bad name"), "v");
      assert.equal(h.has("BAD NAME"), true);
      h.delete("Bad Name");
      assert.equal(h.length, 0);
      assert.equal(h.get(""), undefined);
    });
  });

  describe("direct edits to the wrapped array", () => {
    it("are checked again by toString() and toBytes()", () => {
      const list: Array<[string, string]> = [["Ok", "1"]];
      const h = new Headers(list);
      list.push(["X-Foo", "a\r\nSet-Cookie: evil=1"]);
      const message =
        "header value for 'X-Foo' contains a control character: 'a\\r\\nSet-Cookie: evil=1'";
      assert.throws(() => h.toString(), typeError(message));
      assert.throws(() => h.toBytes(), typeError(message));
      // Other methods still work, so the caller can repair the list.
      assert.equal(h.get("x-foo"), "a\r\nSet-Cookie: evil=1");
      h.delete("X-Foo");
      assert.equal(h.toString(), "Ok: 1\r\n\r\n");

      list.push(["Bad Name", "v"]);
      assert.throws(
        () => h.toString(),
        typeError("header name must be an HTTP token (RFC 9110 tchar): 'Bad Name'"),
      );
      list.pop();

      (list as unknown[]).push(["X", 5]);
      assert.throws(() => h.toString(), notStr("5"));
      list.pop();

      (list as unknown[]).push("junk");
      assert.throws(
        () => h.toBytes(),
        typeError("headers[1] must be a [name, value] pair: 'junk'"),
      );
      // Lookups skip what is not a pair rather than crash.
      assert.equal(h.get("junk"), undefined);
      (list as unknown[]).push([7, "seven"]);
      assert.deepEqual(h.getAll("7"), []);
      h.delete("ok");
      assert.deepEqual(list, ["junk", [7, "seven"]]);
    });
  });

  describe("set()", () => {
    it("removes every header of that name and appends at the end", () => {
      const h = new Headers([
        ["A", "1"],
        ["B", "2"],
        ["a", "3"],
        ["C", "4"],
      ]);
      h.set("A", "new");
      assert.deepEqual(h.items(), [
        ["B", "2"],
        ["C", "4"],
        ["A", "new"],
      ]);
    });
  });

  describe("delete()", () => {
    it("removes every header of that name, any case, and ignores a missing one", () => {
      const h = new Headers([
        ["Set-Cookie", "a=1"],
        ["X", "y"],
        ["set-cookie", "b=2"],
        ["SET-COOKIE", "c=3"],
      ]);
      h.delete("Set-Cookie");
      assert.deepEqual(h.items(), [["X", "y"]]);
      h.delete("Set-Cookie");
      h.delete("nothing");
      assert.deepEqual(h.items(), [["X", "y"]]);
    });
  });

  describe("get()", () => {
    it("returns the first match, or the default, which may be of any type", () => {
      const h = new Headers([
        ["Vary", "a"],
        ["vary", "b"],
        ["Empty", ""],
      ]);
      assert.equal(h.get("VARY"), "a");
      assert.equal(h.get("Missing"), undefined);
      assert.equal(h.get("Missing", null), null);
      assert.equal(h.get("Missing", 0), 0);
      // An empty value is present, not missing.
      assert.equal(h.get("empty", "default"), "");
      assert.equal(h.has("empty"), true);
    });
  });

  describe("setDefault()", () => {
    it("returns the first existing value without appending", () => {
      const h = new Headers([
        ["X", "1"],
        ["x", "2"],
      ]);
      assert.equal(h.setDefault("X", "3"), "1");
      assert.equal(h.length, 2);
      assert.equal(h.setDefault("Y", "4"), "4");
      assert.deepEqual(h.items().at(-1), ["Y", "4"]);
    });
  });

  describe("getAll()", () => {
    it("returns every value in order, duplicates included", () => {
      const h = new Headers([
        ["Set-Cookie", "a=1"],
        ["X", "y"],
        ["set-cookie", "a=1"],
      ]);
      assert.deepEqual(h.getAll("SET-COOKIE"), ["a=1", "a=1"]);
      assert.deepEqual(h.getAll("Nope"), []);
    });
  });

  describe("case-insensitivity", () => {
    it("applies to every method taking a name", () => {
      const h = new Headers([["Content-Type", "text/plain"]]);
      for (const name of ["content-type", "CONTENT-TYPE", "cOnTeNt-TyPe"]) {
        assert.equal(h.get(name), "text/plain");
        assert.equal(h.has(name), true);
        assert.deepEqual(h.getAll(name), ["text/plain"]);
        assert.equal(h.setDefault(name, "other"), "text/plain");
      }
      h.set("CONTENT-TYPE", "text/html");
      assert.deepEqual(h.items(), [["CONTENT-TYPE", "text/html"]]);
      h.addHeader("content-type", "a");
      assert.deepEqual(h.getAll("Content-Type"), ["text/html", "a"]);
      h.delete("Content-type");
      assert.equal(h.length, 0);
    });

    it("folds ASCII letters only", () => {
      // Python's str.lower() would fold the Kelvin sign U+212A into 'k'.
      const h = new Headers([["Keep-Alive", "5"]]);
      assert.equal(h.get("\u212Aeep-Alive"), undefined);
      assert.equal(h.get("kEEP-ALIVE"), "5");
    });
  });

  describe("addHeader()", () => {
    // Each expected value is what CPython 3.11 prints for
    // h.add_header("Content-Disposition", "attachment", file_name=VALUE).
    const PYTHON_FORMATPARAM: Array<[string, string]> = [
      ["bud.gif", 'attachment; file-name="bud.gif"'],
      ["", "attachment; file-name"],
      ["a b", 'attachment; file-name="a b"'],
      ['say "hi"', 'attachment; file-name="say \\"hi\\""'],
      ["C:\\dir\\f", 'attachment; file-name="C:\\\\dir\\\\f"'],
      ['back\\"slash', 'attachment; file-name="back\\\\\\"slash"'],
      ["a;b", 'attachment; file-name="a;b"'],
      ["x=y", 'attachment; file-name="x=y"'],
      ["tab\there", 'attachment; file-name="tab\there"'],
      ["caf\u00e9", 'attachment; file-name="caf\u00e9"'],
      ["(paren)", 'attachment; file-name="(paren)"'],
      ["<>@,:/[]?", 'attachment; file-name="<>@,:/[]?"'],
      ["plain-token_1", 'attachment; file-name="plain-token_1"'],
    ];

    for (const [value, expected] of PYTHON_FORMATPARAM) {
      it(`quotes ${inspect(value)} as Python's _formatparam does`, () => {
        const h = new Headers();
        h.addHeader("Content-Disposition", "attachment", { file_name: value });
        assert.equal(h.get("content-disposition"), expected);
      });
    }

    it("turns every underscore of a parameter name into a dash", () => {
      const h = new Headers();
      h.addHeader("X", "v", { a_b_c: "1", _lead: null });
      assert.equal(h.get("X"), 'v; a-b-c="1"; -lead');
    });

    it("writes a null parameter as a bare flag, in the order given", () => {
      const h = new Headers();
      h.addHeader("Set-Cookie", "id=1", { Secure: null, Path: "/", HttpOnly: null });
      assert.equal(h.get("set-cookie"), 'id=1; Secure; Path="/"; HttpOnly');
    });

    it("takes a null or undefined value, as Python takes None", () => {
      const h = new Headers();
      h.addHeader("A", null, { a: "1", b: null });
      h.addHeader("B", undefined, { c: "2" });
      h.addHeader("C", null);
      h.addHeader("D", "");
      h.addHeader("E", "", { a: "1" });
      // Python: 'a="1"; b', 'c="2"', '', '', '; a="1"'.
      assert.deepEqual(h.values(), ['a="1"; b', 'c="2"', "", "", '; a="1"']);
    });

    it("appends without removing existing headers of that name", () => {
      const h = new Headers([["Link", "<a>"]]);
      h.addHeader("link", "<b>", { rel: "next" });
      assert.deepEqual(h.items(), [
        ["Link", "<a>"],
        ["link", '<b>; rel="next"'],
      ]);
    });
  });

  describe("keys(), values(), items() and iteration", () => {
    const pairs = (): Array<[string, string]> => [
      ["Set-Cookie", "a=1"],
      ["X", "y"],
      ["Set-Cookie", "a=1"],
    ];

    it("keep duplicates, in order", () => {
      const h = new Headers(pairs());
      assert.deepEqual(h.keys(), ["Set-Cookie", "X", "Set-Cookie"]);
      assert.deepEqual(h.values(), ["a=1", "y", "a=1"]);
      assert.deepEqual(h.items(), pairs());
      assert.deepEqual([...h], pairs());
      assert.equal(h.length, 3);
    });

    it("return copies of the array and of each pair", () => {
      const list = pairs();
      const h = new Headers(list);
      const items = h.items();
      assert.notEqual(items, list);
      assert.notEqual(items[0], list[0]);
      items[0]![1] = "changed";
      items.pop();
      h.keys().pop();
      h.values().pop();
      for (const pair of h) {
        pair[1] = "changed";
      }
      assert.deepEqual(list, pairs());
    });

    it("iterates over a snapshot, so deleting while iterating is safe", () => {
      const h = new Headers(pairs());
      const seen: string[] = [];
      for (const [name] of h) {
        seen.push(name);
        h.delete(name);
      }
      assert.deepEqual(seen, ["Set-Cookie", "X", "Set-Cookie"]);
      assert.equal(h.length, 0);
    });
  });

  describe("toString()", () => {
    it("ends each header and the block with CRLF", () => {
      const h = new Headers([
        ["Content-Type", "text/plain"],
        ["X", ""],
      ]);
      assert.equal(h.toString(), "Content-Type: text/plain\r\nX: \r\n\r\n");
      assert.equal(`${h}`, "Content-Type: text/plain\r\nX: \r\n\r\n");
      assert.equal(new Headers().toString(), "\r\n");
    });
  });

  describe("toBytes()", () => {
    it("encodes as latin-1, one byte per code point", () => {
      const h = new Headers([["X", "caf\u00e9\u00ff"]]);
      const bytes = h.toBytes();
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(
        [...bytes],
        [0x58, 0x3a, 0x20, 0x63, 0x61, 0x66, 0xe9, 0xff, 0x0d, 0x0a, 0x0d, 0x0a],
      );
      assert.deepEqual([...new Headers().toBytes()], [0x0d, 0x0a]);
    });

    it("refuses a value beyond U+00FF with a TypeError naming the header", () => {
      const h = new Headers([
        ["A", "fine"],
        ["X-Name", "\u0100"],
      ]);
      assert.throws(
        () => h.toBytes(),
        typeError(
          "header value for 'X-Name' must contain only code points up to U+00FF (latin-1): U+0100 in \"\u0100\"",
        ),
      );
      // toString() is text, as Python's str(): only the bytes must be latin-1.
      assert.equal(h.toString(), "A: fine\r\nX-Name: \u0100\r\n\r\n");
      h.set("X-Name", "\u{1F600}");
      assert.throws(
        () => h.toBytes(),
        (err) => {
          assert.ok(err instanceof TypeError);
          assert.match(
            err.message,
            /^header value for 'X-Name' must contain only code points up to U\+00FF/,
          );
          return true;
        },
      );
    });
  });

  describe("inspection", () => {
    it("shows like Python's repr", () => {
      const h = new Headers([
        ["a", "b"],
        ["c", "d"],
      ]);
      assert.equal(inspect(h), "Headers([ [ 'a', 'b' ], [ 'c', 'd' ] ])");
      assert.equal(inspect(new Headers()), "Headers([])");
      class MyHeaders extends Headers {}
      assert.equal(inspect(new MyHeaders([["x", "y"]])), "MyHeaders([ [ 'x', 'y' ] ])");
    });
  });
});
