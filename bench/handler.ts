/**
 * Handler overhead per request: a hello-world application run through
 * SimpleHandler into an in-memory sink (an object with a synchronous write),
 * against writing the same response bytes straight to that sink.
 *
 * Run after building: `node build/bench/handler.js [requests]`. Profile with
 * `node --cpu-prof build/bench/handler.js`. Both wall-clock and CPU time are
 * measured (best of several rounds); on a busy machine the CPU figure is the
 * steadier one.
 */

import { Buffer } from "node:buffer";
import { performance } from "node:perf_hooks";
import { SimpleHandler } from "../src/handlers/simple-handler.js";
import { BytesInput, StringErrors } from "../src/streams.js";
import type { PartialEnvironment, WSGIApplication } from "../src/types.js";

const REQUESTS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;

const BODY = Buffer.from("Hello, world!\n");

const app: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [BODY];
};

/** What a server would hand the handler: the request's CGI variables. */
function requestEnviron(): PartialEnvironment {
  return {
    REQUEST_METHOD: "GET",
    SCRIPT_NAME: "",
    PATH_INFO: "/",
    QUERY_STRING: "",
    SERVER_NAME: "127.0.0.1",
    SERVER_PORT: "8000",
    SERVER_PROTOCOL: "HTTP/1.1",
    SERVER_SOFTWARE: "WSGIServer/0.1",
    GATEWAY_INTERFACE: "CGI/1.1",
    REMOTE_ADDR: "127.0.0.1",
    REMOTE_PORT: "54321",
    HTTP_HOST: "127.0.0.1:8000",
    HTTP_USER_AGENT: "bench/1.0",
    HTTP_ACCEPT: "*/*",
  };
}

/** The in-memory sink: counts bytes, synchronously. */
const sink = {
  bytes: 0,
  write(data: Uint8Array): void {
    this.bytes += data.length;
  },
};

/** Wall-clock and CPU milliseconds a run took. */
interface Timing {
  wall: number;
  cpu: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function throughHandler(n: number): Promise<Timing> {
  const stdin = new BytesInput();
  const errors = new StringErrors();
  return timed(async () => {
    for (let i = 0; i < n; i++) {
      const handler = new SimpleHandler(stdin, sink, errors, requestEnviron());
      handler.httpVersion = "1.1";
      handler.serverSoftware = "WSGIServer/0.1 Node.js";
      await handler.run(app);
    }
  });
}

/** The same bytes the handler writes (one response, Date of this second). */
async function responseBytes(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const handler = new SimpleHandler(
    new BytesInput(),
    { write: (data: Uint8Array) => void chunks.push(Buffer.from(data)) },
    new StringErrors(),
    requestEnviron(),
  );
  handler.httpVersion = "1.1";
  handler.serverSoftware = "WSGIServer/0.1 Node.js";
  await handler.run(app);
  return Buffer.concat(chunks);
}

/**
 * The floor: per request, the same shape without the handler (an async call
 * given the request's environ, awaited) writing the finished bytes.
 */
async function straightRequest(environ: PartialEnvironment, response: Buffer): Promise<void> {
  if (environ.REQUEST_METHOD !== undefined) {
    sink.write(response);
  }
}

function straight(n: number, response: Buffer): Promise<Timing> {
  return timed(async () => {
    for (let i = 0; i < n; i++) {
      await straightRequest(requestEnviron(), response);
    }
  });
}

const response = await responseBytes();
const best = {
  handler: { wall: Infinity, cpu: Infinity },
  straight: { wall: Infinity, cpu: Infinity },
};
const keepBest = (into: Timing, t: Timing): void => {
  into.wall = Math.min(into.wall, t.wall);
  into.cpu = Math.min(into.cpu, t.cpu);
};
for (let round = 0; round < ROUNDS; round++) {
  sink.bytes = 0;
  keepBest(best.handler, await throughHandler(REQUESTS));
  const viaHandler = sink.bytes;
  sink.bytes = 0;
  keepBest(best.straight, await straight(REQUESTS, response));
  if (viaHandler !== sink.bytes) {
    throw new Error(
      `byte counts differ: ${viaHandler} through the handler, ${sink.bytes} straight`,
    );
  }
}

const rate = (ms: number): string => Math.round((REQUESTS / ms) * 1000).toLocaleString("en-US");
const micros = (ms: number): string => ((ms / REQUESTS) * 1000).toFixed(2);
console.log(`response: ${response.length} bytes; ${REQUESTS} requests, best of ${ROUNDS} rounds`);
console.log(
  `SimpleHandler.run:  ${rate(best.handler.wall)} req/s (${micros(best.handler.cpu)} µs CPU/request)`,
);
console.log(
  `straight to sink:   ${rate(best.straight.wall)} req/s (${micros(best.straight.cpu)} µs CPU/request)`,
);
console.log(
  `ratio (wall): ${(best.handler.wall / best.straight.wall).toFixed(1)}x; ` +
    `handler overhead ${micros(best.handler.cpu - best.straight.cpu)} µs CPU/request`,
);
