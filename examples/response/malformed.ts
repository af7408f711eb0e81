/**
 * A server that answers wrongly on purpose, to test HTTP clients against broken
 * servers (what wptserve's raw handlers are for). Each path sends its bytes
 * exactly as written here, through the connection the server hands over; the
 * connection is closed after each.
 *
 *   /no-reason       a status line without a reason phrase: `HTTP/1.1 200\r\n`
 *   /bad-header      a header line without a colon, and one with a space before it
 *   /short-body      `Content-Length: 100` and only 5 bytes of body
 *   /two-lengths     two different `Content-Length` headers (RFC 9112 §6.3 says: reject)
 *   /bad-chunk       a chunked body whose chunk size is not hexadecimal
 *   /no-length       a body with no length, ended only by closing the connection
 *   /http09          no status line or headers at all, just the body
 *
 * Run: node build/examples/response/malformed.js [PORT]
 */
import { fileURLToPath } from "node:url";
import { handlerApp } from "wsgiref/response";
import { makeServer } from "wsgiref/simple-server";

export const app = handlerApp((request, response) => {
  const w = response.writer;
  // Nothing implicit from here on: no Date, Server or Content-Length, no blank line.
  response.addRequiredHeaders = false;
  switch (request.urlParts.pathname) {
    case "/no-reason":
      w.writeRawContent("HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok");
      break;
    case "/bad-header":
      w.writeStatus(200);
      w.writeRawContent("This line has no colon\r\n");
      w.writeHeader("Content-Type ", "text/plain");
      w.writeHeader("Content-Length", 2);
      w.endHeaders();
      w.write("ok");
      break;
    case "/short-body":
      w.writeStatus(200);
      w.writeHeader("Content-Length", 100);
      w.endHeaders();
      w.write("short");
      break;
    case "/two-lengths":
      w.writeStatus(200);
      w.writeHeader("Content-Length", 2);
      w.writeHeader("Content-Length", 3);
      w.endHeaders();
      w.write("abc");
      break;
    case "/bad-chunk":
      w.writeStatus(200);
      w.writeHeader("Transfer-Encoding", "chunked");
      w.endHeaders();
      w.write("zz\r\nhello\r\n0\r\n\r\n");
      break;
    case "/no-length":
      w.writeStatus(200);
      w.writeHeader("Content-Type", "text/plain");
      w.endHeaders();
      w.write("until the connection closes");
      break;
    case "/http09":
      w.write("just a body\n");
      break;
    default:
      // A well-formed 404, written by hand too.
      w.writeStatus(404);
      w.writeHeader("Content-Type", "text/plain");
      w.writeHeader("Content-Length", 10);
      w.endHeaders();
      w.write("not found\n");
  }
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8000);
  await using httpd = await makeServer("127.0.0.1", port, app);
  console.log(`Serving on port ${httpd.serverAddress[1]}...`);
  await httpd.serveForever();
}
