/**
 * A simple server in a process of its own, so the large-transfer tests can read
 * its RSS: `node server-large-child.js FILE` serves FILE at /download (through
 * wsgi.file_wrapper), hashes the body of POST /upload, and reports its memory at
 * /memory. Prints `{"port": N}` on stdout once listening; stops on SIGTERM.
 */

import { createHash } from "node:crypto";
import { fstatSync } from "node:fs";
import { makeServer } from "../../src/simple-server.js";
import type { WSGIApplication } from "../../src/types.js";
import { openFile } from "../../src/util.js";

const path = process.argv[2] as string;

const app: WSGIApplication = (environ, startResponse) => {
  switch (environ.PATH_INFO) {
    case "/download": {
      const file = openFile(path);
      startResponse("200 OK", [
        ["Content-Type", "application/octet-stream"],
        ["Content-Length", String(fstatSync(file.fd).size)],
      ]);
      return new environ["wsgi.file_wrapper"]!(file);
    }
    case "/upload": {
      const input = environ["wsgi.input"]!;
      const hash = createHash("sha256");
      let length = 0;
      for (let block = input.read(65536); block.length > 0; block = input.read(65536)) {
        hash.update(block);
        length += block.length;
      }
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [Buffer.from(JSON.stringify({ length, sha256: hash.digest("hex") }))];
    }
    default: {
      const { rss } = process.memoryUsage();
      const maxRSS = process.resourceUsage().maxRSS * 1024;
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [Buffer.from(JSON.stringify({ rss, maxRSS }))];
    }
  }
};

const httpd = await makeServer("127.0.0.1", 0, app, undefined, undefined, { quiet: true });
process.on("SIGTERM", () => {
  void httpd.serverClose();
});
process.stdout.write(`${JSON.stringify({ port: httpd.serverAddress[1] })}\n`);
await httpd.serveForever();
