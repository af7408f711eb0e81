/**
 * One network fuzzing campaign: a live server in this process, inputs sent over
 * fresh raw sockets a few at a time, each judged by the oracle; canaries in
 * between; file descriptors counted at the start and the end.
 *
 * The server runs in this process, not in a child, so that the application's
 * records (every request it saw, every close() of a body) and `/proc/self/fd` are
 * read directly, with no channel between them that could lose or reorder a
 * record; a crash shows as an uncaught exception, which the campaign reports.
 */

import { Buffer } from "node:buffer";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { makeServer, type ServerOptions, WSGIRequestHandler } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { type FuzzInput, generate } from "./mutators.js";
import { judge, type SeenRequest } from "./oracle.js";
import { frame, type ReferenceLimits } from "./reference.js";
import { readResponses } from "./responses.js";

/** The server's options: small limits and timeouts, so that every refusal is reachable fast. */
export const FUZZ_OPTIONS: ServerOptions = {
  quiet: true,
  maxHeaderSize: 16 * 1024,
  maxHeaders: 100,
  maxBodySize: 64 * 1024,
  // Bodies above 1 KiB go to a temporary file: its descriptor is counted too.
  spoolThreshold: 1024,
  headersTimeout: 1000,
  requestTimeout: 2000,
  keepAliveTimeout: 300,
};

const LIMITS: ReferenceLimits = {
  maxHeaders: 100,
  maxBodySize: 64 * 1024,
  maxHeaderSize: 16 * 1024,
};

/** How long one input may take before its connection is cut (and the input fails). */
const DEADLINE_MS = 6000;

/** A server under test: where it listens, and how to stop it. */
export interface FuzzServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Start a server for `app`. The default is `WSGIServer` with `FUZZ_OPTIONS`; the
 * oracle's own tests pass servers that are wrong on purpose.
 */
export type Listen = (app: WSGIApplication) => Promise<FuzzServer>;

async function wsgiServer(app: WSGIApplication): Promise<FuzzServer> {
  const httpd = await makeServer("127.0.0.1", 0, app, undefined, WSGIRequestHandler, FUZZ_OPTIONS);
  const served = httpd.serveForever();
  return {
    port: httpd.serverAddress[1],
    close: async () => {
      await httpd.serverClose();
      await served;
    },
  };
}

/** What to run. */
export interface CampaignOptions {
  seed: string;
  /** Stop after this many inputs… */
  iterations: number;
  /** …or after this many seconds, whichever comes first. */
  seconds: number;
  /** Inputs in flight at once. */
  concurrency?: number;
  /** A canary request after every this many inputs. */
  canaryEvery?: number;
  /** Run only this input (to reproduce it). */
  only?: number;
  /** Stop once this many inputs have failed (default 20). */
  maxFailures?: number;
  /**
   * Fail the campaign when it ran fewer inputs than this (default 1): a harness
   * that sends nothing, or stops early, must not pass.
   */
  minInputs?: number;
  /** The server to fuzz (default: `WSGIServer` with `FUZZ_OPTIONS`). */
  listen?: Listen;
  /** How long one input may take before its connection is cut and it fails (default 6 s). */
  deadlineMs?: number;
  /** Called with each failing input as it is found. */
  onFailure?: (failure: Failure) => void;
}

/** A failing input: how to rebuild it and what went wrong. */
export interface Failure {
  seed: string;
  n: number;
  input: FuzzInput | undefined;
  failures: string[];
  received: string;
}

/** The figures of a campaign. */
export interface CampaignResult {
  seed: string;
  inputs: number;
  seconds: number;
  /** Final responses by class ("2xx", "4xx", "5xx") and inputs with none ("none"). */
  classes: Record<string, number>;
  /** Final responses by status. */
  statuses: Record<string, number>;
  /** Why the reference stopped framing, by reason. */
  stops: Record<string, number>;
  /** Requests the application saw that it must not have. */
  smuggled: number;
  /** Requests the application saw, and bodies it closed. */
  appRequests: number;
  appCloses: number;
  canaries: number;
  fdsBefore: number | null;
  fdsAfter: number | null;
  leaks: number;
  failures: Failure[];
}

function countFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    // Not Linux: the leak check falls back to the close() counts alone.
    return null;
  }
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

interface Exchange {
  received: string;
  closedByServer: boolean;
  localPort: number;
}

/** Send `input` on a fresh connection and collect what comes back until the server closes it. */
function send(port: number, input: FuzzInput, deadlineMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let localPort = 0;
    let closedByServer = false;
    let gotData: (() => void) | undefined;
    const deadline = setTimeout(() => socket.destroy(), deadlineMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      gotData?.();
    });
    socket.on("end", () => {
      closedByServer = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // A reset is the server closing too (it may close with our bytes unread).
      if (err.code === "ECONNRESET" || err.code === "EPIPE") closedByServer = true;
    });
    socket.on("close", () => {
      clearTimeout(deadline);
      resolve({ received: Buffer.concat(chunks).toString("latin1"), closedByServer, localPort });
    });
    socket.on("connect", async () => {
      localPort = socket.localPort ?? 0;
      const first = input.pause ? [input.segments[0] ?? ""] : input.segments;
      const rest = input.pause ? input.segments.slice(1) : [];
      await writeAll(socket, first.join(""), input.writes);
      if (rest.length > 0) {
        await new Promise<void>((go) => {
          const timer = setTimeout(go, 300);
          gotData = () => {
            clearTimeout(timer);
            gotData = undefined;
            go();
          };
          if (chunks.length > 0) gotData();
        });
        await writeAll(socket, rest.join(""), input.writes);
      }
      if (input.halfClose && !socket.destroyed) socket.end();
    });
  });
}

async function writeAll(socket: Socket, text: string, writes: number): Promise<void> {
  const bytes = Buffer.from(text, "latin1");
  const step = Math.max(1, Math.ceil(bytes.length / writes));
  for (let at = 0; at < bytes.length; at += step) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(bytes.subarray(at, at + step));
    // Let each write go out on its own.
    if (writes > 1) await new Promise((go) => setTimeout(go, 1));
  }
}

/** A plain GET that must be answered 200 by the application. */
async function canary(
  port: number,
  n: number,
  byPort: Map<string, SeenRequest[]>,
  deadlineMs: number,
): Promise<string | undefined> {
  const input: FuzzInput = {
    n,
    seed: "canary",
    mutations: [],
    segments: [`GET /canary-${n} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`],
    pause: false,
    halfClose: true,
    writes: 1,
  };
  const { received, closedByServer, localPort } = await send(port, input, deadlineMs);
  const seen = byPort.get(String(localPort)) ?? [];
  byPort.delete(String(localPort));
  const reading = readResponses(received, () => false);
  const status = reading.responses[0]?.status;
  if (seen.length !== 1 || seen[0]?.closes !== 1)
    return `canary after input ${n}: the application saw ${seen.length} requests`;
  if (!closedByServer || reading.error !== undefined || status !== 200) {
    return `canary after input ${n} failed: ${reading.error ?? status ?? "no response"}`;
  }
  return undefined;
}

/** Run a campaign. */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 6;
  const canaryEvery = options.canaryEvery ?? 50;
  const maxFailures = options.maxFailures ?? 20;
  const deadlineMs = options.deadlineMs ?? DEADLINE_MS;
  // What the application saw, by the client's port (each input has its own connection).
  const byPort = new Map<string, SeenRequest[]>();
  let appRequests = 0;
  let appCloses = 0;
  const app: WSGIApplication = (environ, startResponse) => {
    const input = environ["wsgi.input"];
    const body = Buffer.from(input?.read() ?? new Uint8Array(0)).toString("latin1");
    const record: SeenRequest = {
      method: environ.REQUEST_METHOD as string,
      uri: environ.REQUEST_URI as string,
      body,
      closes: 0,
    };
    const port = String(environ.REMOTE_PORT);
    let list = byPort.get(port);
    if (list === undefined) {
      list = [];
      byPort.set(port, list);
    }
    list.push(record);
    appRequests += 1;
    const out = Buffer.from(`${record.method} ${record.uri} ${body.length}\n`, "latin1");
    // Half the answers are chunked, so both framings of a response are read back.
    const headers: Array<[string, string]> = [["Content-Type", "text/plain"]];
    if (out.length % 2 === 0) headers.push(["Content-Length", String(out.length)]);
    startResponse("200 OK", headers);
    return {
      *[Symbol.iterator]() {
        yield out;
      },
      close() {
        record.closes += 1;
        appCloses += 1;
      },
    };
  };

  const crashes: string[] = [];
  const onCrash = (err: unknown): void => {
    crashes.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);

  const server = await (options.listen ?? wsgiServer)(app);
  const port = server.port;
  const fdsBefore = countFds();

  const result: CampaignResult = {
    seed: options.seed,
    inputs: 0,
    seconds: 0,
    classes: {},
    statuses: {},
    stops: {},
    smuggled: 0,
    appRequests: 0,
    appCloses: 0,
    canaries: 0,
    fdsBefore,
    fdsAfter: null,
    leaks: 0,
    failures: [],
  };
  const fail = (failure: Failure): void => {
    result.failures.push(failure);
    options.onFailure?.(failure);
  };

  const endAt = started + options.seconds * 1000;
  let next = options.only ?? 0;
  const last = options.only === undefined ? options.iterations : options.only + 1;

  const runOne = async (n: number): Promise<void> => {
    const input = generate(options.seed, n);
    const { received, closedByServer, localPort } = await send(port, input, deadlineMs);
    const key = String(localPort);
    // The handler may still be closing the body after the socket closed.
    for (let waited = 0; waited < 1000; waited += 5) {
      const list = byPort.get(key) ?? [];
      if (list.every((s) => s.closes > 0)) break;
      await new Promise((go) => setTimeout(go, 5));
    }
    const seen = byPort.get(key) ?? [];
    byPort.delete(key);
    const framing = frame(input.segments.join(""), LIMITS);

    // The refusal of a HEAD request has no body when the handler sends it
    // (Node drops it), and one when it is written raw (a request llhttp refused).
    const sent = input.segments.join("");
    const refusedHead = (i: number): boolean => {
      const start =
        framing.requests[i]?.start ?? (i === framing.requests.length ? framing.stopAt : -1);
      return start >= 0 && /^[\r\n]*HEAD /.test(sent.slice(start, start + 64));
    };
    const reading = readResponses(received, (i) =>
      i < seen.length ? seen[i]?.method === "HEAD" : refusedHead(i) ? "maybe" : false,
    );
    const verdict = judge(input, { framing, seen, reading, closedByServer });
    result.inputs += 1;
    result.smuggled += verdict.smuggled;
    bump(result.stops, framing.stop.replace(/ ".*$| [0-9.]+$/, ""));
    if (verdict.statuses.length === 0) bump(result.classes, "none");
    for (const status of verdict.statuses) {
      bump(result.classes, `${String(status)[0]}xx`);
      bump(result.statuses, String(status));
    }
    if (verdict.failures.length > 0) {
      fail({ seed: options.seed, n, input, failures: verdict.failures, received });
    }
  };

  const worker = async (): Promise<void> => {
    while (next < last && Date.now() < endAt && result.failures.length < maxFailures) {
      const n = next++;
      await runOne(n);
      if ((n + 1) % canaryEvery === 0) {
        const problem = await canary(port, n, byPort, deadlineMs);
        result.canaries += 1;
        if (problem !== undefined)
          fail({
            seed: options.seed,
            n,
            input: generate(options.seed, n),
            failures: [problem],
            received: "",
          });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const finalCanary = await canary(port, next, byPort, deadlineMs);
  result.canaries += 1;
  if (finalCanary !== undefined) {
    fail({ seed: options.seed, n: next, input: undefined, failures: [finalCanary], received: "" });
  }

  // Every connection is closed on our side; the server's side follows (a refused
  // connection lingers up to a second). Wait for the count to settle.
  let fdsAfter = countFds();
  for (
    let waited = 0;
    fdsBefore !== null && fdsAfter !== null && fdsAfter > fdsBefore && waited < 5000;
    waited += 50
  ) {
    await new Promise((go) => setTimeout(go, 50));
    fdsAfter = countFds();
  }
  await server.close();
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);

  const fdLeak = fdsBefore !== null && fdsAfter !== null ? Math.max(0, fdsAfter - fdsBefore) : 0;
  const unclosed = appRequests - appCloses;
  result.leaks = fdLeak + Math.abs(unclosed);
  if (fdLeak > 0)
    fail({
      seed: options.seed,
      n: -1,
      input: undefined,
      failures: [`file descriptors ${fdsBefore} → ${fdsAfter}`],
      received: "",
    });
  if (unclosed !== 0)
    fail({
      seed: options.seed,
      n: -1,
      input: undefined,
      failures: [`${appRequests} requests, ${appCloses} bodies closed`],
      received: "",
    });
  for (const crash of crashes)
    fail({
      seed: options.seed,
      n: -1,
      input: undefined,
      failures: [`crash: ${crash}`],
      received: "",
    });
  const minInputs = options.minInputs ?? 1;
  if (result.inputs < minInputs)
    fail({
      seed: options.seed,
      n: -1,
      input: undefined,
      failures: [`${result.inputs} inputs run, fewer than the floor of ${minInputs}`],
      received: "",
    });
  result.appRequests = appRequests;
  result.appCloses = appCloses;
  result.fdsAfter = fdsAfter;
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
