/**
 * Handlers and output sinks for the handler tests: the TypeScript counterparts of
 * test_wsgiref's ErrorHandler/TestHandler and of its PartialWriter and
 * AbortingWriter, plus the fixture that Python's own handlers produced.
 */

import { readFileSync } from "node:fs";
import { SimpleHandler } from "../../src/handlers/simple-handler.js";
import { BytesInput, StringErrors } from "../../src/streams.js";
import type { PartialEnvironment } from "../../src/types.js";
import { setupTestingDefaults } from "../../src/util.js";

/** Collects every chunk written, synchronously, as `io.BytesIO` would. */
export class BytesSink {
  readonly chunks: Uint8Array[] = [];
  flushes = 0;
  write(data: Uint8Array): void {
    // Copy: the handler may hand over a view it does not own.
    this.chunks.push(Uint8Array.from(data));
  }
  flush(): void {
    this.flushes += 1;
  }
  getValue(): Buffer {
    return Buffer.concat(this.chunks);
  }
  /** The bytes as a latin-1 string: one code point per byte, as in the fixture. */
  text(): string {
    return this.getValue().toString("latin1");
  }
}

/** test_wsgiref's PartialWriter: takes at most 7 bytes a call and says so. */
export class PartialWriter extends BytesSink {
  override write(data: Uint8Array): number {
    const partial = data.subarray(0, 7);
    super.write(partial);
    return partial.length;
  }
}

/** test_wsgiref's AbortingWriter: every write throws `error`. */
export class AbortingWriter extends BytesSink {
  readonly error: unknown;
  constructor(error: unknown) {
    super();
    this.error = error;
  }
  override write(): never {
    throw this.error;
  }
}

/** An `Error` with a Node-style `code`, such as a socket's `EPIPE`. */
export function codedError(code: string, message = code): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/**
 * test_wsgiref's ErrorHandler: a CGI-style handler (`originServer` false) over
 * in-memory streams, with `setupTestingDefaults` applied to the given environ.
 */
export class ErrorHandler extends SimpleHandler {
  override originServer = false;
  declare stdout: BytesSink;
  declare stderr: StringErrors;
  constructor(environ: PartialEnvironment = {}, stdout: BytesSink = new BytesSink()) {
    setupTestingDefaults(environ);
    super(new BytesInput(), stdout, new StringErrors(), environ, true, true);
  }
}

/** test_wsgiref's TestHandler: an ErrorHandler that rethrows instead of answering 500. */
export class TestHandler extends ErrorHandler {
  override handleError(err: unknown): never {
    throw err;
  }
}

/** One case of tests/fixtures/handlers/expected.json. */
export interface HandlerCase {
  name: string;
  app: string;
  originServer: boolean;
  httpVersion: string;
  serverSoftware: string | null;
  environ: Record<string, string>;
  testingDefaults: boolean;
  writer: string;
  stdout: string;
  logged: boolean;
  exception: string | null;
  warnings: string[];
  note?: string;
}

/** The expected outputs, as Python's handlers wrote them. */
export interface HandlerFixture {
  python: string;
  pinnedTime: number;
  cases: HandlerCase[];
}

/** Load the fixture from the source tree (tests run from build/). */
export function loadFixture(): HandlerFixture {
  const url = new URL("../../../tests/fixtures/handlers/expected.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as HandlerFixture;
}
