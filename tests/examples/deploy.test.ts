/**
 * examples/deploy/ (docs/deploying.md): the Dockerfile lints clean
 * (dockerfile-utils; hadolint is in neither registry this project installs
 * from), copies only files that exist and runs a CMD that serves; the systemd
 * unit's ExecStart serves with its workers; nginx's upstream idle time is below
 * the server's keep-alive; the guide shows each file as it is. Building the
 * image needs a Docker daemon and the node base image, neither of which the
 * test machines have: the CMD runs here with the image's environment instead.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Copy, DockerfileParser, type Env, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { Child, fetchRaw, SERVING_LINE, stopAll } from "../cli/cli-process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEPLOY = join(ROOT, "examples", "deploy");
const read = (file: string): string => readFileSync(join(DEPLOY, file), "utf8");

after(() => stopAll());

const dockerfileText = read("Dockerfile");
const dockerfile = DockerfileParser.parse(dockerfileText);
const instructions = dockerfile.getInstructions();
const stages = dockerfile.getFROMs();
/** The instructions of the last (runtime) stage. */
const runtime = instructions.filter(
  (i) => i.getRange().start.line > (stages.at(-1)?.getRange().start.line ?? 0),
);

function only(keyword: string, within: Instruction[] = runtime): Instruction {
  const found = within.filter((i) => i.getKeyword() === keyword);
  assert.equal(found.length, 1, `one ${keyword}`);
  return found[0] as Instruction;
}

/** The runtime stage's ENV, as a map. */
function runtimeEnv(): Record<string, string> {
  const env = only("ENV") as Env;
  return Object.fromEntries(env.getProperties().map((p) => [p.getName(), p.getValue() ?? ""]));
}

/** Where a COPY from the build context puts each source, relative to WORKDIR. */
function copiedFromContext(): Array<{ sources: string[]; destination: string }> {
  return instructions
    .filter((i): i is Copy => i.getKeyword() === "COPY")
    .filter((copy) => copy.getFromFlag() === null)
    .map((copy) => {
      const args = copy.getArguments().map((a) => a.getValue());
      return { sources: args.slice(0, -1), destination: args.at(-1) as string };
    });
}

describe("examples/deploy/Dockerfile", () => {
  it("lints clean", () => {
    assert.deepEqual(validate(dockerfileText), []);
  });

  it("builds on Node 20 in two stages and runs as a user that is not root", () => {
    assert.deepEqual(
      stages.map((from) => [from.getImageName(), from.getImageTag(), from.getBuildStage()]),
      [
        ["node", "20-bookworm-slim", "build"],
        ["node", "20-bookworm-slim", null],
      ],
    );
    const user = only("USER").getArgumentsContent();
    assert.ok(user !== null && user !== "root" && user !== "0", `USER ${user}`);
  });

  it("copies only files that exist in the repository", () => {
    const copies = copiedFromContext();
    assert.ok(copies.length > 0);
    for (const { sources } of copies) {
      for (const source of sources) assert.ok(existsSync(join(ROOT, source)), source);
    }
  });

  it("listens on all interfaces of the container, on the port it exposes", () => {
    const env = runtimeEnv();
    assert.equal(env.HOST, "0.0.0.0");
    assert.equal(only("EXPOSE").getArgumentsContent(), env.PORT);
  });

  it("runs a CMD that serves the app, with the image's environment, and stops on SIGTERM", async () => {
    const cmd = JSON.parse(only("CMD").getArgumentsContent() ?? "") as string[];
    assert.deepEqual(cmd.slice(0, 4), ["node", "bin/wsgiref.js", "serve", "app.ts"]);
    // The image's /app is the repository here; app.ts is where COPY takes it from.
    const copy = copiedFromContext().find((c) => c.destination === "./app.ts");
    assert.ok(copy !== undefined, "app.ts is copied in");
    const args = cmd.slice(1).map((arg) => (arg === "app.ts" ? (copy.sources[0] as string) : arg));
    // Loopback and any free port here, where the image has 0.0.0.0 and 8000.
    const env = { ...runtimeEnv(), HOST: "127.0.0.1", PORT: "0" };
    const child = new Child(args, { cwd: ROOT, env });
    const [, host, port] = await child.waitFor(SERVING_LINE);
    assert.equal(host, "127.0.0.1");
    const reply = await fetchRaw(Number(port), "/hello", {
      headers: { Host: "example.com", "X-Forwarded-Proto": "https" },
    });
    assert.equal(reply.body.toString(), "Hello from wsgiref at https://example.com/hello\n");
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
  });
});

describe("examples/deploy/wsgiref.service", () => {
  const unit = read("wsgiref.service");
  const settings = new Map<string, string>();
  for (const line of unit.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) settings.set(match[1] as string, match[2] as string);
  }

  it("stops the primary with SIGTERM and lets it stop its workers", () => {
    assert.equal(settings.get("KillSignal"), "SIGTERM");
    assert.equal(settings.get("KillMode"), "mixed");
    assert.equal(settings.get("Type"), "simple");
  });

  it("keeps connections open longer than nginx's upstream keepalive_timeout", () => {
    const exec = settings.get("ExecStart") ?? "";
    const serverMs = Number(/--keep-alive-timeout (\d+)/.exec(exec)?.[1]);
    const nginxSeconds = Number(/keepalive_timeout (\d+)s;/.exec(read("nginx.conf"))?.[1]);
    assert.ok(serverMs > nginxSeconds * 1000, `${serverMs} ms > ${nginxSeconds} s`);
  });

  it("runs an ExecStart that serves with its workers", async () => {
    const exec = (settings.get("ExecStart") ?? "").split(" ");
    assert.equal(exec[0], "/usr/bin/node");
    assert.equal(exec[1], "/srv/app/node_modules/wsgiref/bin/wsgiref.js");
    // The installed package is this repository; app.ts the example; any free port.
    const args = exec
      .slice(2)
      .map((arg) => (arg === "app.ts" ? join(DEPLOY, "app.ts") : arg === "8000" ? "0" : arg));
    const child = new Child([join(ROOT, "bin", "wsgiref.js"), ...args], { cwd: ROOT });
    const [, , port, workers] = await child.waitFor(SERVING_LINE);
    assert.equal(workers, "2");
    assert.equal((await fetchRaw(Number(port), "/")).status, 200);
    child.process.kill("SIGTERM");
    const outcome = await child.outcome;
    assert.equal(outcome.code, 0, outcome.stderr);
  });
});

describe("docs/deploying.md", () => {
  const guide = readFileSync(join(ROOT, "docs", "deploying.md"), "utf8");

  for (const file of ["nginx.conf", "wsgiref.service", "Dockerfile"]) {
    it(`shows examples/deploy/${file} as it is`, () => {
      assert.ok(guide.includes(read(file).trimEnd()), `${file} is in the guide verbatim`);
    });
  }
});
