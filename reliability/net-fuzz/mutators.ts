/**
 * Mutations of the seed requests: header-level ones on the request models
 * (duplicated, removed or conflicting framing fields, smuggling shapes, bad
 * chunk sizes, overlong lines, odd versions, methods, targets and hosts), then
 * byte-level ones on the bytes (flips, inserted CR, LF, NUL or obs-fold, bare
 * LF or CR line endings, deletions, truncation).
 *
 * And mutations that keep a request valid (`VALID_MUTATORS`: the case of names,
 * OWS, unusual but valid fields, targets, hosts, methods and chunkings): a
 * correct server serves what they make, so they look for wrong refusals as the
 * others look for smuggling. A quarter of the inputs come from the hostile
 * corpus; of the rest, three in four get only valid mutations.
 *
 * Every input is a pure function of the run's seed and its number, so one input
 * can be rebuilt alone (`--only N`).
 */

import { Random } from "./prng.js";
import { chunk, marker, type RequestModel, type Seed, seeds, serialize } from "./seeds.js";

/** One input: what is sent on one connection, and how. */
export interface FuzzInput {
  /** Its number in the run. */
  n: number;
  /** The seed it came from. */
  seed: string;
  /** The mutations applied, in order. */
  mutations: string[];
  /** The bytes (latin-1), written in order; the last is the marker request. */
  segments: string[];
  /** Wait for a response after the first segment before writing the rest. */
  pause: boolean;
  /** Half-close once everything is written (otherwise the server's timeouts end it). */
  halfClose: boolean;
  /** Cut the bytes into this many writes (1: one write). */
  writes: number;
}

type HeaderMutator = (r: RequestModel, rng: Random, n: number) => string;
type ByteMutator = (s: string, rng: Random) => [string, string];

const CL = "Content-Length";
const TE = "Transfer-Encoding";

function find(r: RequestModel, name: string): number {
  return r.headers.findIndex(([h]) => h.toLowerCase() === name.toLowerCase());
}

function setHeader(r: RequestModel, name: string, value: string): void {
  const at = find(r, name);
  if (at === -1) r.headers.push([name, value]);
  else r.headers[at] = [name, value];
}

function removeHeader(r: RequestModel, name: string): void {
  r.headers = r.headers.filter(([h]) => h.toLowerCase() !== name.toLowerCase());
}

function isChunked(r: RequestModel): boolean {
  return find(r, TE) !== -1;
}

/** Hide the marker inside the body of `r`, framed correctly for now. */
function markerBody(r: RequestModel, n: number): void {
  const inner = marker(n, "-body");
  if (isChunked(r)) {
    r.body = chunk([inner]);
  } else {
    r.body = inner;
    setHeader(r, CL, String(inner.length));
  }
}

const CL_VALUES = (len: number): string[] => [
  "0",
  String(len + 1),
  String(Math.max(0, len - 1)),
  `${len}, ${len}`,
  `${len},${len + 1}`,
  `+${len}`,
  `-${len}`,
  ` ${len}`,
  `${len} `,
  `0${len}`,
  `0x${len.toString(16)}`,
  `${len}.0`,
  "99999999999999999999999",
  "",
  `${len}\t`,
  "4294967296",
  "1e2",
  String(70000),
];

const TE_VALUES = [
  "chunked",
  "Chunked",
  "CHUNKED",
  "chunked ",
  " chunked",
  "\tchunked",
  "xchunked",
  "chunked, identity",
  "identity, chunked",
  "gzip, chunked",
  "chunked, chunked",
  "chunked,",
  ",chunked",
  '"chunked"',
  "chunked;q=1",
  "chunk",
  "identity",
  "",
  "chunked\x0b",
  "\x0cchunked",
  "chunked\x00",
];

const TE_NAMES = [
  "Transfer-Encoding",
  "transfer-encoding",
  "TRANSFER-ENCODING",
  "Transfer_Encoding",
  "Transfer-Encoding ",
  "Transfer-Encoding\t",
  " Transfer-Encoding",
  "X-Transfer-Encoding",
  "Transfer-Encodings",
];

const CHUNK_SIZES = [
  "-1",
  "0x5",
  "5 ",
  " 5",
  "+5",
  "5;",
  '5;a="b',
  "5;a=b c",
  "5\tx",
  "ffffffffffffffffffff",
  "10000000000000005",
  "",
  "g",
  "5\n",
  "0000000000000000000000000005",
  "5;a\x00",
  "5 ;a",
  "5;a=\x7f",
];

const VERSIONS = [
  "HTTP/1.0",
  "HTTP/1.1",
  "HTTP/2.0",
  "HTTP/1.2",
  "HTTP/0.9",
  "HTTP/3.0",
  "http/1.1",
  "HTTP/1.10",
  "HTTP/1",
  "HTTP/11",
  "HTTP/1.1 ",
  "HTTP /1.1",
  "HTTPS/1.1",
  "",
];

const METHODS = [
  "get",
  "GE T",
  "G\x00ET",
  "PATCH",
  "PUT",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "HEAD",
  "PRI",
  "CONNECT",
  "FOO",
  "M-SEARCH",
  "GET\t",
  "",
  "POST",
  "GET".repeat(40),
];

const TARGETS = [
  "*",
  "http://evil.example/x",
  "HTTP://localhost:80/x?y",
  "//double",
  "/a b",
  "/a\tb",
  "/%00",
  "/\x7f",
  "/\xe9",
  "/?",
  "",
  "localhost:80",
  "/smuggled-decoy",
  "/a#frag",
  "/%zz",
  "/..%2f..%2fetc",
];

const HOSTS = [
  "",
  "local host",
  "localhost:99999",
  "[::1]:80",
  "a@b",
  "localhost\x00",
  "localhost/",
  "évil",
  "localhost:",
  "localhost, evil",
  "[::1",
];

const SPECIALS = [
  "\r",
  "\n",
  "\x00",
  "\r\n",
  "\r\n ",
  " ",
  "\t",
  "\x0b",
  "\x0c",
  ":",
  "\x7f",
  "\xff",
];

const HEADER_MUTATORS: Record<string, HeaderMutator> = {
  duplicateHeader(r, rng) {
    if (r.headers.length === 0) return "no header";
    const h = rng.pick(r.headers);
    r.headers.splice(rng.int(r.headers.length + 1), 0, [h[0], h[1]]);
    return h[0];
  },
  removeHeader(r, rng) {
    if (r.headers.length === 0) return "no header";
    const [h] = r.headers.splice(rng.int(r.headers.length), 1);
    return h?.[0] ?? "";
  },
  contentLength(r, rng) {
    const value = rng.pick(CL_VALUES(r.body.length));
    if (rng.chance(0.5)) setHeader(r, CL, value);
    else r.headers.splice(rng.int(r.headers.length + 1), 0, [CL, value]);
    return JSON.stringify(value);
  },
  clAndTe(r, rng, n) {
    // The classic smuggling shapes: both framings, in either order, with a body
    // in which the other framing reads a hidden request.
    const inner = marker(n, "-inner");
    const chunked = `0\r\n\r\n${inner}`;
    const shape = rng.int(3);
    removeHeader(r, CL);
    removeHeader(r, TE);
    if (shape === 0) {
      // CL.TE: Content-Length covers everything, chunked ends after "0\r\n\r\n".
      r.headers.push([CL, String(chunked.length)], [TE, rng.pick(TE_VALUES)]);
      r.body = chunked;
      return "CL.TE";
    }
    if (shape === 1) {
      // TE.CL: chunked covers the hidden request, Content-Length stops before it.
      const size = inner.length.toString(16);
      r.body = `${size}\r\n${inner}\r\n0\r\n\r\n`;
      r.headers.push([TE, rng.pick(TE_VALUES)], [CL, String(size.length + 2)]);
      return "TE.CL";
    }
    // TE.TE: two Transfer-Encoding fields, one of them obfuscated.
    r.headers.push([TE, "chunked"], [rng.pick(TE_NAMES), rng.pick(TE_VALUES)]);
    if (rng.chance(0.5)) r.headers.reverse();
    r.body = chunked;
    return "TE.TE";
  },
  transferEncoding(r, rng) {
    const name = rng.pick(TE_NAMES);
    const value = rng.pick(TE_VALUES);
    if (!isChunked(r)) r.body = chunk([r.body || "data"]);
    if (rng.chance(0.5)) removeHeader(r, TE);
    r.headers.splice(rng.int(r.headers.length + 1), 0, [name, value]);
    return JSON.stringify(`${name}: ${value}`);
  },
  chunkSize(r, rng) {
    if (!isChunked(r)) {
      removeHeader(r, CL);
      r.headers.push([TE, "chunked"]);
      r.body = chunk(["hello", "world"]);
    }
    const lines = r.body.split("\r\n");
    // Chunk-size lines sit at even indexes until the last chunk.
    const at = 2 * rng.int(Math.max(1, Math.floor(lines.length / 2)));
    const value = rng.chance(0.8)
      ? rng.pick(CHUNK_SIZES)
      : (Number.parseInt(lines[at] ?? "0", 16) + rng.pick([-1, 1, 16])).toString(16);
    lines[at] = value;
    r.body = lines.join("\r\n");
    return JSON.stringify(value);
  },
  chunkData(r, rng) {
    if (!isChunked(r)) return "not chunked";
    const cut = rng.int(3);
    if (cut === 0) r.body = r.body.replace(/\r\n(.)/s, "\r\nX$1");
    else if (cut === 1) r.body = r.body.replace(/0\r\n\r\n$/, "");
    else r.body = r.body.replace(/\r\n0\r\n/, "\r\n0\r\nX-Trailer: \x01\r\n");
    return ["longer", "no last chunk", "bad trailer"][cut] as string;
  },
  overlongLine(r, rng) {
    const size = rng.pick([4096, 17000, 70000]);
    const where = rng.int(3);
    if (where === 0) r.target = `/${"a".repeat(size)}`;
    else if (where === 1) r.headers.push(["X-Long", "b".repeat(size)]);
    else r.headers.push([`X-${"c".repeat(size)}`, "1"]);
    return `${["target", "value", "name"][where]} ${size}`;
  },
  manyHeaders(r, rng) {
    const count = rng.pick([99, 100, 101, 150]);
    for (let i = 0; i < count; i++) r.headers.push([`X-H${i}`, "v"]);
    return String(count);
  },
  version(r, rng) {
    r.version = rng.pick(VERSIONS);
    return JSON.stringify(r.version);
  },
  method(r, rng) {
    r.method = rng.pick(METHODS);
    return JSON.stringify(r.method.slice(0, 20));
  },
  target(r, rng) {
    r.target = rng.pick(TARGETS);
    return JSON.stringify(r.target);
  },
  host(r, rng) {
    const value = rng.pick(HOSTS);
    if (rng.chance(0.3)) r.headers.push(["Host", value]);
    else setHeader(r, "Host", value);
    return JSON.stringify(value);
  },
  connection(r, rng) {
    const value = rng.pick(["close", "keep-alive", "Upgrade", "close, keep-alive", "CLOSE", "te"]);
    setHeader(r, "Connection", value);
    if (value === "Upgrade") setHeader(r, "Upgrade", rng.pick(["websocket", "h2c"]));
    return value;
  },
  expect(r, rng) {
    const value = rng.pick(["100-continue", "100-Continue", "foo", "100-continue, foo", ""]);
    setHeader(r, "Expect", value);
    return JSON.stringify(value);
  },
  spaceBeforeColon(r, rng) {
    if (r.headers.length === 0) return "no header";
    const at = rng.int(r.headers.length);
    const h = r.headers[at] as [string, string];
    r.headers[at] = [`${h[0]}${rng.pick([" ", "\t"])}`, h[1]];
    return h[0];
  },
  obsFold(r, rng) {
    if (r.headers.length === 0) return "no header";
    const at = rng.int(r.headers.length);
    const h = r.headers[at] as [string, string];
    const fold = `\r\n${rng.pick([" ", "\t"])}`;
    if (rng.chance(0.5)) r.headers[at] = [h[0], `${h[1]}${fold}folded`];
    // A field line that begins with whitespace, after the previous one.
    else r.headers[at] = [`${fold.slice(2)}${h[0]}`, h[1]];
    return h[0];
  },
  markerInBody(r, _rng, n) {
    markerBody(r, n);
    return "";
  },
};

function splice(s: string, at: number, remove: number, insert: string): string {
  return s.slice(0, at) + insert + s.slice(at + remove);
}

const BYTE_MUTATORS: Record<string, ByteMutator> = {
  flipBit(s, rng) {
    const at = rng.int(s.length);
    const c = s.charCodeAt(at) ^ (1 << rng.int(8));
    return [splice(s, at, 1, String.fromCharCode(c)), `@${at}`];
  },
  setByte(s, rng) {
    const at = rng.int(s.length);
    const c = rng.chance(0.5) ? rng.pick(SPECIALS).slice(0, 1) : String.fromCharCode(rng.int(256));
    return [splice(s, at, 1, c), `@${at}=${c.charCodeAt(0)}`];
  },
  insert(s, rng) {
    const at = rng.int(s.length + 1);
    const c = rng.pick(SPECIALS);
    return [splice(s, at, 0, c), `@${at}+${JSON.stringify(c)}`];
  },
  deleteRange(s, rng) {
    const at = rng.int(s.length);
    const len = 1 + rng.int(8);
    return [splice(s, at, len, ""), `@${at}-${len}`];
  },
  duplicateRange(s, rng) {
    const at = rng.int(s.length);
    const len = 1 + rng.int(16);
    return [splice(s, at, 0, s.slice(at, at + len)), `@${at}x${len}`];
  },
  truncate(s, rng) {
    const at = rng.int(s.length);
    return [s.slice(0, at), `@${at}`];
  },
  lineEnding(s, rng) {
    // One CRLF, or all of them, as a bare LF or a bare CR.
    const to = rng.pick(["\n", "\r", "\n\r", "\r\r\n"]);
    if (rng.chance(0.3)) return [s.replaceAll("\r\n", to), `all ${JSON.stringify(to)}`];
    const ends = [...s.matchAll(/\r\n/g)].map((m) => m.index ?? 0);
    if (ends.length === 0) return [s, "no CRLF"];
    const at = rng.pick(ends);
    return [splice(s, at, 2, to), `@${at} ${JSON.stringify(to)}`];
  },
};

/** Decode a chunked body the seeds wrote (well-formed): its data and its trailer lines. */
function dechunk(body: string): { data: string; trailer: string } {
  let data = "";
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    const size = Number.parseInt(body.slice(at, eol).split(";")[0] ?? "0", 16);
    at = eol + 2;
    if (!(size > 0)) break;
    data += body.slice(at, at + size);
    at += size + 2;
  }
  return { data, trailer: body.slice(at, -2) };
}

const VALID_FIELDS: Array<[string, string]> = [
  ["X-Empty", ""],
  ["X-Tchar-!#$%&'*+.^_`|~", "v"],
  ["X-Obs-Text", "caf\xe9 \xff\x80"],
  ["X-Quoted", '"a, b; c=\\"d\\""'],
  ["X-List", "a,,b, ,c"],
  ["Accept", "text/html;q=0.9, */*;q=0.1"],
  ["Cookie", "a=1; b=2"],
  ["Via", "1.1 proxy.example"],
  ["Cache-Control", "no-cache"],
  ["X-Tab", "a\tb"],
  ["X-Forwarded-For", "192.0.2.1"],
  ["X_Underscore", "dropped from the environ, still served"],
  ["TE", "trailers"],
  ["Keep-Alive", "timeout=5"],
  ["Upgrade-Insecure-Requests", "1"],
];

const VALID_TARGETS = [
  "/",
  "/a/../b",
  "/%41%42%e9",
  "/a;b=c",
  "/@:!$&'()*+,;=",
  "/~user/",
  "/a?",
  "/a?b=c&d=%20",
  "/a??b/?",
  "//double",
  "/a/./b",
  "http://localhost/x?y=1",
  "HTTP://LOCALHOST:80/x",
  "https://other.example/x",
];

const VALID_HOSTS = [
  "localhost:80",
  "127.0.0.1",
  "[::1]",
  "[::1]:8080",
  "a-b.example",
  "xn--bcher-kva.example",
  "",
  "LOCALHOST",
  "a_b~c.example",
];

/** Mutations after which a request is still valid and well-formed (RFC 9112): it must be served. */
const VALID_MUTATORS: Record<string, HeaderMutator> = {
  nameCase(r, rng) {
    if (r.headers.length === 0) return "no header";
    const at = rng.int(r.headers.length);
    const [name, value] = r.headers[at] as [string, string];
    const cased = [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase()));
    r.headers[at] = [cased.join(""), value];
    return cased.join("");
  },
  ows(r, rng) {
    if (r.headers.length === 0) return "no header";
    const at = rng.int(r.headers.length);
    const [name, value] = r.headers[at] as [string, string];
    // A space or tab before, a space after (llhttp refuses a tab after a Content-Length).
    const before = rng.pick(["\t", "  ", " \t"]);
    const after = rng.pick([" ", "   "]);
    r.headers[at] = [name, `${before}${value}${after}`];
    return name;
  },
  validField(r, rng) {
    const field = rng.pick(VALID_FIELDS);
    r.headers.splice(rng.int(r.headers.length + 1), 0, [field[0], field[1]]);
    return field[0];
  },
  longField(r, rng) {
    // Long, but within FUZZ_OPTIONS.maxHeaderSize (16 KiB).
    const size = rng.pick([1000, 4000, 12000]);
    setHeader(r, "X-Long", "v".repeat(size));
    return String(size);
  },
  fieldsWithinLimit(r, rng) {
    // Up to FUZZ_OPTIONS.maxHeaders (100), not past it.
    const count = rng.int(Math.max(1, 100 - r.headers.length));
    for (let i = 0; i < count; i++) r.headers.push([`X-F${i}`, String(i)]);
    return String(count);
  },
  rechunk(r, rng) {
    // HTTP/1.0 may not carry Transfer-Encoding (RFC 9112 §6.1).
    if (r.version !== "HTTP/1.1") return "HTTP/1.0";
    const chunked = isChunked(r);
    const { data, trailer } = chunked ? dechunk(r.body) : { data: r.body, trailer: "" };
    removeHeader(r, CL);
    removeHeader(r, TE);
    r.headers.push([TE, rng.pick(["chunked", "Chunked", "CHUNKED"])]);
    let body = "";
    for (let at = 0; at < data.length; ) {
      const size = 1 + rng.int(Math.max(1, data.length - at));
      const hex = rng.chance(0.5) ? size.toString(16).toUpperCase() : `000${size.toString(16)}`;
      const ext = rng.pick(["", ";a", ";a=b", ';name="quoted value"', ";a=b;c"]);
      body += `${hex}${ext}\r\n${data.slice(at, at + size)}\r\n`;
      at += size;
    }
    const last = rng.pick(["0", "000", "0;end=1"]);
    const fields = rng.chance(0.5) ? `${trailer}X-Trailer: ${rng.int(100)}\r\n` : trailer;
    r.body = `${body}${last}\r\n${fields}\r\n`;
    return `${data.length} bytes`;
  },
  contentLength(r, rng) {
    const data = isChunked(r) ? dechunk(r.body).data : r.body;
    removeHeader(r, TE);
    removeHeader(r, CL);
    const value = rng.chance(0.3) ? `00${data.length}` : String(data.length);
    r.headers.push([CL, value]);
    r.body = data;
    return value;
  },
  method(r, rng) {
    r.method = rng.pick(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);
    if (r.method === "OPTIONS" && rng.chance(0.5)) r.target = "*";
    return r.method;
  },
  target(r, rng) {
    r.target = rng.pick(VALID_TARGETS);
    return JSON.stringify(r.target);
  },
  host(r, rng) {
    const value = rng.pick(VALID_HOSTS);
    setHeader(r, "Host", value);
    return JSON.stringify(value);
  },
  http10(r, rng) {
    if (isChunked(r)) VALID_MUTATORS.contentLength?.(r, rng, 0);
    r.version = "HTTP/1.0";
    if (rng.chance(0.5)) setHeader(r, "Connection", rng.pick(["keep-alive", "Keep-Alive"]));
    return r.headers.some(([n]) => n === "Connection") ? "keep-alive" : "";
  },
  expectContinue(r, rng) {
    if (r.version !== "HTTP/1.1") return "HTTP/1.0";
    const value = rng.pick(["100-continue", "100-Continue", "100-CONTINUE"]);
    setHeader(r, "Expect", value);
    return value;
  },
  connection(r, rng) {
    const value = rng.pick(["keep-alive", "Keep-Alive", "close", "keep-alive, x-custom", "TE"]);
    setHeader(r, "Connection", value);
    return value;
  },
};

const HEADER_NAMES = Object.keys(HEADER_MUTATORS);
const VALID_NAMES = Object.keys(VALID_MUTATORS);
const BYTE_NAMES = Object.keys(BYTE_MUTATORS);

/** The seeds, built once: the hostile corpus apart from the valid requests. */
const SEEDS = seeds();
const HOSTILE_SEEDS = SEEDS.filter((s) => s.raw !== undefined);
const VALID_SEEDS = SEEDS.filter((s) => s.raw === undefined);

function cloneRequest(r: RequestModel): RequestModel {
  return { ...r, headers: r.headers.map(([n, v]) => [n, v]) };
}

/** Build input `n` of the run seeded `seed`. */
export function generate(seed: string, n: number): FuzzInput {
  const rng = new Random(`${seed}/${n}`);
  const chosen = rng.chance(0.25) ? rng.pick(HOSTILE_SEEDS) : rng.pick(VALID_SEEDS);
  const mutations: string[] = [];
  let segments: string[];
  if (chosen.raw === undefined && rng.chance(0.75)) {
    // Valid mutations only: every framed request must be served.
    const requests = chosen.requests.map(cloneRequest);
    const count = 1 + rng.int(3);
    for (let i = 0; i < count; i++) {
      const target = rng.chance(0.8) ? 0 : rng.int(requests.length);
      const name = rng.pick(VALID_NAMES);
      const what = VALID_MUTATORS[name]?.(requests[target] as RequestModel, rng, n) ?? "";
      mutations.push(`valid:${name}[${target}] ${what}`.trim());
    }
    segments = requests.map(serialize);
  } else {
    segments = invalidMutations(chosen, rng, n, mutations);
  }
  segments.push(marker(n));
  return {
    n,
    seed: chosen.name,
    mutations,
    segments,
    pause: chosen.pause === true && rng.chance(0.7),
    halfClose: !rng.chance(0.02),
    writes: rng.chance(0.15) ? 2 + rng.int(6) : 1,
  };
}

/** The bytes of `chosen` after header- and byte-level mutations, named in `mutations`. */
function invalidMutations(chosen: Seed, rng: Random, n: number, mutations: string[]): string[] {
  let segments: string[];
  // About one input in twenty goes unmutated: valid requests must then be served,
  // the marker included, which checks the harness as much as the server.
  const count = rng.chance(0.05) ? 0 : 1 + Math.min(4, Math.floor(-Math.log2(rng.next() + 1e-9)));
  if (chosen.raw === undefined) {
    const requests = chosen.requests.map(cloneRequest);
    for (let i = 0; i < count; i++) {
      if (rng.chance(0.55)) {
        const target = rng.chance(0.8) ? 0 : rng.int(requests.length);
        const name = rng.pick(HEADER_NAMES);
        const what = HEADER_MUTATORS[name]?.(requests[target] as RequestModel, rng, n) ?? "";
        mutations.push(`${name}[${target}] ${what}`.trim());
      } else {
        mutations.push("bytes");
      }
    }
    segments = requests.map(serialize);
  } else {
    segments = [chosen.raw];
    for (let i = 0; i < count; i++) mutations.push("bytes");
  }
  // Byte-level mutations come last, on the bytes of one request each.
  for (let i = 0; i < mutations.length; i++) {
    if (mutations[i] !== "bytes") continue;
    const target = rng.chance(0.8) ? 0 : rng.int(segments.length);
    const name = rng.pick(BYTE_NAMES);
    const [bytes, what] = BYTE_MUTATORS[name]?.(segments[target] ?? "", rng) ?? ["", ""];
    segments[target] = bytes;
    mutations[i] = `${name}[${target}] ${what}`;
  }
  return segments;
}
