/** Unit tests for `src/internal/ascii-fold.ts`. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { equalsFolded, equalsFoldedBoth, isContentLength } from "../../src/internal/ascii-fold.js";

describe("equalsFolded", () => {
  it("matches a name in any ASCII case against its lower-case form", () => {
    for (const name of ["content-length", "Content-Length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"]) {
      assert.equal(equalsFolded(name, "content-length"), true, name);
    }
  });

  it("tells different names and lengths apart", () => {
    assert.equal(equalsFolded("Content-Type", "content-length"), false);
    assert.equal(equalsFolded("Date", "dates"), false);
    assert.equal(equalsFolded("", ""), true);
    // Only A-Z fold: `[` is `Z` + 1 and `{` is `z` + 1.
    assert.equal(equalsFolded("[", "{"), false);
  });

  it("folds nothing beyond ASCII, unlike toLowerCase()", () => {
    // U+212A KELVIN SIGN lower-cases to "k".
    assert.equal("\u212Aeep".toLowerCase(), "keep");
    assert.equal(equalsFolded("\u212Aeep", "keep"), false);
  });
});

describe("equalsFoldedBoth", () => {
  it("matches two names in any ASCII case", () => {
    for (const name of ["content-length", "Content-Length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"]) {
      assert.equal(equalsFoldedBoth(name, "Content-Length"), true, name);
      assert.equal(equalsFoldedBoth("CONTENT-length", name), true, name);
    }
  });

  it("tells different names and lengths apart", () => {
    assert.equal(equalsFoldedBoth("Content-Type", "Content-Length"), false);
    assert.equal(equalsFoldedBoth("Date", "Dates"), false);
    assert.equal(equalsFoldedBoth("", ""), true);
    assert.equal(equalsFoldedBoth("[", "{"), false);
    assert.equal(equalsFoldedBoth("@", "`"), false);
  });

  it("folds nothing beyond ASCII, unlike toLowerCase()", () => {
    assert.equal(equalsFoldedBoth("\u212Aeep", "KEEP"), false);
    assert.equal(equalsFoldedBoth("\u00C9t\u00E9", "\u00E9T\u00C9"), false);
  });
});

describe("isContentLength", () => {
  it("tells Content-Length in any ASCII case, and nothing else", () => {
    for (const name of ["Content-Length", "content-length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"]) {
      assert.equal(isContentLength(name), true, name);
    }
    for (const name of [
      "Content-Type",
      "Content-Lengths",
      "Content_Length",
      "Content-Lengt\u212a",
      "",
    ]) {
      assert.equal(isContentLength(name), false, name);
    }
  });
});
