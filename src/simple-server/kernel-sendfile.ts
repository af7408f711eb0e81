/**
 * A file's bytes sent to a client by the kernel: sendfile(2), through the small
 * addon in `native/sendfile.c`, for the responses where the bytes on the wire are
 * exactly the file's (Node frames nothing: a Content-Length or a close-delimited
 * body, not chunked; a plain TCP socket, not TLS).
 *
 * When the addon is missing (no C compiler at install, not Linux) or the response
 * does not qualify, the caller streams the file through JavaScript instead, so this
 * is a speed-up and never a requirement.
 */

import { Buffer } from "node:buffer";
import { closeSync, fstatSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { getSystemErrorName } from "node:util";
import { streamDestroyedError } from "../internal/disconnect.js";

/** The addon's surface (`native/sendfile.c`). */
interface SendfileAddon {
  /** One bounded step on the thread pool; calls back with (errno or 0, bytes sent, file ended). */
  step(outFd: number, inFd: number, max: number, done: StepCallback): void;
  /** A close-on-exec duplicate of `fd`, or `-errno`. */
  dup(fd: number): number;
  /** Move `fd`'s position to `offset` (lseek from the start): 0, or `-errno`. */
  seek?(fd: number, offset: number): number;
}

type StepCallback = (errno: number, sent: number, eof: boolean) => void;

interface StepResult {
  errno: number;
  sent: number;
  eof: boolean;
}

/** What the kernel sent, and whether the file ended before the limit. */
export interface KernelSent {
  sent: number;
  ended: boolean;
}

const require = createRequire(import.meta.url);

/** The addon, or undefined when it is turned off, not built, or not for this system. */
function loadAddon(): SendfileAddon | undefined {
  if (process.env.WSGIREF_SENDFILE === "0" || process.platform !== "linux") return undefined;
  try {
    // build/src/simple-server/ → build/native/, where scripts/build-native.js puts
    // it; Node's require cache makes every later load the same object.
    return require("../../native/sendfile.node") as SendfileAddon;
  } catch {
    return undefined;
  }
}

/**
 * Each send holds a thread of libuv's pool for up to 100 ms at a time; at most half
 * the pool goes to one server's sends, so that file reads and spooled uploads
 * still get threads. Responses past that stream through JavaScript.
 */
const MAX_ACTIVE = Math.max(1, Math.floor(threadPoolSize() / 2));

function threadPoolSize(): number {
  const size = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

/** The largest integer a double holds exactly: the limit of "no limit". */
const NO_LIMIT = 2 ** 53;

const EMPTY = Buffer.alloc(0);

/**
 * Move the position of the file open on `fd` to `offset`, so that a server
 * sending it from its position sends from there (a byte range). Returns false,
 * having done nothing, when the addon is not loaded (or is an older build).
 */
export function seekFile(fd: number, offset: number): boolean {
  const addon = loadAddon();
  if (addon?.seek === undefined) return false;
  return addon.seek(fd, offset) === 0;
}

/**
 * One server's route for files by sendfile(2): the addon, the sends in flight
 * (at most `MAX_ACTIVE`), and how long a send may go without the client taking
 * a byte.
 */
export class KernelSendfile {
  #addon: SendfileAddon | undefined;
  #active = 0;
  /**
   * How long a send may go without the client taking a byte before its
   * connection is closed (0: no limit): the server's `sendTimeout`. The
   * kernel's bytes bypass the socket's own buffer, where the server watches the
   * other routes stall, so this route enforces it itself.
   */
  sendTimeout: number;

  constructor(sendTimeout = 0) {
    this.sendTimeout = sendTimeout;
    this.#addon = loadAddon();
  }

  /** Whether the addon is loaded and in use. */
  get available(): boolean {
    return this.#addon !== undefined;
  }

  /**
   * Turn the route off (`false`) or load the addon again (`true`), for tests of
   * both routes; the environment variable `WSGIREF_SENDFILE=0` turns it off for
   * a whole process.
   */
  use(enabled: boolean): void {
    this.#addon = enabled ? loadAddon() : undefined;
  }

  /**
   * Send the file open on `fd`, from its current position (which it advances),
   * as the body of `res`, whose headers are set, until the file ends or `limit`
   * bytes are sent; `out` is the descriptor of the plain TCP socket under `res`
   * (-1: none, as for TLS).
   *
   * Resolves `undefined`, having sent nothing, when the kernel route does not
   * apply: no addon, every slot busy, not a regular file, a chunked or TLS
   * response, or a sendfile(2) that refuses the pair outright (EINVAL). The
   * caller then streams. Rejects with a disconnect error when the client goes
   * away, or takes nothing for `sendTimeout` (the connection is closed then),
   * and with the errno otherwise; both descriptors are the caller's again when
   * it settles, and the slot is free.
   */
  async send(
    fd: number,
    res: ServerResponse,
    out: number,
    limit: number,
  ): Promise<KernelSent | undefined> {
    const addon = this.#addon;
    if (addon === undefined || this.#active >= MAX_ACTIVE || limit <= 0 || out < 0) {
      return undefined;
    }
    // Node adds chunk framing to what it writes; the kernel's bytes would bypass it.
    if ((res as { chunkedEncoding?: boolean }).chunkedEncoding !== false) return undefined;
    if (!isRegularFile(fd)) return undefined;
    // headersSent is true once the head is stored, not once it is written: always
    // flush (an empty write when it is out already).
    res.flushHeaders();
    const socket = res.socket;
    if (socket === null || socket.destroyed) return undefined;
    this.#active++;
    try {
      await flushed(socket);
      // Our own duplicates: Node may close the socket's descriptor while a step
      // runs, and its number may be reused at once; the duplicate keeps pointing
      // at this socket.
      const outCopy = duplicate(addon, out);
      let fileCopy: number;
      try {
        fileCopy = duplicate(addon, fd);
      } catch (err) {
        closeSync(outCopy);
        throw err;
      }
      try {
        return await sendAll(
          addon,
          outCopy,
          fileCopy,
          res,
          Math.min(limit, NO_LIMIT),
          this.sendTimeout,
        );
      } finally {
        closeSync(outCopy);
        closeSync(fileCopy);
      }
    } finally {
      this.#active--;
    }
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    // The streaming route reports the descriptor's error in its own words.
    return false;
  }
}

function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const err: NodeJS.ErrnoException = new Error(`${syscall} failed: ${code}`);
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

function duplicate(addon: SendfileAddon, fd: number): number {
  const copy = addon.dup(fd);
  if (copy < 0) throw errnoError(-copy, "dup");
  return copy;
}

/** Wait until everything written to the socket before (the headers) has left Node. */
function flushed(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    // Writes complete in order: the callback of an empty write comes after them all.
    socket.write(EMPTY, (err) => {
      if (err || socket.destroyed) reject(streamDestroyedError("the client connection"));
      else resolve();
    });
  });
}

function step(addon: SendfileAddon, out: number, file: number, max: number): Promise<StepResult> {
  return new Promise((resolve) => {
    addon.step(out, file, max, (errno, sent, eof) => resolve({ errno, sent, eof }));
  });
}

const DISCONNECTS = new Set(["EPIPE", "ECONNRESET", "ENOTCONN", "ESHUTDOWN"]);

async function sendAll(
  addon: SendfileAddon,
  out: number,
  file: number,
  res: ServerResponse,
  limit: number,
  stallMax: number,
): Promise<KernelSent | undefined> {
  let sent = 0;
  // When the client last took a byte.
  let progress = performance.now();
  for (;;) {
    const result = await step(addon, out, file, limit - sent);
    sent += result.sent;
    if (result.errno !== 0) {
      const code = getSystemErrorName(-result.errno);
      if (sent === 0 && (code === "EINVAL" || code === "ENOSYS")) return undefined;
      if (DISCONNECTS.has(code) || res.destroyed) {
        // Node learns of it only from its own reads and writes: after a client's
        // half-close it reads no more, and this write went round it, so the socket
        // would stay open for good.
        res.socket?.destroy();
        throw streamDestroyedError("the client connection");
      }
      throw errnoError(result.errno, "sendfile");
    }
    if (result.eof || sent >= limit) return { sent, ended: result.eof };
    if (res.destroyed) throw streamDestroyedError("the client connection");
    const now = performance.now();
    if (result.sent > 0) {
      progress = now;
    } else if (stallMax > 0 && now - progress >= stallMax) {
      // A client that takes nothing gives the slot (and its pool thread) back.
      res.socket?.destroy();
      throw streamDestroyedError("the client connection");
    }
  }
}
