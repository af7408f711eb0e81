/**
 * A small JSON API written as a wptserve-style handler: a to-do list kept in
 * memory, with a route per method and JSON errors from `setError`.
 *
 *   GET    /todos          every item, optionally `?done=true|false`
 *   POST   /todos          add one: a JSON body `{"title": "..."}`, or a form field `title`
 *   GET    /todos/ID       one item
 *   DELETE /todos/ID       remove it (204)
 *
 * Anything else is a 404 or 405 as JSON: `{"error": {"code": 404, "message": "..."}}`.
 *
 * Run: node build/examples/response/json-api.js [PORT]
 * or:  wsgiref serve examples/response/json-api.ts
 */
import { fileURLToPath } from "node:url";
import { handlerApp, type Request, type Response } from "wsgiref/response";
import { makeServer } from "wsgiref/simple-server";

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

const todos = new Map<number, Todo>();
let nextId = 1;

function json(response: Response, status: number, value: unknown): void {
  response.status = status;
  response.headers.set("Content-Type", "application/json");
  response.content = JSON.stringify(value);
}

/** The title of a new item, from a JSON body or a form; undefined when there is none. */
function titleOf(request: Request): string | undefined {
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("application/json")) {
    try {
      const body: unknown = JSON.parse(Buffer.from(request.body).toString("utf8"));
      const title = (body as { title?: unknown } | null)?.title;
      return typeof title === "string" ? title : undefined;
    } catch {
      return undefined; // not JSON: answered as a 400 below
    }
  }
  const field = request.POST.get("title");
  return typeof field === "string" ? field : undefined;
}

export const app = handlerApp((request, response) => {
  const path = request.urlParts.pathname;
  if (path === "/todos") {
    if (request.method === "GET") {
      const done = request.GET.get("done");
      const items = [...todos.values()].filter(
        (t) => done === undefined || String(t.done) === done,
      );
      json(response, 200, items);
    } else if (request.method === "POST") {
      const title = titleOf(request)?.trim();
      if (!title) {
        response.setError(400, "a todo needs a title");
        return;
      }
      const todo = { id: nextId++, title, done: false };
      todos.set(todo.id, todo);
      response.headers.set("Location", `/todos/${todo.id}`);
      json(response, 201, todo);
    } else {
      response.setError(405, `${request.method} is not allowed on /todos`);
    }
    return;
  }
  const match = /^\/todos\/(\d+)$/.exec(path);
  const todo = match ? todos.get(Number(match[1])) : undefined;
  if (todo === undefined) {
    response.setError(404, `no such todo: ${path}`);
  } else if (request.method === "GET") {
    json(response, 200, todo);
  } else if (request.method === "DELETE") {
    todos.delete(todo.id);
    response.status = 204;
  } else {
    response.setError(405, `${request.method} is not allowed on ${path}`);
  }
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8000);
  await using httpd = await makeServer("127.0.0.1", port, app);
  console.log(`Serving on port ${httpd.serverAddress[1]}...`);
  await httpd.serveForever();
}
