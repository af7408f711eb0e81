/**
 * The valid requests the network fuzzer starts from, as editable models (so that
 * header-level mutations stay meaningful), and how a model becomes bytes.
 *
 * Text is latin-1 throughout: one character per byte.
 */

import { HOSTILE } from "../../fixtures/hostile/corpus.js";

/** One request before it is written out. */
export interface RequestModel {
  method: string;
  target: string;
  version: string;
  /** Header fields in order; a name may repeat. */
  headers: Array<[string, string]>;
  /** The body exactly as sent (already chunk-encoded when chunked). */
  body: string;
}

/** A seed: one or more requests sent on one connection. */
export interface Seed {
  name: string;
  requests: RequestModel[];
  /** Send the first request alone and wait for its answer before the rest (keep-alive). */
  pause?: boolean;
  /** Raw bytes instead of models (the hostile corpus): only byte-level mutations apply. */
  raw?: string;
}

const HOST: [string, string] = ["Host", "localhost"];

/** Chunk-encode `parts`, with a final empty chunk and `trailer` fields. */
export function chunk(parts: string[], trailer = ""): string {
  return `${parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join("")}0\r\n${trailer}\r\n`;
}

/** A request line, fields and body as one string. */
export function serialize(r: RequestModel): string {
  const head = `${r.method} ${r.target} ${r.version}\r\n`;
  return `${head}${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n${r.body}`;
}

/** The marker request sent after every input: the application must see it only when it is legitimately pipelined. */
export function marker(n: number, where = ""): string {
  return `GET /smuggled-${n}${where} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
}

function get(target: string, extra: Array<[string, string]> = []): RequestModel {
  return { method: "GET", target, version: "HTTP/1.1", headers: [HOST, ...extra], body: "" };
}

function post(target: string, body: string, extra: Array<[string, string]> = []): RequestModel {
  return {
    method: "POST",
    target,
    version: "HTTP/1.1",
    headers: [HOST, ...extra, ["Content-Length", String(body.length)]],
    body,
  };
}

function chunkedPost(target: string, parts: string[], trailer = ""): RequestModel {
  return {
    method: "POST",
    target,
    version: "HTTP/1.1",
    headers: [HOST, ["Content-Type", "text/plain"], ["Transfer-Encoding", "chunked"]],
    body: chunk(parts, trailer),
  };
}

/** The valid seeds the brief lists, then the hostile corpus as raw seeds. */
export function seeds(): Seed[] {
  const form = "name=value&x=%21y";
  const list: Seed[] = [
    {
      name: "GET with query",
      requests: [
        get("/search?q=a%20b&lang=en", [
          ["User-Agent", "net-fuzz"],
          ["Accept", "*/*"],
        ]),
      ],
    },
    {
      name: "POST with Content-Length",
      requests: [post("/form", form, [["Content-Type", "application/x-www-form-urlencoded"]])],
    },
    { name: "chunked POST", requests: [chunkedPost("/upload", ["hello", " world", "!"])] },
    {
      name: "chunked POST with extension and trailer",
      requests: [chunkedPost("/upload", ["abc", "defgh"], "X-Checksum: 1\r\n")],
    },
    { name: "keep-alive pair", requests: [get("/first"), get("/second")], pause: true },
    { name: "pipelined pair", requests: [get("/a?x=1"), post("/b", "hello")] },
    {
      name: "Expect: 100-continue",
      requests: [post("/expect", "hello world", [["Expect", "100-continue"]])],
    },
    { name: "absolute-form target", requests: [get("http://localhost/abs?x=1")] },
    {
      name: "HTTP/1.0",
      requests: [{ method: "GET", target: "/old", version: "HTTP/1.0", headers: [], body: "" }],
    },
    {
      name: "HTTP/1.0 keep-alive",
      requests: [
        {
          method: "GET",
          target: "/old-ka",
          version: "HTTP/1.0",
          headers: [HOST, ["Connection", "keep-alive"]],
          body: "",
        },
      ],
    },
    {
      name: "POST of 2 KiB (spooled to a file)",
      requests: [post("/big", "x".repeat(2048), [["Content-Type", "text/plain"]])],
    },
  ];
  for (const hostile of HOSTILE) {
    if (hostile.request.length > 4096) continue;
    list.push({ name: `hostile: ${hostile.name}`, requests: [], raw: hostile.request });
  }
  return list;
}
