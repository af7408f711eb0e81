/**
 * A self-signed certificate for the HTTPS and HTTP/2 tests, made with `openssl`
 * (as docs/server.md tells users to): an EC P-256 key and a certificate for
 * `localhost` and `127.0.0.1`, valid one day, in a temporary directory the
 * caller removes.
 */

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and its key, as PEM text and as files. */
export interface Certificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** Remove the files. */
  remove(): Promise<void>;
}

/** Make a self-signed certificate for `localhost` and `127.0.0.1` with `openssl req -x509`. */
export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), "wsgiref-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  await run(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { timeout: 20_000 },
  );
  return {
    cert: await readFile(certFile, "utf8"),
    key: await readFile(keyFile, "utf8"),
    certFile,
    keyFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
