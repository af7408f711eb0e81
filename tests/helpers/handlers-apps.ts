/**
 * The TypeScript twins of the applications in tests/fixtures/handlers/generate.py,
 * by the same names: each does what its Python original does, so the handler
 * must write the bytes Python's handler wrote.
 */

import { AssertionError } from "node:assert";
import type { StartResponse, WSGIApplication, WSGIBody, WSGIEnvironment } from "../../src/types.js";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

/** Python's ValueError, by name, so the logs name the same exception. */
export class ValueError extends Error {
  override name = "ValueError";
}

/** test_wsgiref's CustomException. */
export class CustomException extends ValueError {
  override name = "CustomException";
}

const MSG = bytes("Some output has been sent");

/** Call `startResponse` with a value that is not a string, as a careless app might. */
function startWithAnything(s: StartResponse, status: unknown): void {
  s(status as string, []);
}

export const apps: Record<string, WSGIApplication> = {
  hello_app(_e, s) {
    s("200 OK", [
      ["Content-Type", "text/plain"],
      ["Date", "Mon, 05 Jun 2006 18:49:54 GMT"],
    ]);
    return [bytes("Hello, world!")];
  },
  trivial_app1(e, s) {
    s("200 OK", []);
    return [bytes(e["wsgi.url_scheme"] as string)];
  },
  trivial_app2(e, s) {
    s("200 OK", [])(bytes(e["wsgi.url_scheme"] as string));
    return [];
  },
  trivial_app3(_e, s) {
    s("200 OK", []);
    return [Buffer.from("\u0442\u0435\u0441\u0442", "utf8")];
  },
  trivial_app4(_e, s) {
    s("200 OK", [["Content-Length", "12345"]]);
    return [];
  },
  non_error_app(_e, s) {
    s("200 OK", []);
    return [];
  },
  error_app() {
    throw new AssertionError({ message: "This should be caught by handler" });
  },
  error_after_output_app(_e, s) {
    s("200 OK", [])(MSG);
    throw new AssertionError({ message: "This should be caught by handler" });
  },
  bytes_data_app(_e, s) {
    s("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
    return [bytes("data")];
  },
  crashy_iterable_app(_e, s) {
    s("200 OK", [])(MSG);
    return {
      *[Symbol.iterator]() {
        for (;;) {
          yield bytes("blah");
          throw new AssertionError({ message: "This should be caught by handler" });
        }
      },
      close() {},
    };
  },
  multi_chunk_app(_e, s) {
    s("200 OK", [["Content-Type", "text/plain"]]);
    return [bytes("one "), bytes("two "), bytes("three")];
  },
  *generator_app(_e: WSGIEnvironment, s: StartResponse) {
    s("200 OK", [["Content-Type", "text/plain"]]);
    yield bytes("first\n");
    yield bytes("");
    yield bytes("second\n");
  },
  explicit_length_app(_e, s) {
    s("200 OK", [
      ["Content-Length", "5"],
      ["Content-Type", "text/plain"],
    ]);
    return [bytes("hello")];
  },
  own_date_server_app(_e, s) {
    s("200 OK", [
      ["Server", "AppServer/2.0"],
      ["Date", "Tue, 15 Nov 1994 08:12:31 GMT"],
    ]);
    return [bytes("x")];
  },
  write_then_list_app(_e, s) {
    const write = s("200 OK", [["Content-Type", "text/plain"]]);
    write(bytes("written "));
    return [bytes("returned")];
  },
  write_inside_iteration_app(_e, s) {
    const write = s("200 OK", []);
    return (function* () {
      write(bytes("a"));
      yield bytes("b");
      write(bytes("c"));
      yield bytes("d");
    })();
  },
  error_mid_iteration_app(_e, s) {
    s("200 OK", [["Content-Type", "text/plain"]]);
    return (function* () {
      yield bytes("partial");
      throw new ValueError("broken generator");
    })();
  },
  error_before_start_response_in_iteration_app() {
    // biome-ignore lint/correctness/useYield: the point is a generator that fails at once
    return (function* (): Generator<Uint8Array> {
      throw new ValueError("failed before start_response");
    })();
  },
  start_response_twice_app(_e, s) {
    s("200 OK", []);
    s("200 OK", []);
    return [bytes("never")];
  },
  exc_info_before_output_app(_e, s) {
    s("200 OK", [["Content-Type", "text/html"]]);
    try {
      throw new ValueError("caught by the app");
    } catch (err) {
      s("503 Service Unavailable", [["Content-Type", "text/plain"]], err);
    }
    return [bytes("sorry")];
  },
  exc_info_after_output_app(_e, s) {
    const write = s("200 OK", []);
    write(bytes("begun"));
    try {
      throw new ValueError("caught by the app");
    } catch (err) {
      s("500 Oops", [], err);
    }
    return [bytes("never")];
  },
  status_too_short_app(_e, s) {
    s("200", []);
    return [];
  },
  status_no_code_app(_e, s) {
    s("2x0 OK", []);
    return [];
  },
  status_no_space_app(_e, s) {
    s("200-OK", []);
    return [];
  },
  status_not_str_app(_e, s) {
    startWithAnything(s, 200);
    return [];
  },
  hop_by_hop_app(_e, s) {
    s("200 OK", [["Connection", "close"]]);
    return [];
  },
  str_chunk_app(_e, s) {
    s("200 OK", []);
    return ["text"] as unknown as WSGIBody;
  },
  str_body_app(_e, s) {
    s("200 OK", []);
    return "text" as unknown as WSGIBody;
  },
  bytes_body_app(_e, s) {
    s("200 OK", []);
    return bytes("text") as unknown as WSGIBody;
  },
  int_body_app(_e, s) {
    s("200 OK", []);
    return 42 as unknown as WSGIBody;
  },
  none_body_app(_e, s) {
    s("200 OK", []);
    return null as unknown as WSGIBody;
  },
  no_start_response_app() {
    return [];
  },
  not_found_app(_e, s) {
    s("404 Not Found", [["Content-Type", "text/plain"]]);
    return [bytes("no such page")];
  },
};
