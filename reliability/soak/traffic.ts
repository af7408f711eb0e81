/**
 * The load of the soak run: two autocannon instances sharing the connections,
 * one sending a cycle of small GETs, 1 MiB answers (fixed-length and chunked)
 * and uploads of a few KiB to a few hundred KiB one at a time per connection,
 * the other pipelining small GETs and uploads. Every answer's body is checked.
 */

import { Buffer } from "node:buffer";
import autocannon from "autocannon";
import { LARGE_SIZE, SMALL, uploadAnswer } from "./app.js";

/** What one autocannon instance saw. */
export interface LoadReport {
  name: string;
  connections: number;
  pipelining: number;
  /** Responses received, whatever their status. */
  responses: number;
  /** 2xx responses. */
  ok: number;
  non2xx: number;
  /** Socket errors and timeouts (autocannon counts timeouts among its errors). */
  errors: number;
  timeouts: number;
  /** Bodies that were not what the application sends. */
  mismatches: number;
  /** The first few error messages and mismatches. */
  problems: string[];
  /** Bytes of response received. */
  bytes: number;
}

const SMALL_TEXT = SMALL.toString("latin1");

/** A body of `size` bytes that differs from one size to the next. */
function uploadBody(size: number): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + size) & 0xff;
  return body;
}

type Check = (body: string) => string | undefined;

/** The request autocannon sends and the check of its answer. */
interface Planned {
  request: autocannon.Request;
  check: Check;
}

function get(path: "/small" | "/large" | "/chunked"): Planned {
  const check: Check =
    path === "/small"
      ? (body) => (body === SMALL_TEXT ? undefined : `GET /small answered ${JSON.stringify(body)}`)
      : (body) =>
          body.length === LARGE_SIZE
            ? undefined
            : `GET ${path} answered ${body.length} bytes, not ${LARGE_SIZE}`;
  return { request: { method: "GET", path }, check };
}

function upload(size: number): Planned {
  const body = uploadBody(size);
  const expected = uploadAnswer(body);
  return {
    request: {
      method: "POST",
      path: "/upload",
      headers: { "content-type": "application/octet-stream" },
      body,
    },
    check: (answer) =>
      answer === expected
        ? undefined
        : `POST /upload of ${size} bytes answered ${JSON.stringify(answer.slice(0, 80))}`,
  };
}

/** One autocannon instance: its share of the connections and its request cycle. */
interface Stream {
  name: string;
  connections: number;
  pipelining: number;
  cycle: Planned[];
}

/** Split `connections` between the one-at-a-time cycle (70%) and the pipelined one. */
export function streams(connections: number): Stream[] {
  const pipelined = Math.max(1, Math.round(connections * 0.3));
  return [
    {
      name: "mixed",
      connections: connections - pipelined,
      pipelining: 1,
      cycle: [
        get("/small"),
        get("/large"),
        upload(2 * 1024),
        get("/small"),
        get("/chunked"),
        upload(64 * 1024),
        get("/small"),
        upload(300 * 1024),
      ],
    },
    {
      name: "pipelined",
      connections: pipelined,
      pipelining: 8,
      cycle: [get("/small"), get("/small"), upload(4 * 1024), get("/small"), upload(40 * 1024)],
    },
  ];
}

/** A stream under way: what it will have seen, and a way to end it early. */
export interface Running {
  report: Promise<LoadReport>;
  /** End the stream at autocannon's next sample (within a second). */
  stop(): void;
}

/** Run `stream` against `port` for `seconds`, naming its report `name`. */
export function runStream(
  stream: Stream,
  port: number,
  seconds: number,
  name = stream.name,
): Running {
  const problems: string[] = [];
  const note = (text: string): void => {
    if (problems.length < 5) problems.push(text);
  };
  let mismatches = 0;
  const requests = stream.cycle.map(({ request, check }) => ({
    ...request,
    onResponse: (status: number, body: string) => {
      if (status < 200 || status > 299) return; // Counted in non2xx.
      const problem = check(body);
      if (problem !== undefined) {
        mismatches += 1;
        note(problem);
      }
    },
  }));
  let instance: autocannon.Instance | undefined;
  const report = new Promise<LoadReport>((resolve, reject) => {
    instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: stream.connections,
        pipelining: stream.pipelining,
        duration: seconds,
        timeout: 10,
        requests,
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) {
          reject(err);
          return;
        }
        resolve({
          name,
          connections: stream.connections,
          pipelining: stream.pipelining,
          responses: result["1xx"] + result["2xx"] + result["3xx"] + result["4xx"] + result["5xx"],
          ok: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          mismatches,
          problems,
          bytes: result.throughput.total,
        });
      },
    );
    instance.on("reqError", (err: unknown) => note(String(err)));
    instance.on("response", (_client: unknown, status: number) => {
      if (status < 200 || status > 299) note(`status ${status}`);
    });
  });
  return { report, stop: () => instance?.stop() };
}
