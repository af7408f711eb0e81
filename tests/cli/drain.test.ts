/**
 * `Drain`: a server stopped on a signal still answers the connections it had
 * accepted, those that had not sent their request yet among them. Real
 * sockets on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Drain } from "../../src/cli/drain.js";
import { makeServer } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { collect, open, parseResponses, request } from "../helpers/server-client.js";

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hello")];
};

describe("Drain", () => {
  it("answers a connection accepted before it began, whose request comes after", async () => {
    const httpd = await makeServer("127.0.0.1", 0, hello, undefined, undefined, { quiet: true });
    const served = httpd.serveForever();
    const drain = new Drain(httpd);
    try {
      const accepted = once(httpd.listener, "connection");
      const socket = await open(httpd.serverAddress[1]);
      await accepted;
      const received = collect(socket);
      // It stops accepting at once, then waits for the silent connection.
      const closing = drain.close();
      assert.equal(httpd.listener.listening, false);
      socket.write(request("GET", "/late"));
      const [response] = parseResponses(await received);
      assert.equal(response?.status, 200);
      assert.equal(response?.body.toString(), "hello");
      await closing;
      await served;
    } finally {
      await httpd.serverClose();
    }
  });
});
