/**
 * The application of the misbehaving-apps run: each path misbehaves in one way
 * outside the request it answers (or ends its process), every other path
 * answers with the pid of the process that served it.
 */

import type { WSGIApplication } from "../../src/types.js";

/** What one request to `/leak` keeps for good. */
export const LEAK_BYTES = 8 * 1024 * 1024;

const kept: Uint8Array[] = [];
const encoder = new TextEncoder();

export const app: WSGIApplication = (environ, startResponse) => {
  switch (environ.PATH_INFO) {
    case "/reject":
      // A promise rejected with no handler, later.
      setTimeout(() => void Promise.reject(new Error("stray rejection")), 0);
      break;
    case "/fetch":
      // A fire-and-forget fetch() that fails.
      void fetch("http://[not-a-host");
      break;
    case "/throw":
      setTimeout(() => {
        throw new Error("timer threw");
      }, 0);
      break;
    case "/crash":
      process.exit(70);
      break;
    case "/spin":
      for (;;);
    case "/leak":
      kept.push(new Uint8Array(LEAK_BYTES).fill(1));
      break;
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [encoder.encode(String(process.pid))];
};
