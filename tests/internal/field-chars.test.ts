/** Unit tests for `src/internal/field-chars.ts`: each test agrees with its rule written as a regular expression. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  hasValueControl,
  isCommonName,
  isDigits,
  isToken,
  lowerFieldName,
} from "../../src/internal/field-chars.js";

// The rules as the code had them before (RFC 9110 §5.6.2, CPython's _value_disallowed_re, §8.6).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const VALUE_CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;
const DIGITS = /^[0-9]+$/;

/** Every string of one character up to U+0200, then every pair of a few characters. */
function samples(): string[] {
  const out = [""];
  for (let c = 0; c <= 0x200; c++) out.push(String.fromCharCode(c));
  const some = [
    "a",
    "Z",
    "0",
    "9",
    "-",
    " ",
    "\t",
    "\r",
    "\n",
    "\x7f",
    "\x80",
    "\u00ff",
    "(",
    "/",
    "~",
    "\u212a",
  ];
  for (const a of some) for (const b of some) out.push(a + b, `Content-${a}${b}`, `13${a}${b}`);
  return out;
}

describe("isToken", () => {
  it("agrees with the token rule", () => {
    for (const s of samples()) assert.equal(isToken(s), TOKEN.test(s), JSON.stringify(s));
  });
});

describe("isCommonName", () => {
  it("knows common field names, in the case applications write and in lower case, all tokens", () => {
    for (const name of ["Content-Type", "content-type", "Content-Length", "Set-Cookie", "ETag"]) {
      assert.equal(isCommonName(name), true, name);
      assert.equal(isToken(name), true, name);
    }
    for (const name of ["CONTENT-TYPE", "X-Custom", "Content-Type ", "Content Type", ""]) {
      assert.equal(isCommonName(name), false, JSON.stringify(name));
      assert.equal(isToken(name), TOKEN.test(name), JSON.stringify(name));
    }
  });
});

describe("lowerFieldName", () => {
  it("lower-cases every name in ASCII, as toLowerCase does for a token", () => {
    for (const s of samples()) {
      if (TOKEN.test(s)) assert.equal(lowerFieldName(s), s.toLowerCase(), JSON.stringify(s));
    }
    for (const name of ["Content-Type", "content-type", "CONTENT-TYPE", "ETag", "X-Custom"]) {
      assert.equal(lowerFieldName(name), name.toLowerCase(), name);
    }
  });
});

describe("hasValueControl", () => {
  it("agrees with the control-character rule (HTAB allowed)", () => {
    for (const s of samples())
      assert.equal(hasValueControl(s), VALUE_CONTROL.test(s), JSON.stringify(s));
  });
});

describe("isDigits", () => {
  it("agrees with 1*DIGIT", () => {
    for (const s of samples()) assert.equal(isDigits(s), DIGITS.test(s), JSON.stringify(s));
  });
});
