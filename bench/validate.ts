/**
 * Validator overhead: hello world through `SimpleHandler` into an in-memory sink,
 * with and without `validator()`, measured in the same run. Rounds alternate
 * between the two so that warm-up and machine load weigh on both alike, and the
 * best round of each is compared (other processes only ever slow a round down).
 *
 * In memory a request costs about 2 µs, so this is the harshest comparison; over
 * a socket the same checks are a far smaller share.
 *
 * Run: node build/bench/validate.js [rounds] [milliseconds-per-round]
 * Target: the validated app serves at most 25% fewer requests per second.
 */

import { SimpleHandler } from "../src/handlers/simple-handler.js";
import { BytesInput, StringErrors } from "../src/streams.js";
import type { PartialEnvironment, WSGIApplication } from "../src/types.js";
import { setupTestingDefaults } from "../src/util.js";
import { validator } from "../src/validate.js";

const HELLO = new TextEncoder().encode("Hello world!\n");

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(HELLO.length)],
  ]);
  return [HELLO];
};

/** Swallows the response, counting its bytes, as a socket that is never slow would. */
class Sink {
  bytes = 0;
  write(data: Uint8Array): void {
    this.bytes += data.length;
  }
  flush(): void {}
}

const base: PartialEnvironment = {};
setupTestingDefaults(base);
base.QUERY_STRING = ""; // as every server sets it

/** Serve requests one after another for `ms` milliseconds; return requests per second. */
async function round(app: WSGIApplication, ms: number, sink: Sink): Promise<number> {
  const input = new BytesInput();
  const errors = new StringErrors();
  let requests = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    // A batch between clock reads, so reading the clock costs little.
    for (let i = 0; i < 100; i++) {
      await new SimpleHandler(input, sink, errors, base).run(app);
    }
    requests += 100;
    now = performance.now();
  }
  if (errors.getValue() !== "") {
    throw new Error(`the benchmark app failed:\n${errors.getValue()}`);
  }
  return (requests * 1000) / (now - start);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const rounds = Number(process.argv[2] ?? 21);
const ms = Number(process.argv[3] ?? 200);
const validated = validator(hello);
const sink = new Sink();
const plain: number[] = [];
const checked: number[] = [];
await round(hello, ms, sink); // warm-up
await round(validated, ms, sink);
for (let i = 0; i < rounds; i++) {
  plain.push(await round(hello, ms, sink));
  checked.push(await round(validated, ms, sink));
}
// Other processes only ever slow a round down: the best round of each is the
// closest to its real speed, and the figure compared.
const a = Math.max(...plain);
const b = Math.max(...checked);
const format = (n: number): string => Math.round(n).toLocaleString("en-US");
console.log(`hello world through SimpleHandler into memory, best of ${rounds} rounds of ${ms} ms`);
console.log(`  without validator: ${format(a)} req/s (median round ${format(median(plain))})`);
console.log(`  with validator:    ${format(b)} req/s (median round ${format(median(checked))})`);
console.log(`  validator cost:    ${((1 / b - 1 / a) * 1e6).toFixed(2)} µs a request`);
console.log(
  `  ratio ${(b / a).toFixed(3)}: ${((1 - b / a) * 100).toFixed(1)}% fewer req/s (target ≤ 25%)`,
);
