/**
 * The README's first app: `npx wsgiref serve examples/readme/hello.ts` serves it
 * without a build step.
 */
import type { WSGIApplication } from "wsgiref/types";

export const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello, ${environ.PATH_INFO}!\n`)];
};
