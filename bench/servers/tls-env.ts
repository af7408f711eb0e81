/**
 * The certificate the TLS benchmark servers use: `bench/run.ts` makes one with
 * openssl for the run and names its files in two environment variables.
 */

import { readFileSync } from "node:fs";

/** The environment variables naming the certificate and its key (PEM files). */
export const CERT_ENV = "WSGIREF_BENCH_CERT";
export const KEY_ENV = "WSGIREF_BENCH_KEY";

/** The certificate and key from `WSGIREF_BENCH_CERT` and `WSGIREF_BENCH_KEY`. */
export function benchTls(): { cert: Buffer; key: Buffer } {
  const cert = process.env[CERT_ENV];
  const key = process.env[KEY_ENV];
  if (!cert || !key) {
    throw new Error(`${CERT_ENV} and ${KEY_ENV} must name the PEM certificate and key`);
  }
  return { cert: readFileSync(cert), key: readFileSync(key) };
}
