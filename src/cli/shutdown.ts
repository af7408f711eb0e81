/**
 * What a graceful shutdown of `wsgiref serve` waits for: the server and request
 * handler classes of the command count the requests in progress, so that the
 * shutdown line can say how many it lets finish.
 */

import { WSGIRequestHandler, WSGIServer } from "../simple-server.js";
import { plural } from "./banner.js";

/** The command's `WSGIServer`: counts the requests being handled. */
export class CountingWSGIServer extends WSGIServer {
  /** Requests whose handling has started and not finished. */
  requestsInProgress = 0;
}

/** The command's request handler: counts itself on a `CountingWSGIServer`. */
export class CountingRequestHandler extends WSGIRequestHandler {
  override async handle(): Promise<void> {
    const server = this.server;
    if (!(server instanceof CountingWSGIServer)) return super.handle();
    server.requestsInProgress += 1;
    try {
      await super.handle();
    } finally {
      server.requestsInProgress -= 1;
    }
  }
}

/** What a shutdown of `server` waits for, in words. */
export function waitingFor(server: WSGIServer): string {
  const count = server instanceof CountingWSGIServer ? server.requestsInProgress : 0;
  return count === 0
    ? "no request in progress"
    : `waiting for ${plural(count, "request")} in progress to finish`;
}
