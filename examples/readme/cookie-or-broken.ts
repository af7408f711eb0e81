/**
 * The README's `wsgiref/response` handler: a JSON answer with a checked cookie,
 * or, with `?broken`, a response whose `Content-Length` promises more than it
 * sends, written byte for byte.
 *
 * Run: npx wsgiref serve examples/readme/cookie-or-broken.ts
 */
import { handlerApp } from "wsgiref/response";

export const app = handlerApp((request, response) => {
  if (request.GET.get("broken") !== undefined) {
    response.addRequiredHeaders = false; // the bytes below, exactly, then close
    response.writer.writeRawContent("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    return;
  }
  response.setCookie("seen", "1", { maxAge: 3600, httpOnly: true, sameSite: "Lax" });
  response.headers.set("Content-Type", "application/json");
  response.content = JSON.stringify({ hello: request.cookies.get("seen") ?? "stranger" });
});
