/**
 * A real app a user writes, reading the environ without `?.`, `!` or casts:
 * the keys PEP 3333 requires are present in `WSGIEnvironment`, `HTTP_*` keys are
 * `string | undefined`, and the optional CGI keys stay optional.
 */
import type { WSGIApplication } from "wsgiref/types";

/** Answer with what the request said, one `name: value` line each, as JSON-ish text. */
export const describeRequest: WSGIApplication = (environ, startResponse) => {
  // Required keys: plain strings, booleans and streams.
  const method: string = environ.REQUEST_METHOD;
  const path: string = environ.SCRIPT_NAME + environ.PATH_INFO;
  const host: string = `${environ.SERVER_NAME}:${environ.SERVER_PORT}`;
  const protocol: string = environ.SERVER_PROTOCOL;
  const scheme: string = environ["wsgi.url_scheme"];
  const [major, minor] = environ["wsgi.version"];
  const body = environ["wsgi.input"].read();
  const shared = environ["wsgi.multithread"] || environ["wsgi.multiprocess"];
  environ["wsgi.errors"].write(`${method} ${path}\n`);

  // Headers: strings when sent, undefined when not.
  const accept: string[] = environ.HTTP_ACCEPT?.split(",").map((s) => s.trim()) ?? [];
  const token = environ.HTTP_AUTHORIZATION?.startsWith("Bearer ")
    ? environ.HTTP_AUTHORIZATION.slice(7)
    : undefined;

  // Optional by PEP 3333: absent when empty.
  const query: string = environ.QUERY_STRING ?? "";
  const length = Number(environ.CONTENT_LENGTH || 0);

  const lines = [
    `method: ${method}`,
    `path: ${path}`,
    `host: ${host}`,
    `protocol: ${protocol}`,
    `scheme: ${scheme}`,
    `wsgi: ${major}.${minor}`,
    `shared: ${shared}`,
    `accept: ${accept.join("|")}`,
    `token: ${token ?? "-"}`,
    `query: ${query}`,
    `body: ${body.length}/${length}`,
    `once: ${environ["wsgi.run_once"]}`,
  ];
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`${lines.join("\n")}\n`)];
};
