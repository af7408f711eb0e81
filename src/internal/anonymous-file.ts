/**
 * A temporary file with no name: what spooled request bodies and a form's large
 * files are written to.
 */

import { randomBytes } from "node:crypto";
import { closeSync, openSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Create a temporary file under `os.tmpdir()` named `<prefix>-<hex>` and unlink
 * it at once, returning its descriptor.
 *
 * Only the descriptor remains, so the file disappears with the process however
 * it ends, even by SIGKILL. The name is 128 random bits and the file is created
 * with `O_EXCL` and mode 0o600, so no one can guess it, plant a symlink there or
 * read it in the instant it has a name.
 */
export function openAnonymousFile(prefix: string): number {
  const path = join(tmpdir(), `${prefix}-${randomBytes(16).toString("hex")}`);
  const fd = openSync(path, "wx+", 0o600);
  try {
    unlinkSync(path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}
