/**
 * A throwaway lighttpd for tests: its own config, document root and logs in a
 * temporary directory, bound to 127.0.0.1 on a free port, run in the foreground
 * and stopped by its PID.
 *
 * CGI's stderr goes to `server.breakagelog` (lighttpd's log for CGI stderr;
 * in the foreground, without it, CGI stderr would go to lighttpd's own stderr).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { findCommand, needs } from "./peers.js";

/** Where lighttpd is installed, or `undefined`: `PATH` first, then the sbin directories Debian uses. */
export function findLighttpd(): string | undefined {
  return findCommand("lighttpd", ["/usr/sbin", "/usr/local/sbin", "/sbin"]);
}

/**
 * The `skip` option for a suite that needs lighttpd (and curl, its client): a
 * reason when one is missing, `false` otherwise. Under CI it never skips, so a
 * missing lighttpd fails the suite (in `LighttpdServer.start`) instead of
 * passing silently.
 */
export function lighttpdSkipReason(): string | false {
  return needs("lighttpd", "curl");
}

/** What `LighttpdServer.start` sets up. */
export interface LighttpdOptions {
  /** Files to write under the document root: relative path → content. */
  files?: Record<string, string | Uint8Array>;
  /** File modes to set, for directly executable CGI scripts: relative path → mode. */
  modes?: Record<string, number>;
  /** `cgi.assign`: extension → interpreter (`""` runs the file itself). Default: `.cgi` → `""`. */
  cgiAssign?: Record<string, string>;
  /** Variables added to every CGI process's environment (mod_setenv). */
  cgiEnv?: Record<string, string>;
  /** Extra lines appended to the generated config. */
  extraConfig?: string;
  /** How many free ports to try when another process takes the chosen one first. Default 5. */
  portAttempts?: number;
}

/** Quote a string for lighttpd's config syntax. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Ask the kernel for a free port on 127.0.0.1, then release it for lighttpd. */
async function reservePort(): Promise<number> {
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

/** Resolve after `ms` milliseconds (poll backoff only, never a synchronisation). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GET a path and resolve with the status and body, or reject on a connection error. */
function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** A running lighttpd; `stop()` it in `after()`. */
export class LighttpdServer {
  readonly dir: string;
  readonly docRoot: string;
  readonly errorLog: string;
  readonly breakageLog: string;
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stopped = false;

  private constructor(dir: string, port: number, child: ChildProcess, exited: Promise<void>) {
    this.dir = dir;
    this.docRoot = join(dir, "htdocs");
    this.errorLog = join(dir, "error.log");
    this.breakageLog = join(dir, "breakage.log");
    this.port = port;
    this.#child = child;
    this.#exited = exited;
  }

  /** The process ID of lighttpd. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** lighttpd's own error log, as text (empty when not written yet). */
  readErrorLog(): string {
    return readOrEmpty(this.errorLog);
  }

  /** What CGI processes wrote to their stderr, as text. */
  readBreakageLog(): string {
    return readOrEmpty(this.breakageLog);
  }

  /**
   * Write a config, start lighttpd in the foreground and wait until it answers.
   *
   * Readiness is polled: a GET for a random token file is retried (bounded attempts,
   * short growing backoff) until lighttpd serves it, which also proves that the port
   * belongs to this lighttpd. If lighttpd exits first because the port was taken
   * meanwhile (`Address already in use`), another port is tried.
   */
  static async start(options: LighttpdOptions = {}): Promise<LighttpdServer> {
    const binary = findLighttpd();
    if (binary === undefined) {
      throw new Error("lighttpd is not installed; on Debian: apt-get install lighttpd");
    }
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-lighttpd-"));
    const docRoot = join(dir, "htdocs");
    const token = randomBytes(8).toString("hex");
    const files: Record<string, string | Uint8Array> = {
      [`ready-${token}.txt`]: token,
      ...options.files,
    };
    mkdirSync(docRoot);
    for (const [rel, content] of Object.entries(files)) {
      const path = join(docRoot, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    for (const [rel, mode] of Object.entries(options.modes ?? {})) {
      chmodSync(join(docRoot, rel), mode);
    }
    const attempts = options.portAttempts ?? 5;
    let lastFailure = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = await reservePort();
      const conf = join(dir, "lighttpd.conf");
      writeFileSync(conf, config(dir, docRoot, port, options));
      const child = spawn(binary, ["-D", "-f", conf], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      });
      let output = "";
      child.stdout?.on("data", (c: Buffer) => {
        output += c.toString();
      });
      child.stderr?.on("data", (c: Buffer) => {
        output += c.toString();
      });
      let exitCode: number | null | undefined;
      const exited = new Promise<void>((resolve) => {
        child.once("exit", (code, signal) => {
          exitCode = code ?? (signal === null ? null : -1);
          resolve();
        });
        child.once("error", (err) => {
          output += String(err);
          exitCode = -1;
          resolve();
        });
      });
      const server = new LighttpdServer(dir, port, child, exited);
      const ready = await server.#waitReady(token, () => exitCode !== undefined);
      if (ready) return server;
      await server.stop({ keepDir: true });
      lastFailure = `${output}${server.readErrorLog()}`;
      if (!/Address already in use/i.test(lastFailure)) break;
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`lighttpd did not start: ${lastFailure.trim()}`);
  }

  /** Poll until the token file is served; false if lighttpd exits or never answers. */
  async #waitReady(token: string, hasExited: () => boolean): Promise<boolean> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (hasExited()) return false;
      try {
        const { status, body } = await probe(this.port, `/ready-${token}.txt`);
        if (status === 200 && body === token) return true;
        // Someone else answered on this port: not ours.
        return false;
      } catch {
        // Not listening yet (ECONNREFUSED): back off a little and retry.
      }
      await delay(Math.min(5 * (attempt + 1), 100));
    }
    return false;
  }

  /** Stop lighttpd by its PID (SIGTERM, then SIGKILL after 5 s) and remove the temp dir. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      const child = this.#child;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await this.#exited;
        clearTimeout(timer);
      }
    }
    if (options.keepDir !== true && process.env.KEEP_LIGHTTPD_DIR === undefined) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/** The generated lighttpd.conf. */
function config(dir: string, docRoot: string, port: number, options: LighttpdOptions): string {
  const assign = options.cgiAssign ?? { ".cgi": "" };
  const lines = [
    `server.document-root = ${quote(docRoot)}`,
    `server.bind = "127.0.0.1"`,
    `server.port = ${port}`,
    `server.errorlog = ${quote(join(dir, "error.log"))}`,
    `server.breakagelog = ${quote(join(dir, "breakage.log"))}`,
    `server.upload-dirs = (${quote(dir)})`,
    `server.modules += ("mod_setenv", "mod_cgi")`,
    `cgi.assign = (${Object.entries(assign)
      .map(([ext, interp]) => `${quote(ext)} => ${quote(interp)}`)
      .join(", ")})`,
  ];
  const env = Object.entries(options.cgiEnv ?? {});
  if (env.length > 0) {
    lines.push(
      `setenv.add-environment = (${env.map(([k, v]) => `${quote(k)} => ${quote(v)}`).join(", ")})`,
    );
  }
  if (options.extraConfig !== undefined) lines.push(options.extraConfig);
  return `${lines.join("\n")}\n`;
}
