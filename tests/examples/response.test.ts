/**
 * Runs the wsgiref/response examples under examples/response/ as a user would
 * (`node build/examples/response/x.js 0`, and the JSON API's TypeScript source
 * through `wsgiref serve`): each prints its port and answers over HTTP, to raw
 * sockets, Node's client and curl.
 */

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Child, fetchRaw, serveCli, stopAll } from "../cli/cli-process.js";
import { needs } from "../helpers/peers.js";
import { curl, open, rawGet, readUntil } from "../helpers/response-server.js";

const built = fileURLToPath(new URL("../../examples/response/", import.meta.url));
const source = fileURLToPath(new URL("../../../examples/response/", import.meta.url));
after(() => stopAll());

/** Start a built example on a free port; resolves to the child and its port. */
async function start(name: string): Promise<[Child, number]> {
  const child = new Child([`${built}${name}.js`, "0"]);
  const match = await child.waitFor(/^Serving on port (\d+)\.\.\.$/);
  return [child, Number(match[1])];
}

function json(body: Buffer): unknown {
  return JSON.parse(body.toString("utf8"));
}

describe("response examples", { concurrency: true }, () => {
  it("json-api creates, lists, reads and deletes todos, with JSON errors", {
    skip: needs("curl"),
  }, async () => {
    const [child, port] = await start("json-api");
    const created = await fetchRaw(port, "/todos", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: Buffer.from(JSON.stringify({ title: "write tests" })),
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, "/todos/1");
    assert.deepEqual(json(created.body), { id: 1, title: "write tests", done: false });

    const form = await curl(["-F", "title=from a form", `http://127.0.0.1:${port}/todos`]);
    assert.deepEqual(JSON.parse(form), { id: 2, title: "from a form", done: false });
    const urlencoded = await fetchRaw(port, "/todos", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: Buffer.from("title=third"),
    });
    assert.equal(urlencoded.status, 201);

    const list = await fetchRaw(port, "/todos?done=false");
    assert.deepEqual(
      (json(list.body) as Array<{ title: string }>).map((t) => t.title),
      ["write tests", "from a form", "third"],
    );
    assert.deepEqual(json((await fetchRaw(port, "/todos?done=true")).body), []);
    assert.equal((await fetchRaw(port, "/todos/2")).status, 200);
    assert.equal((await fetchRaw(port, "/todos/2", { method: "DELETE" })).status, 204);

    const missing = await fetchRaw(port, "/todos/2");
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["content-type"], "application/json");
    assert.deepEqual(json(missing.body), {
      error: { code: 404, message: "no such todo: /todos/2" },
    });
    assert.equal((await fetchRaw(port, "/todos", { method: "PUT" })).status, 405);
    assert.equal((await fetchRaw(port, "/todos/1", { method: "PATCH" })).status, 405);
    const untitled = await fetchRaw(port, "/todos", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: Buffer.from("not json"),
    });
    assert.equal(untitled.status, 400);
    child.process.kill("SIGTERM");
    await child.outcome;
  });

  it("json-api runs from its TypeScript source under wsgiref serve", async () => {
    const { child, port } = await serveCli([
      "serve",
      `${source}json-api.ts`,
      "--port",
      "0",
      "--quiet",
    ]);
    const res = await fetchRaw(port, "/todos");
    assert.equal(res.status, 200);
    assert.deepEqual(json(res.body), []);
    child.process.kill("SIGTERM");
    await child.outcome;
  });

  it("malformed sends each broken response byte for byte", async () => {
    const [child, port] = await start("malformed");
    const expected: Record<string, string> = {
      "/no-reason": "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
      "/bad-header":
        "HTTP/1.1 200 OK\r\nThis line has no colon\r\nContent-Type : text/plain\r\nContent-Length: 2\r\n\r\nok",
      "/short-body": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
      "/two-lengths": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
      "/bad-chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "/no-length":
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection closes",
      "/http09": "just a body\n",
      "/other":
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n",
    };
    for (const [path, bytes] of Object.entries(expected)) {
      assert.equal(await rawGet(port, path), bytes, path);
    }
    // A strict client refuses what RFC 9112 says to refuse.
    await assert.rejects(fetchRaw(port, "/two-lengths"));
    await assert.rejects(fetchRaw(port, "/bad-chunk"));
    assert.equal(
      (await fetchRaw(port, "/no-length")).body.toString(),
      "until the connection closes",
    );
    child.process.kill("SIGTERM");
    await child.outcome;
  });

  it("slow-stream sends lines as written and stops when the client leaves", {
    skip: needs("curl"),
  }, async () => {
    const [child, port] = await start("slow-stream");
    const all = await curl(["-N", `http://127.0.0.1:${port}/?lines=3&delay=10`]);
    assert.equal(all, "line 1 of 3\nline 2 of 3\nline 3 of 3\n");

    const socket = await open(port);
    socket.write("GET /?lines=1000&delay=20 HTTP/1.1\r\nHost: h\r\n\r\n");
    await readUntil(socket, "line 2 of 1000\n");
    socket.destroy();
    const [, lines] = await child.waitFor(/^client left after (\d+) lines$/);
    assert.ok(Number(lines) >= 2 && Number(lines) < 1000, `left after ${lines}`);
    assert.equal((await fetchRaw(port, "/?lines=1")).body.toString(), "line 1 of 1\n");
    child.process.kill("SIGTERM");
    await child.outcome;
  });
});
