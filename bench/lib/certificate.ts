/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by `openssl` at
 * run time, for the benchmarks and reliability runs over TLS.
 */

import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Where the certificate and its key were written. */
export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Make a P-256 certificate valid for a day in `dir` (cert.pem, key.pem). */
export function makeCertificate(dir: string): CertificateFiles {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
      ...["-nodes", "-days", "1", "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ...["-keyout", key, "-out", cert],
    ],
    { stdio: "ignore", timeout: 20_000 },
  );
  return { cert, key };
}

/** The `wsgiref serve` flags for a certificate made in `dir`. */
export function certificateFlags(dir: string): string[] {
  const { cert, key } = makeCertificate(dir);
  return ["--certfile", cert, "--keyfile", key];
}
