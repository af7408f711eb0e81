/**
 * A node:http2 client for the HTTP/2 tests: one session per test, requests that
 * resolve to status, headers in order, body and the stream's reset code, and the
 * pushed streams the server promised.
 */

import { once } from "node:events";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";

/** What one HTTP/2 request got back. */
export interface H2Result {
  status: number;
  /** The regular header fields in the order they came, names lower-case. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** The RST_STREAM code, 0 when the stream ended normally. */
  rstCode: number;
}

/** A pushed response: what was promised and what came. */
export interface H2Push {
  path: string;
  result: Promise<H2Result>;
}

/** Read a stream's response to its end. */
export async function readStream(stream: ClientHttp2Stream): Promise<H2Result> {
  const chunks: Buffer[] = [];
  let status = 0;
  let headers: Array<[string, string]> = [];
  // A pushed stream's response comes as `push`, a request's as `response`.
  const onHead = (head: IncomingHttpHeaders): void => {
    status = Number(head[":status"]);
    headers = Object.entries(head)
      .filter(([name]) => !name.startsWith(":"))
      .flatMap(([name, value]) =>
        Array.isArray(value)
          ? value.map((v): [string, string] => [name, v])
          : [[name, String(value)] as [string, string]],
      );
  };
  stream.on("response", onHead);
  stream.on("push", onHead);
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  // A reset stream errors; its code is the answer (events.once would reject on it).
  stream.on("error", () => undefined);
  await new Promise<void>((resolve) => stream.once("close", () => resolve()));
  return { status, headers, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 };
}

/** An HTTP/2 session to `url`, its pushes collected; TLS certificates are not checked (the tests make their own). */
export class H2Client {
  readonly session: ClientHttp2Session;
  readonly pushes: H2Push[] = [];

  constructor(url: string) {
    this.session = connect(url, { rejectUnauthorized: false });
    this.session.on("error", () => undefined);
    this.session.on("stream", (pushed: ClientHttp2Stream, requestHeaders: IncomingHttpHeaders) => {
      this.pushes.push({ path: String(requestHeaders[":path"]), result: readStream(pushed) });
    });
  }

  /** Make one request (GET unless `headers` say otherwise), sending `body` when given. */
  request(path: string, headers: OutgoingHttpHeaders = {}, body?: Uint8Array): Promise<H2Result> {
    const stream = this.session.request(
      { ":path": path, ...headers },
      { endStream: body === undefined },
    );
    const result = readStream(stream);
    if (body !== undefined) stream.end(body);
    return result;
  }

  /** Close the session and wait for it. */
  async close(): Promise<void> {
    if (this.session.closed) return;
    const closed = once(this.session, "close");
    this.session.close();
    await closed;
  }
}

/** The value of header `name` (the first), as `resp.headers[name][0]`. */
export function h2Header(result: H2Result, name: string): string | undefined {
  return result.headers.find(([key]) => key === name.toLowerCase())?.[1];
}
