/**
 * Child process for the crash test of `SpooledInput`: spools a body past its
 * threshold, says so on stdout, then waits to be killed (SIGKILL, no cleanup).
 */

import { SpooledInput } from "../../src/streams.js";

const input = new SpooledInput(1024);
await input.write(new Uint8Array(4096).fill(0x61));
await input.write(new Uint8Array(4096).fill(0x62));
process.stdout.write(`spooled ${input.length}\n`);
// Stay alive until killed: the parent never closes this pipe.
process.stdin.resume();
