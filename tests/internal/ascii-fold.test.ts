/** Unit tests for `src/internal/ascii-fold.ts`. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { equalsFolded } from "../../src/internal/ascii-fold.js";

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
