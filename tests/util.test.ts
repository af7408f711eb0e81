/**
 * Tests for `wsgiref/util`: every case of CPython's `UtilityTests`
 * (Lib/test/test_wsgiref.py) as tables, then edge cases Python does not test.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fstatSync, mkdtempSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { BytesInput, StringErrors } from "../src/streams.js";
import type { FileLike, FileWrapperClass, PartialEnvironment } from "../src/types.js";
import {
  applicationUri,
  FileWrapper,
  guessScheme,
  isHopByHop,
  openFile,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from "../src/util.js";

/** Pass a value the signature forbids, to test the run-time checks. */
function untyped<T>(value: unknown): T {
  return value as T;
}

const encoder = new TextEncoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Every code point U+0000..U+00FF, once, in order. */
const ALL_LATIN1 = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

// Python: quote(ALL_LATIN1, encoding='latin1') (safe='/').
const ALL_LATIN1_QUOTED_SAFE_SLASH =
  "%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B" +
  "%1C%1D%1E%1F%20%21%22%23%24%25%26%27%28%29%2A%2B%2C-" +
  "./0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghi" +
  "jklmnopqrstuvwxyz%7B%7C%7D~%7F%80%81%82%83%84%85%86%87%88%89%8A%8B%8C%8D%8E%8F%90%91" +
  "%92%93%94%95%96%97%98%99%9A%9B%9C%9D%9E%9F%A0%A1%A2%A3%A4%A5%A6%A7%A8%A9%AA%AB%AC%AD" +
  "%AE%AF%B0%B1%B2%B3%B4%B5%B6%B7%B8%B9%BA%BB%BC%BD%BE%BF%C0%C1%C2%C3%C4%C5%C6%C7%C8%C9" +
  "%CA%CB%CC%CD%CE%CF%D0%D1%D2%D3%D4%D5%D6%D7%D8%D9%DA%DB%DC%DD%DE%DF%E0%E1%E2%E3%E4%E5" +
  "%E6%E7%E8%E9%EA%EB%EC%ED%EE%EF%F0%F1%F2%F3%F4%F5%F6%F7%F8%F9%FA%FB%FC%FD%FE%FF";

// Python: quote(ALL_LATIN1, safe='/;=,', encoding='latin1').
const ALL_LATIN1_QUOTED_PATH_INFO =
  "%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B" +
  "%1C%1D%1E%1F%20%21%22%23%24%25%26%27%28%29%2A%2B,-" +
  "./0123456789%3A;%3C=%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklm" +
  "nopqrstuvwxyz%7B%7C%7D~%7F%80%81%82%83%84%85%86%87%88%89%8A%8B%8C%8D%8E%8F%90%91%92%" +
  "93%94%95%96%97%98%99%9A%9B%9C%9D%9E%9F%A0%A1%A2%A3%A4%A5%A6%A7%A8%A9%AA%AB%AC%AD%AE%" +
  "AF%B0%B1%B2%B3%B4%B5%B6%B7%B8%B9%BA%BB%BC%BD%BE%BF%C0%C1%C2%C3%C4%C5%C6%C7%C8%C9%CA%" +
  "CB%CC%CD%CE%CF%D0%D1%D2%D3%D4%D5%D6%D7%D8%D9%DA%DB%DC%DD%DE%DF%E0%E1%E2%E3%E4%E5%E6%" +
  "E7%E8%E9%EA%EB%EC%ED%EE%EF%F0%F1%F2%F3%F4%F5%F6%F7%F8%F9%FA%FB%FC%FD%FE%FF";

/** An in-memory file like Python's `BytesIO`, counting its reads. */
class MemoryFile {
  closed = false;
  reads: number[] = [];
  #data: Uint8Array;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  read(size: number): Uint8Array {
    this.reads.push(size);
    const end = size < 0 ? this.#data.length : Math.min(this.#pos + size, this.#data.length);
    const chunk = this.#data.slice(this.#pos, end);
    this.#pos = end;
    return chunk;
  }

  close(): void {
    this.closed = true;
  }
}

let dir = "";
let fileCount = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "wsgiref-util-test-"));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write a fresh temporary file and return its path. */
function tempFile(data: Uint8Array): string {
  fileCount += 1;
  const path = join(dir, `file-${fileCount}.bin`);
  writeFileSync(path, data);
  return path;
}

/** Bytes 0..255 repeated up to `length`, so that misplaced chunks show. */
function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i % 251);
}

/** Whether `fd` is an open file descriptor of this process. */
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EBADF") {
      return false;
    }
    throw err;
  }
}

describe("shiftPathInfo", () => {
  // Python: UtilityTests.checkShift, used by testSimpleShifts and testNormalizedShifts.
  function checkShift(
    snIn: string,
    piIn: string,
    part: string | undefined,
    snOut: string,
    piOut: string,
  ): void {
    const env: PartialEnvironment = { SCRIPT_NAME: snIn, PATH_INFO: piIn };
    setupTestingDefaults(env);
    assert.equal(shiftPathInfo(env), part);
    assert.equal(env.PATH_INFO, piOut);
    assert.equal(env.SCRIPT_NAME, snOut);
  }

  // [SCRIPT_NAME in, PATH_INFO in, returned, SCRIPT_NAME out, PATH_INFO out]
  type ShiftCase = [string, string, string | undefined, string, string];

  // Python: UtilityTests.testSimpleShifts
  const simpleShifts: ShiftCase[] = [
    ["", "/", "", "/", ""],
    ["", "/x", "x", "/x", ""],
    ["/", "", undefined, "/", ""],
    ["/a", "/x/y", "x", "/a/x", "/y"],
    ["/a", "/x/", "x", "/a/x", "/"],
  ];

  // Python: UtilityTests.testNormalizedShifts
  const normalizedShifts: ShiftCase[] = [
    ["/a/b", "/../y", "..", "/a", "/y"],
    ["", "/../y", "..", "", "/y"],
    ["/a/b", "//y", "y", "/a/b/y", ""],
    ["/a/b", "//y/", "y", "/a/b/y", "/"],
    ["/a/b", "/./y", "y", "/a/b/y", ""],
    ["/a/b", "/./y/", "y", "/a/b/y", "/"],
    ["/a/b", "///./..//y/.//", "..", "/a", "/y/"],
    ["/a/b", "///", "", "/a/b/", ""],
    ["/a/b", "/.//", "", "/a/b/", ""],
    ["/a/b", "/x//", "x", "/a/b/x", "/"],
    ["/a/b", "/.", undefined, "/a/b", ""],
  ];

  // Not in Python's tests; outputs checked against CPython 3.11's shift_path_info.
  const moreShifts: ShiftCase[] = [
    ["/", "/x", "x", "//x", ""], // normpath keeps a leading '//', as POSIX allows
    ["/", "/", "", "/", ""],
    ["", "/.", undefined, "", ""],
    ["", "//", "", "/", ""],
    ["/a", "/./", "", "/a/", ""],
    ["", "/..", "..", "", ""],
    ["/a/b/c", "/../../..", "..", "/a/b", "/../.."],
    ["//a", "/x", "x", "//a/x", ""],
    ["///a", "/x", "x", "/a/x", ""],
    ["/a/", "/b", "b", "/a/b", ""],
    ["a", "/x", "x", "a/x", ""],
    ["a", "/..", "..", ".", ""],
    ["", "x/y", "y", "/y", "x"], // a PATH_INFO without its leading '/' is shifted as Python does
    ["", "/x?y#z", "x?y#z", "/x?y#z", ""],
    ["", "/%2F/x", "%2F", "/%2F", "/x"], // no percent-decoding
    ["/sp\xe4m", "/\xff/\x00", "\xff", "/sp\xe4m/\xff", "/\x00"],
  ];

  for (const [title, table] of [
    ["testSimpleShifts", simpleShifts],
    ["testNormalizedShifts", normalizedShifts],
    ["more cases", moreShifts],
  ] as const) {
    for (const [snIn, piIn, part, snOut, piOut] of table) {
      it(`shifts SCRIPT_NAME ${JSON.stringify(snIn)} PATH_INFO ${JSON.stringify(piIn)} (${title})`, () => {
        checkShift(snIn, piIn, part, snOut, piOut);
      });
    }
  }

  it("returns undefined and leaves an empty environ unchanged", () => {
    const env: PartialEnvironment = {};
    assert.equal(shiftPathInfo(env), undefined);
    assert.deepEqual(env, {});
  });

  it("treats an undefined PATH_INFO as empty", () => {
    const env: PartialEnvironment = { SCRIPT_NAME: "/a", PATH_INFO: undefined };
    assert.equal(shiftPathInfo(env), undefined);
    assert.equal(env.SCRIPT_NAME, "/a");
  });

  it("treats a missing SCRIPT_NAME as empty", () => {
    const env: PartialEnvironment = { PATH_INFO: "/x/y" };
    assert.equal(shiftPathInfo(env), "x");
    assert.deepEqual(env, { SCRIPT_NAME: "/x", PATH_INFO: "/y" });
  });

  it("walks a path one segment at a time", () => {
    const env: PartialEnvironment = { SCRIPT_NAME: "", PATH_INFO: "/a/b/c/" };
    const names: Array<string | undefined> = [];
    for (let i = 0; i < 5; i++) {
      names.push(shiftPathInfo(env));
    }
    assert.deepEqual(names, ["a", "b", "c", "", undefined]);
    assert.equal(env.SCRIPT_NAME, "/a/b/c/");
    assert.equal(env.PATH_INFO, "");
  });

  it("throws a TypeError when PATH_INFO has no '/' (Python: IndexError)", () => {
    assert.throws(() => shiftPathInfo({ PATH_INFO: "x" }), {
      name: "TypeError",
      message: "environ['PATH_INFO'] has no segment to shift; it must begin with '/': 'x'",
    });
  });

  it("throws a TypeError when environ is not an object", () => {
    for (const bad of [null, undefined, "/x", 42, ["/x"]]) {
      assert.throws(() => shiftPathInfo(untyped(bad)), {
        name: "TypeError",
        message: /^environ must be an object: /,
      });
    }
    assert.throws(() => shiftPathInfo(untyped(null)), {
      message: "environ must be an object: null",
    });
  });

  it("throws a TypeError when PATH_INFO or SCRIPT_NAME is not a string", () => {
    assert.throws(() => shiftPathInfo({ PATH_INFO: untyped(42) }), {
      name: "TypeError",
      message: "environ['PATH_INFO'] must be a string: 42",
    });
    const env: PartialEnvironment = { SCRIPT_NAME: untyped(null), PATH_INFO: "/x" };
    assert.throws(() => shiftPathInfo(env), {
      name: "TypeError",
      message: "environ['SCRIPT_NAME'] must be a string: null",
    });
    assert.equal(env.PATH_INFO, "/x", "environ is unchanged after the error");
  });
});

describe("requestUri", () => {
  // Python: UtilityTests.checkReqURI
  function checkReqUri(uri: string, includeQuery: boolean, env: PartialEnvironment): void {
    setupTestingDefaults(env);
    assert.equal(requestUri(env, includeQuery), uri);
  }

  // Python: UtilityTests.testReqURIs
  const reqUris: Array<[string, boolean, PartialEnvironment]> = [
    ["http://127.0.0.1/", true, {}],
    ["http://127.0.0.1/spam", true, { SCRIPT_NAME: "/spam" }],
    ["http://127.0.0.1/sp%E4m", true, { SCRIPT_NAME: "/sp\xe4m" }],
    ["http://127.0.0.1/spammity/spam", true, { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam" }],
    ["http://127.0.0.1/spammity/sp%E4m", true, { SCRIPT_NAME: "/spammity", PATH_INFO: "/sp\xe4m" }],
    [
      "http://127.0.0.1/spammity/spam;ham",
      true,
      { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam;ham" },
    ],
    [
      "http://127.0.0.1/spammity/spam;cookie=1234,5678",
      true,
      { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam;cookie=1234,5678" },
    ],
    [
      "http://127.0.0.1/spammity/spam?say=ni",
      true,
      { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam", QUERY_STRING: "say=ni" },
    ],
    [
      "http://127.0.0.1/spammity/spam?s%E4y=ni",
      true,
      { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam", QUERY_STRING: "s%E4y=ni" },
    ],
    [
      "http://127.0.0.1/spammity/spam",
      false,
      { SCRIPT_NAME: "/spammity", PATH_INFO: "/spam", QUERY_STRING: "say=ni" },
    ],
  ];

  // Not in Python's tests; outputs checked against CPython 3.11's request_uri.
  const moreUris: Array<[string, boolean, PartialEnvironment]> = [
    // '?' and '#' inside PATH_INFO are data, so they are quoted; so is '%'.
    ["http://127.0.0.1/a/b%3Fc%23d%20e%25f", true, { SCRIPT_NAME: "/a", PATH_INFO: "/b?c#d e%f" }],
    [
      "http://127.0.0.1/s/~_.-%21%2A%27%28%29%40%3A%24%26%2B;=,",
      true,
      { SCRIPT_NAME: "/s", PATH_INFO: "/~_.-!*'()@:$&+;=," },
    ],
    ["http://127.0.0.1/a/%FF%00%7F", true, { SCRIPT_NAME: "/a", PATH_INFO: "/\xff\x00\x7f" }],
    [
      "http://127.0.0.1/s" + ALL_LATIN1_QUOTED_PATH_INFO,
      true,
      { SCRIPT_NAME: "/s", PATH_INFO: ALL_LATIN1 },
    ],
    // With an empty SCRIPT_NAME the first character of PATH_INFO stands for the
    // base URI's '/' and is dropped, whatever it is.
    ["http://127.0.0.1/", true, { SCRIPT_NAME: "", PATH_INFO: "x" }],
    ["http://127.0.0.1/", true, { SCRIPT_NAME: "", PATH_INFO: "" }],
    ["http://127.0.0.1/x/y", true, { SCRIPT_NAME: "", PATH_INFO: "/x/y" }],
    // QUERY_STRING is appended as it is, unquoted and unchecked.
    ["http://127.0.0.1/?a=\u0100 b", true, { QUERY_STRING: "a=\u0100 b" }],
    ["http://127.0.0.1/", true, { QUERY_STRING: "" }],
    // Non-default ports, with HTTPS on and off.
    [
      "https://127.0.0.1:8443/x",
      true,
      { HTTPS: "on", SERVER_PORT: "8443", HTTP_HOST: "", PATH_INFO: "/x" },
    ],
    ["https://127.0.0.1:80/", true, { HTTPS: "on", SERVER_PORT: "80", HTTP_HOST: "" }],
    ["https://127.0.0.1/", true, { HTTPS: "1", SERVER_PORT: "443", HTTP_HOST: "" }],
    ["http://127.0.0.1:443/", true, { HTTPS: "off", SERVER_PORT: "443", HTTP_HOST: "" }],
    ["http://127.0.0.1:8080/", true, { HTTPS: "off", SERVER_PORT: "8080", HTTP_HOST: "" }],
    [
      "http://h:8080/?q",
      true,
      { HTTPS: "off", SERVER_PORT: "8080", HTTP_HOST: "h:8080", QUERY_STRING: "q" },
    ],
  ];

  for (const [uri, includeQuery, env] of reqUris) {
    it(`builds ${uri} (testReqURIs)`, () => {
      checkReqUri(uri, includeQuery, { ...env });
    });
  }
  for (const [uri, includeQuery, env] of moreUris) {
    it(`builds ${JSON.stringify(uri).slice(0, 80)} from ${JSON.stringify(env).slice(0, 80)}`, () => {
      checkReqUri(uri, includeQuery, { ...env });
    });
  }

  it("includes the query by default", () => {
    const env: PartialEnvironment = { PATH_INFO: "/p", QUERY_STRING: "a=1" };
    setupTestingDefaults(env);
    assert.equal(requestUri(env), "http://127.0.0.1/p?a=1");
    assert.equal(requestUri(env, undefined), "http://127.0.0.1/p?a=1");
  });

  it("treats a missing or undefined PATH_INFO as empty", () => {
    const base = {
      "wsgi.url_scheme": "http",
      HTTP_HOST: "example.com",
      SCRIPT_NAME: "/app",
    };
    assert.equal(requestUri({ ...base }), "http://example.com/app");
    assert.equal(requestUri({ ...base, PATH_INFO: undefined }), "http://example.com/app");
  });

  it("throws a TypeError when PATH_INFO has a code point above U+00FF", () => {
    const env: PartialEnvironment = { SCRIPT_NAME: "/a", PATH_INFO: "/\u0100" };
    setupTestingDefaults(env);
    assert.throws(() => requestUri(env), {
      name: "TypeError",
      message: /^environ\['PATH_INFO'\] must contain only code points up to U\+00FF .*U\+0100/,
    });
    env.PATH_INFO = "/\u{1F600}";
    assert.throws(() => requestUri(env), { name: "TypeError", message: /U\+1F600 / });
  });

  it("throws a TypeError when environ is not an object", () => {
    assert.throws(() => requestUri(untyped(null)), {
      name: "TypeError",
      message: "environ must be an object: null",
    });
  });

  it("throws a TypeError when includeQuery is not a boolean", () => {
    const env: PartialEnvironment = {};
    setupTestingDefaults(env);
    assert.throws(() => requestUri(env, untyped("yes")), {
      name: "TypeError",
      message: "includeQuery must be a boolean: 'yes'",
    });
    assert.throws(() => requestUri(env, untyped(1)), {
      name: "TypeError",
      message: "includeQuery must be a boolean: 1",
    });
  });

  it("throws a TypeError when PATH_INFO or QUERY_STRING is not a string", () => {
    const env: PartialEnvironment = { PATH_INFO: untyped(42) };
    setupTestingDefaults(env);
    assert.throws(() => requestUri(env), {
      name: "TypeError",
      message: "environ['PATH_INFO'] must be a string: 42",
    });
    env.PATH_INFO = untyped(null);
    assert.throws(() => requestUri(env), {
      name: "TypeError",
      message: "environ['PATH_INFO'] must be a string: null",
    });
    env.PATH_INFO = "/";
    env.QUERY_STRING = untyped(["a=1"]);
    assert.throws(() => requestUri(env), {
      name: "TypeError",
      message: "environ['QUERY_STRING'] must be a string: [ 'a=1' ]",
    });
    assert.equal(requestUri(env, false), "http://127.0.0.1/", "no query, no check");
  });
});

describe("applicationUri", () => {
  // Python: UtilityTests.checkAppURI
  function checkAppUri(uri: string, env: PartialEnvironment): void {
    setupTestingDefaults(env);
    assert.equal(applicationUri(env), uri);
  }

  // Python: UtilityTests.testAppURIs
  const appUris: Array<[string, PartialEnvironment]> = [
    ["http://127.0.0.1/", {}],
    ["http://127.0.0.1/spam", { SCRIPT_NAME: "/spam" }],
    ["http://127.0.0.1/sp%E4m", { SCRIPT_NAME: "/sp\xe4m" }],
    ["http://spam.example.com:2071/", { HTTP_HOST: "spam.example.com:2071", SERVER_PORT: "2071" }],
    ["http://spam.example.com/", { SERVER_NAME: "spam.example.com" }],
    ["http://127.0.0.1/", { HTTP_HOST: "127.0.0.1", SERVER_NAME: "spam.example.com" }],
    ["https://127.0.0.1/", { HTTPS: "on" }],
    // Python passes HTTP_HOST=None: present, so not defaulted, but empty.
    ["http://127.0.0.1:8000/", { SERVER_PORT: "8000", HTTP_HOST: undefined }],
  ];

  // Not in Python's tests; outputs checked against CPython 3.11's application_uri.
  const moreAppUris: Array<[string, PartialEnvironment]> = [
    // SCRIPT_NAME keeps only '/' unquoted (quote's default safe).
    ["http://127.0.0.1/a%20b%3F%23%3B%3D%2C", { SCRIPT_NAME: "/a b?#;=," }],
    ["http://127.0.0.1" + ALL_LATIN1_QUOTED_SAFE_SLASH, { SCRIPT_NAME: ALL_LATIN1 }],
    ["http://127.0.0.1/", { SCRIPT_NAME: "", PATH_INFO: "/ignored" }],
    ["http://127.0.0.1/", { QUERY_STRING: "ignored" }],
    ["https://127.0.0.1:8443/", { HTTPS: "on", SERVER_PORT: "8443", HTTP_HOST: "" }],
    ["https://127.0.0.1:80/", { HTTPS: "on", SERVER_PORT: "80", HTTP_HOST: "" }],
    ["http://127.0.0.1:443/", { HTTPS: "off", SERVER_PORT: "443", HTTP_HOST: "" }],
    // HTTP_HOST is used as it is, port and all, even when SERVER_PORT disagrees.
    ["https://h.example:444/", { HTTPS: "on", HTTP_HOST: "h.example:444", SERVER_PORT: "8443" }],
    // Any scheme but https is compared with port 80, as in Python.
    ["ftp://127.0.0.1/", { "wsgi.url_scheme": "ftp", SERVER_PORT: "80", HTTP_HOST: "" }],
    ["ftp://127.0.0.1:21/", { "wsgi.url_scheme": "ftp", SERVER_PORT: "21", HTTP_HOST: "" }],
  ];

  for (const [uri, env] of appUris) {
    it(`builds ${uri} from ${JSON.stringify(env)} (testAppURIs)`, () => {
      checkAppUri(uri, { ...env });
    });
  }
  for (const [uri, env] of moreAppUris) {
    it(`builds ${JSON.stringify(uri).slice(0, 80)} from ${JSON.stringify(env).slice(0, 80)}`, () => {
      checkAppUri(uri, { ...env });
    });
  }

  it("throws a TypeError when SCRIPT_NAME has a code point above U+00FF", () => {
    const env: PartialEnvironment = { SCRIPT_NAME: "/sp\u0101m" };
    setupTestingDefaults(env);
    assert.throws(() => applicationUri(env), {
      name: "TypeError",
      message: /^environ\['SCRIPT_NAME'\] must contain only code points up to U\+00FF .*U\+0101/,
    });
    assert.throws(() => requestUri(env), { name: "TypeError", message: /SCRIPT_NAME/ });
  });

  it("throws a TypeError when environ is not an object", () => {
    assert.throws(() => applicationUri(untyped("http://x/")), {
      name: "TypeError",
      message: "environ must be an object: 'http://x/'",
    });
  });

  it("throws a TypeError naming the key that is missing or not a string", () => {
    const cases: Array<[PartialEnvironment, string]> = [
      [{}, "environ['wsgi.url_scheme'] must be a string: undefined"],
      [{ "wsgi.url_scheme": "http" }, "environ['SERVER_NAME'] must be a string: undefined"],
      [
        { "wsgi.url_scheme": "http", SERVER_NAME: "h" },
        "environ['SERVER_PORT'] must be a string: undefined",
      ],
      [
        { "wsgi.url_scheme": "http", SERVER_NAME: "h", SERVER_PORT: untyped(8080) },
        "environ['SERVER_PORT'] must be a string: 8080",
      ],
      [
        { "wsgi.url_scheme": "http", HTTP_HOST: untyped(["h"]) },
        "environ['HTTP_HOST'] must be a string: [ 'h' ]",
      ],
      [
        { "wsgi.url_scheme": "http", HTTP_HOST: "h", SCRIPT_NAME: untyped(7) },
        "environ['SCRIPT_NAME'] must be a string: 7",
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => applicationUri(env), { name: "TypeError", message });
    }
  });
});

describe("setupTestingDefaults", () => {
  // Python: UtilityTests.checkDefault — a default on an empty environ, and an
  // existing value (Python's None, here undefined) left alone.
  function checkDefault(key: string, check: (value: unknown) => void): void {
    const env: PartialEnvironment = {};
    setupTestingDefaults(env);
    check(env[key]);

    const alt: PartialEnvironment = { [key]: undefined };
    setupTestingDefaults(alt);
    assert.ok(key in alt);
    assert.equal(alt[key], undefined);

    const sentinel = { sentinel: key };
    const kept = untyped<PartialEnvironment>({ [key]: sentinel });
    setupTestingDefaults(kept);
    assert.equal(kept[key], sentinel);
  }

  const equals = (expected: unknown) => (value: unknown) => assert.deepEqual(value, expected);

  // Python: UtilityTests.testDefaults (0 for the wsgi.* flags becomes false, the
  // tuple (1, 0) becomes [1, 0], BytesIO/StringIO become BytesInput/StringErrors).
  const defaults: Array<[string, (value: unknown) => void]> = [
    ["SERVER_NAME", equals("127.0.0.1")],
    ["SERVER_PORT", equals("80")],
    ["SERVER_PROTOCOL", equals("HTTP/1.0")],
    ["HTTP_HOST", equals("127.0.0.1")],
    ["REQUEST_METHOD", equals("GET")],
    ["SCRIPT_NAME", equals("")],
    ["PATH_INFO", equals("/")],
    ["wsgi.version", equals([1, 0])],
    ["wsgi.run_once", equals(false)],
    ["wsgi.multithread", equals(false)],
    ["wsgi.multiprocess", equals(false)],
    ["wsgi.input", (value) => assert.ok(value instanceof BytesInput)],
    ["wsgi.errors", (value) => assert.ok(value instanceof StringErrors)],
    ["wsgi.url_scheme", equals("http")],
  ];

  for (const [key, check] of defaults) {
    it(`defaults ${key} only when it is missing (testDefaults)`, () => {
      checkDefault(key, check);
    });
  }

  // Python: UtilityTests.testCrossDefaults
  const crossDefaults: Array<[string, string, PartialEnvironment]> = [
    ["HTTP_HOST", "foo.bar", { SERVER_NAME: "foo.bar" }],
    ["wsgi.url_scheme", "https", { HTTPS: "on" }],
    ["wsgi.url_scheme", "https", { HTTPS: "1" }],
    ["wsgi.url_scheme", "https", { HTTPS: "yes" }],
    ["wsgi.url_scheme", "http", { HTTPS: "foo" }],
    ["SERVER_PORT", "80", { HTTPS: "foo" }],
    ["SERVER_PORT", "443", { HTTPS: "on" }],
  ];

  for (const [key, value, env] of crossDefaults) {
    it(`derives ${key} ${value} from ${JSON.stringify(env)} (testCrossDefaults)`, () => {
      const kw = { ...env };
      setupTestingDefaults(kw);
      assert.equal(kw[key], value);
    });
  }

  it("fills an empty environ with exactly Python's keys", () => {
    const env: PartialEnvironment = {};
    setupTestingDefaults(env);
    const { "wsgi.input": input, "wsgi.errors": errors, ...rest } = env;
    assert.deepEqual(rest, {
      SERVER_NAME: "127.0.0.1",
      SERVER_PROTOCOL: "HTTP/1.0",
      HTTP_HOST: "127.0.0.1",
      REQUEST_METHOD: "GET",
      SCRIPT_NAME: "",
      PATH_INFO: "/",
      "wsgi.version": [1, 0],
      "wsgi.run_once": false,
      "wsgi.multithread": false,
      "wsgi.multiprocess": false,
      "wsgi.url_scheme": "http",
      SERVER_PORT: "80",
    });
    assert.ok(input instanceof BytesInput);
    assert.equal(input.read().length, 0, "wsgi.input is empty");
    assert.ok(errors instanceof StringErrors);
    assert.equal(errors.getValue(), "");
  });

  it("gives every environ its own streams and version array", () => {
    const a: PartialEnvironment = {};
    const b: PartialEnvironment = {};
    setupTestingDefaults(a);
    setupTestingDefaults(b);
    assert.notEqual(a["wsgi.input"], b["wsgi.input"]);
    assert.notEqual(a["wsgi.errors"], b["wsgi.errors"]);
    assert.notEqual(a["wsgi.version"], b["wsgi.version"]);
  });

  // Python leaves the other one out; WSGIEnvironment, which the signature
  // narrows to, has both.
  it("fills the other of SCRIPT_NAME and PATH_INFO with '' when one of them is present", () => {
    const withScript: PartialEnvironment = { SCRIPT_NAME: "/app" };
    setupTestingDefaults(withScript);
    assert.equal(withScript.SCRIPT_NAME, "/app");
    assert.equal(withScript.PATH_INFO, "");

    const withPath: PartialEnvironment = { PATH_INFO: "/x" };
    setupTestingDefaults(withPath);
    assert.equal(withPath.PATH_INFO, "/x");
    assert.equal(withPath.SCRIPT_NAME, "");
  });

  it("copies SERVER_NAME into HTTP_HOST whatever it is", () => {
    const env: PartialEnvironment = { SERVER_NAME: undefined };
    setupTestingDefaults(env);
    assert.ok("HTTP_HOST" in env);
    assert.equal(env.HTTP_HOST, undefined);
  });

  it("picks SERVER_PORT from an existing wsgi.url_scheme, and none for other schemes", () => {
    const https: PartialEnvironment = { "wsgi.url_scheme": "https" };
    setupTestingDefaults(https);
    assert.equal(https.SERVER_PORT, "443");

    const ftp: PartialEnvironment = { "wsgi.url_scheme": "ftp" };
    setupTestingDefaults(ftp);
    assert.ok(!("SERVER_PORT" in ftp));

    const kept: PartialEnvironment = { HTTPS: "on", SERVER_PORT: "8443" };
    setupTestingDefaults(kept);
    assert.equal(kept.SERVER_PORT, "8443");
  });

  it("works on an environ without a prototype", () => {
    const env: PartialEnvironment = Object.create(null);
    setupTestingDefaults(env);
    assert.equal(env.REQUEST_METHOD, "GET");
  });

  it("returns undefined", () => {
    assert.equal(setupTestingDefaults({}), undefined);
  });

  it("throws a TypeError when environ is not an object", () => {
    for (const [bad, shown] of [
      [null, "null"],
      [undefined, "undefined"],
      ["env", "'env'"],
      [[], "[]"],
    ] as const) {
      assert.throws(() => setupTestingDefaults(untyped(bad)), {
        name: "TypeError",
        message: `environ must be an object: ${shown}`,
      });
    }
  });
});

describe("guessScheme", () => {
  // Python: UtilityTests.testGuessScheme
  const schemes: Array<[PartialEnvironment, string]> = [
    [{}, "http"],
    [{ HTTPS: "foo" }, "http"],
    [{ HTTPS: "on" }, "https"],
    [{ HTTPS: "yes" }, "https"],
    [{ HTTPS: "1" }, "https"],
  ];

  // Not in Python's tests: only the exact strings count.
  const moreSchemes: Array<[PartialEnvironment, string]> = [
    [{ HTTPS: "ON" }, "http"],
    [{ HTTPS: "Yes" }, "http"],
    [{ HTTPS: "" }, "http"],
    [{ HTTPS: "off" }, "http"],
    [{ HTTPS: untyped(1) }, "http"],
    [{ HTTPS: untyped(true) }, "http"],
    [{ "wsgi.url_scheme": "https" }, "http"],
  ];

  for (const [env, scheme] of schemes) {
    it(`guesses ${scheme} from ${JSON.stringify(env)} (testGuessScheme)`, () => {
      assert.equal(guessScheme(env), scheme);
    });
  }
  for (const [env, scheme] of moreSchemes) {
    it(`guesses ${scheme} from ${JSON.stringify(env)}`, () => {
      assert.equal(guessScheme(env), scheme);
    });
  }

  it("throws a TypeError when environ is not an object", () => {
    assert.throws(() => guessScheme(untyped(undefined)), {
      name: "TypeError",
      message: "environ must be an object: undefined",
    });
  });
});

describe("isHopByHop", () => {
  /** Python's str.title() for these ASCII names. */
  const title = (s: string): string =>
    s
      .toLowerCase()
      .replace(/(^|[^a-z])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
  const variants = (name: string): string[] => [
    name,
    title(name),
    name.toUpperCase(),
    name.toLowerCase(),
  ];

  // Python: UtilityTests.testHopByHop
  const hopByHop =
    "Connection Keep-Alive Proxy-Authenticate Proxy-Authorization TE Trailers Transfer-Encoding Upgrade".split(
      " ",
    );
  // Not comprehensive, just a few random header names (Python's comment).
  const endToEnd = "Accept Cache-Control Date Pragma Trailer Via Warning".split(" ");

  for (const name of hopByHop) {
    it(`recognises ${name} in any case (testHopByHop)`, () => {
      for (const alt of variants(name)) {
        assert.equal(isHopByHop(alt), true, alt);
      }
    });
  }
  for (const name of endToEnd) {
    it(`does not take ${name} for hop-by-hop (testHopByHop)`, () => {
      for (const alt of variants(name)) {
        assert.equal(isHopByHop(alt), false, alt);
      }
    });
  }

  it("answers false for the empty string and near misses", () => {
    for (const name of ["", "connection ", " te", "Proxy-Connection", "Keep_Alive"]) {
      assert.equal(isHopByHop(name), false, JSON.stringify(name));
    }
  });

  it("lower-cases as Python's str.lower() does (KELVIN SIGN becomes k)", () => {
    assert.equal(isHopByHop("\u212Aeep-Alive"), true);
  });

  it("throws a TypeError when headerName is not a string", () => {
    assert.throws(() => isHopByHop(untyped(42)), {
      name: "TypeError",
      message: "headerName must be a string: 42",
    });
    assert.throws(() => isHopByHop(untyped(undefined)), {
      name: "TypeError",
      message: "headerName must be a string: undefined",
    });
  });
});

describe("FileWrapper", () => {
  // Python: UtilityTests.checkFW with compare_generic_iter, used by testFileWrapper.
  function checkFw(data: string, size: number, match: string[]): void {
    const makeIt = (): FileWrapper => new FileWrapper(new MemoryFile(bytes(data)), size);

    // compare_generic_iter: the wrapper is its own iterator, yields exactly `match`.
    const it0 = makeIt();
    assert.equal(it0[Symbol.iterator](), it0);
    for (const item of match) {
      const step = it0.next();
      assert.equal(step.done, false);
      assert.equal(text(step.value ?? new Uint8Array()), item);
    }
    assert.equal(it0.next().done, true, "too many items from next()");

    const it = makeIt();
    const file = it.filelike as MemoryFile;
    assert.equal(file.closed, false);
    for (const _item of it) {
      // drain
    }
    assert.equal(file.closed, false);
    assert.ok(it.close);
    it.close();
    assert.equal(file.closed, true);
  }

  it("reads blocks of blksize until the file is empty (testFileWrapper)", () => {
    checkFw("xyz".repeat(50), 120, ["xyz".repeat(40), "xyz".repeat(10)]);
  });

  it("reads 8192 bytes at a time by default", () => {
    const file = new MemoryFile(pattern(20000));
    const wrapper = new FileWrapper(file);
    assert.equal(wrapper.blksize, 8192);
    assert.equal(wrapper.filelike, file);
    assert.deepEqual(
      [...wrapper].map((chunk) => chunk.length),
      [8192, 8192, 3616],
    );
    assert.deepEqual(file.reads, [8192, 8192, 8192, 8192]);
  });

  it("yields nothing for an empty file", () => {
    assert.deepEqual([...new FileWrapper(new MemoryFile(new Uint8Array()))], []);
  });

  it("cannot be restarted and stops reading once exhausted", () => {
    const file = new MemoryFile(bytes("abcdef"));
    const wrapper = new FileWrapper(file, 4);
    assert.deepEqual([...wrapper].map(text), ["abcd", "ef"]);
    assert.deepEqual([...wrapper], []);
    assert.equal(wrapper.next().done, true);
    assert.deepEqual(file.reads, [4, 4, 4]);
  });

  it("continues where a partial iteration stopped", () => {
    const wrapper = new FileWrapper(new MemoryFile(bytes("abcdef")), 2);
    for (const chunk of wrapper) {
      assert.equal(text(chunk), "ab");
      break;
    }
    assert.deepEqual([...wrapper].map(text), ["cd", "ef"]);
  });

  it("has no close at all when filelike has none", () => {
    const filelike: FileLike = { read: () => new Uint8Array() };
    const wrapper = new FileWrapper(filelike);
    assert.equal("close" in wrapper, false);
    assert.equal(wrapper.close, undefined);
  });

  it("has its own close, bound to filelike, when filelike has one", () => {
    const file = new MemoryFile(bytes("x"));
    const wrapper = new FileWrapper(file);
    assert.ok(Object.hasOwn(wrapper, "close"));
    const { close } = wrapper;
    assert.ok(close);
    close(); // detached: still closes the right object
    assert.equal(file.closed, true);
  });

  it("is a FileWrapperClass for wsgi.file_wrapper", () => {
    const cls: FileWrapperClass = FileWrapper;
    const wrapper = new cls(new MemoryFile(bytes("abc")), 2);
    assert.deepEqual([...wrapper].map(text), ["ab", "c"]);
  });

  it("throws a TypeError when filelike has no read() method", () => {
    const cases: Array<[unknown, string]> = [
      [{}, "filelike must have a read() method: {}"],
      [{ read: "x" }, "filelike must have a read() method: { read: 'x' }"],
      [null, "filelike must be an object: null"],
      ["data", "filelike must be an object: 'data'"],
    ];
    for (const [bad, message] of cases) {
      assert.throws(() => new FileWrapper(untyped(bad)), { name: "TypeError", message });
    }
  });

  it("throws a TypeError when filelike.close is not a function", () => {
    assert.throws(() => new FileWrapper(untyped({ read: () => new Uint8Array(), close: true })), {
      name: "TypeError",
      message: "filelike.close must be a function when present: true",
    });
  });

  it("throws a TypeError when blksize is not a positive integer", () => {
    for (const [bad, shown] of [
      [0, "0"],
      [-1, "-1"],
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      ["8", "'8'"],
      [null, "null"],
    ] as const) {
      assert.throws(() => new FileWrapper(new MemoryFile(new Uint8Array()), untyped(bad)), {
        name: "TypeError",
        message: `blksize must be a positive integer: ${shown}`,
      });
    }
  });

  it("throws a TypeError when filelike.read() returns something other than bytes", () => {
    const wrapper = new FileWrapper(untyped({ read: () => "text" }));
    assert.throws(() => wrapper.next(), {
      name: "TypeError",
      message: "filelike.read() result must be a Uint8Array: 'text'",
    });
  });

  it("iterates a real file from openFile in blksize chunks and closes its fd", () => {
    const data = pattern(10000);
    const file = openFile(tempFile(data));
    const wrapper = new FileWrapper(file, 4096);
    const chunks = [...wrapper];
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [4096, 4096, 1808],
    );
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
    assert.equal(isOpen(file.fd), true);
    assert.ok(wrapper.close);
    wrapper.close();
    assert.equal(file.closed, true);
    assert.equal(isOpen(file.fd), false);
  });
});

describe("openFile", () => {
  it("reads at most size bytes from the current position", () => {
    const file = openFile(tempFile(bytes("hello, world")));
    try {
      assert.equal(text(file.read(5)), "hello");
      assert.equal(text(file.read(2)), ", ");
      assert.equal(text(file.read(100)), "world");
      assert.equal(file.read(100).length, 0);
      assert.equal(file.read(0).length, 0);
    } finally {
      file.close();
    }
  });

  it("reads everything left when size is missing or negative", () => {
    for (const size of [undefined, -1, -100]) {
      const file = openFile(tempFile(bytes("abcdef")));
      try {
        file.read(2);
        assert.equal(text(file.read(size)), "cdef");
        assert.equal(file.read(size).length, 0);
      } finally {
        file.close();
      }
    }
  });

  it("reads files larger than one OS read whole or in exact sizes", () => {
    const data = pattern(200_000);
    const path = tempFile(data);
    const whole = openFile(path);
    const parts = openFile(path);
    try {
      assert.deepEqual(Buffer.from(whole.read()), Buffer.from(data));
      const first = parts.read(150_000);
      assert.equal(first.length, 150_000);
      const rest = parts.read(150_000);
      assert.equal(rest.length, 50_000);
      assert.deepEqual(Buffer.concat([first, rest]), Buffer.from(data));
    } finally {
      whole.close();
      parts.close();
    }
  });

  it("shares the file position with its fd, as sendfile() needs", () => {
    const file = openFile(tempFile(bytes("0123456789")));
    try {
      file.read(3);
      const buf = Buffer.alloc(2);
      assert.equal(readSync(file.fd, buf, 0, 2, null), 2);
      assert.equal(buf.toString("latin1"), "34");
      assert.equal(text(file.read(2)), "56");
    } finally {
      file.close();
    }
  });

  it("accepts a file: URL", () => {
    const file = openFile(pathToFileURL(tempFile(bytes("by url"))));
    try {
      assert.equal(text(file.read()), "by url");
    } finally {
      file.close();
    }
  });

  it("exposes its fd and closes it once, however often close() is called", () => {
    const file = openFile(tempFile(bytes("x")));
    assert.equal(typeof file.fd, "number");
    assert.equal(file.closed, false);
    assert.equal(isOpen(file.fd), true);
    file.close();
    assert.equal(file.closed, true);
    assert.equal(isOpen(file.fd), false);
    file.close();
    assert.equal(file.closed, true);
  });

  it("throws when read() comes after close()", () => {
    const path = tempFile(bytes("x"));
    const file = openFile(path);
    file.close();
    assert.throws(() => file.read(1), {
      name: "Error",
      message: `read() was called on a closed file: '${path}'`,
    });
  });

  it("throws a TypeError when size is not an integer", () => {
    const file = openFile(tempFile(bytes("x")));
    try {
      assert.throws(() => file.read(1.5), {
        name: "TypeError",
        message: "size must be an integer: 1.5",
      });
      assert.throws(() => file.read(untyped("1")), {
        name: "TypeError",
        message: "size must be an integer: '1'",
      });
      assert.equal(text(file.read(1)), "x", "nothing was read by the failed calls");
    } finally {
      file.close();
    }
  });

  it("throws a TypeError when path is not a string or URL", () => {
    for (const [bad, shown] of [
      [42, "42"],
      [undefined, "undefined"],
      [null, "null"],
    ] as const) {
      assert.throws(() => openFile(untyped(bad)), {
        name: "TypeError",
        message: `path must be a string or a URL: ${shown}`,
      });
    }
  });

  it("lets Node's error through for a missing file", () => {
    assert.throws(() => openFile(join(dir, "missing.bin")), { code: "ENOENT" });
  });
});
