/**
 * A throwaway nginx for tests: its own config, logs, pid file and temporary
 * directories in a temporary directory, run in the foreground as one process
 * (`daemon off; master_process off;`) on free loopback ports, stopped by its PID.
 */

import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { needs } from "./peers.js";

/** Where nginx is installed, or `undefined`: `PATH`, then the sbin directories Debian uses. */
export function findNginx(): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/sbin",
    "/usr/local/sbin",
    "/sbin",
  ];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, "nginx");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: try the next one.
    }
  }
  return undefined;
}

/**
 * The `skip` option for a suite that needs nginx (and openssl for its
 * certificate, curl for its client): a reason when one is missing, `false`
 * otherwise. Under CI it never skips, so a missing nginx fails the suite
 * instead of passing silently (.ci/run installs nginx-light).
 */
export function nginxSkipReason(): string | false {
  return needs("nginx", "openssl", "curl");
}

/** Ask the kernel for a free port on 127.0.0.1, then release it for nginx. */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Resolve once 127.0.0.1:`port` accepts a connection, polling with a growing pause. */
async function accepting(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    // A poll's backoff, not a wait for readiness: the loop ends on the first accept.
    await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 200)));
  }
  throw new Error(`nginx did not accept on port ${port}: ${log()}`);
}

/** A running nginx; `stop()` it in `after()`. */
export class NginxServer {
  readonly dir: string;
  readonly #child: ChildProcess;

  private constructor(dir: string, child: ChildProcess) {
    this.dir = dir;
    this.#child = child;
  }

  /** nginx's error log so far. */
  errorLog(): string {
    try {
      return readFileSync(join(this.dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  }

  /**
   * Start nginx with `site` (what goes inside the `http` block: upstream and
   * server blocks) and wait until it accepts on `port` (one it listens on).
   */
  static async start(site: string, port: number): Promise<NginxServer> {
    const nginx = findNginx();
    if (nginx === undefined)
      throw new Error("nginx is not installed (Debian: apt-get install nginx-light)");
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-nginx-"));
    for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"])
      mkdirSync(join(dir, "tmp", sub), { recursive: true });
    writeFileSync(join(dir, "site.conf"), site);
    writeFileSync(
      join(dir, "nginx.conf"),
      [
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        `pid ${join(dir, "nginx.pid")};`,
        `error_log ${join(dir, "error.log")} info;`,
        "events { worker_connections 64; }",
        "http {",
        `  access_log ${join(dir, "access.log")};`,
        `  client_body_temp_path ${join(dir, "tmp", "body")};`,
        `  proxy_temp_path ${join(dir, "tmp", "proxy")};`,
        `  fastcgi_temp_path ${join(dir, "tmp", "fastcgi")};`,
        `  uwsgi_temp_path ${join(dir, "tmp", "uwsgi")};`,
        `  scgi_temp_path ${join(dir, "tmp", "scgi")};`,
        `  include ${join(dir, "site.conf")};`,
        "}",
        "",
      ].join("\n"),
    );
    // -e: the error log before the config is read (the built-in one is under /var/log).
    const child = spawn(
      nginx,
      ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
    });
    const server = new NginxServer(dir, child);
    try {
      await accepting(port, child, () => stderr + server.errorLog());
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Stop nginx (SIGTERM, its fast shutdown), wait for it, remove its directory. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
