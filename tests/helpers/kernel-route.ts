/**
 * The sendfile(2) route for the server tests: whether the addon loads here, and
 * turning it off or on for the servers made from then on (each `WSGIServer`
 * loads its own `KernelSendfile`, which reads `WSGIREF_SENDFILE`).
 */

import { KernelSendfile } from "../../src/simple-server/kernel-sendfile.js";

const original = process.env.WSGIREF_SENDFILE;

/** Whether a server made now would send files by sendfile(2). */
export function kernelSendfileAvailable(): boolean {
  return new KernelSendfile().available;
}

/** Make the servers made from now on send files by sendfile(2) (as the environment allows) or not. */
export function useKernelSendfile(enabled: boolean): void {
  if (!enabled) process.env.WSGIREF_SENDFILE = "0";
  else if (original === undefined) delete process.env.WSGIREF_SENDFILE;
  else process.env.WSGIREF_SENDFILE = original;
}
