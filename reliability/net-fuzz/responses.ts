/**
 * A strict reader of what the server sent on one connection: a sequence of
 * complete, well-formed HTTP/1.1 responses (interim 100s allowed), nothing else.
 */

/** One response read off the wire. */
export interface WireResponse {
  status: number;
  headers: Array<[string, string]>;
  /** A 1xx response. */
  interim: boolean;
  body: string;
}

/** The responses, and what was wrong with the bytes if anything. */
export interface WireReading {
  responses: WireResponse[];
  error: string | undefined;
}

const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) [\x20-\x7e]*$/;
const FIELD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+): ?([\t\x20-\x7e\x80-\xff]*)$/;

function value(headers: Array<[string, string]>, name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/** The values of `name` in `response`, lower-cased and split on commas. */
export function tokensOf(response: WireResponse, name: string): string[] {
  return value(response.headers, name)
    .join(",")
    .split(",")
    .map((t) => t.trim().toLowerCase());
}

/**
 * Read `text` (latin-1) as responses. `noBody(i)` says whether final response `i`
 * answers a HEAD request: true, false, or "maybe" (a refused request whose method
 * is not known for sure; its body may be there or not, if nothing follows).
 */
export function readResponses(text: string, noBody: (i: number) => boolean | "maybe"): WireReading {
  const responses: WireResponse[] = [];
  let finals = 0;
  let at = 0;
  const fail = (error: string): WireReading => ({ responses, error });
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end === -1) return fail(`incomplete response head at ${at}`);
    const [statusLine, ...lines] = text.slice(at, end).split("\r\n");
    const m = STATUS_LINE.exec(statusLine ?? "");
    if (m === null) return fail(`bad status line ${JSON.stringify(statusLine)}`);
    const headers: Array<[string, string]> = [];
    for (const line of lines) {
      const f = FIELD.exec(line);
      if (f === null) return fail(`bad response field ${JSON.stringify(line)}`);
      headers.push([f[1] as string, f[2] as string]);
    }
    const status = Number(m[1]);
    at = end + 4;
    const response: WireResponse = { status, headers, interim: status < 200, body: "" };
    responses.push(response);
    if (response.interim) {
      if (status !== 100) return fail(`unexpected interim status ${status}`);
      continue;
    }
    const index = finals++;
    const te = value(headers, "transfer-encoding");
    const cl = value(headers, "content-length");
    if (te.length > 0 && cl.length > 0)
      return fail("response has Content-Length and Transfer-Encoding");
    const head = noBody(index);
    if (head === true || status === 204 || status === 304) continue;
    if (head === "maybe" && at === text.length) continue;
    if (te.length > 0) {
      if (te.join(",").toLowerCase() !== "chunked") return fail(`response coding ${te.join(",")}`);
      const parts: string[] = [];
      for (;;) {
        const eol = text.indexOf("\r\n", at);
        if (eol === -1) return fail("response chunk size cut short");
        const size = text.slice(at, eol);
        if (!/^[0-9a-fA-F]{1,8}$/.test(size))
          return fail(`bad response chunk size ${JSON.stringify(size)}`);
        const n = Number.parseInt(size, 16);
        at = eol + 2;
        if (n === 0) break;
        if (text.slice(at + n, at + n + 2) !== "\r\n") return fail("response chunk cut short");
        parts.push(text.slice(at, at + n));
        at += n + 2;
      }
      if (text.slice(at, at + 2) !== "\r\n") return fail("response has a trailer or is cut short");
      at += 2;
      response.body = parts.join("");
    } else if (cl.length > 0) {
      if (cl.length > 1 || !/^\d+$/.test(cl[0] as string))
        return fail(`response Content-Length ${cl.join(",")}`);
      const n = Number(cl[0]);
      if (at + n > text.length) return fail("response body cut short");
      response.body = text.slice(at, at + n);
      at += n;
    } else {
      // Delimited by the close: must be the last thing on the connection.
      response.body = text.slice(at);
      at = text.length;
    }
  }
  return { responses, error: undefined };
}
