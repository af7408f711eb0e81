/**
 * Fuzz target: `requestUri` and `applicationUri` (wsgiref.util), and so the
 * latin-1 percent-quoting of `SCRIPT_NAME` and `PATH_INFO`.
 *
 * Fields: a flags byte (bit 0: `wsgi.url_scheme` https; bit 1: `includeQuery`
 * false), `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT`, `SCRIPT_NAME`, `PATH_INFO`,
 * `QUERY_STRING`.
 *
 * The oracle: with every key a string, the only error is the documented
 * `TypeError` for a `SCRIPT_NAME` or `PATH_INFO` past latin-1, and it comes
 * exactly then; the authority is `HTTP_HOST`, or `SERVER_NAME` with a port
 * unless it is the scheme's default; the quoted parts hold only unreserved
 * characters, the safe ones (`/`, and `;=,` in `PATH_INFO`) and upper-case `%XX`,
 * and percent-decode back to the environ's values; the query is appended unchanged.
 */

import type { PartialEnvironment } from "../../src/types.js";
import { applicationUri, requestUri } from "../../src/util.js";
import { check, expectDocumented, FuzzInput, isLatin1, percentDecodeLatin1 } from "./input.js";

const SCRIPT_QUOTED = /^(?:[A-Za-z0-9_.~/-]|%[0-9A-F]{2})*$/;
const PATH_QUOTED = /^(?:[A-Za-z0-9_.~/;=,-]|%[0-9A-F]{2})*$/;

/** What the target checks (broken versions, in the oracle's own tests). */
export interface Subject {
  applicationUri: typeof applicationUri;
  requestUri: typeof requestUri;
}

export function fuzz(data: Uint8Array, subject: Subject = { applicationUri, requestUri }): void {
  const input = new FuzzInput(data);
  const flags = input.byte();
  const scheme = flags & 1 ? "https" : "http";
  const includeQuery = !(flags & 2);
  const environ: PartialEnvironment = {
    "wsgi.url_scheme": scheme,
    HTTP_HOST: input.string(),
    SERVER_NAME: input.string(),
    SERVER_PORT: input.string(),
    SCRIPT_NAME: input.string(),
    PATH_INFO: input.string(),
    QUERY_STRING: input.string(),
  };
  const {
    HTTP_HOST: host,
    SERVER_NAME: server,
    SERVER_PORT: port,
  } = environ as Record<string, string>;
  const scriptName = environ.SCRIPT_NAME as string;
  const pathInfo = environ.PATH_INFO as string;
  const query = environ.QUERY_STRING as string;

  let base: string;
  try {
    base = subject.applicationUri(environ);
  } catch (err) {
    check(!isLatin1(scriptName), () => `applicationUri() threw: ${String(err)}`);
    expectDocumented(err, [
      [TypeError, /^environ\['SCRIPT_NAME'\] must contain only code points up to U\+00FF/],
    ]);
    return;
  }
  check(isLatin1(scriptName), "applicationUri() quoted a SCRIPT_NAME past latin-1");
  const authority =
    host || server + (port === (scheme === "https" ? "443" : "80") ? "" : `:${port}`);
  const prefix = `${scheme}://${authority}`;
  check(
    base.startsWith(prefix),
    () => `applicationUri() is ${JSON.stringify(base)}, not under ${JSON.stringify(prefix)}`,
  );
  const quotedScript = base.slice(prefix.length);
  check(
    SCRIPT_QUOTED.test(quotedScript),
    () => `SCRIPT_NAME quoted as ${JSON.stringify(quotedScript)}`,
  );
  check(
    percentDecodeLatin1(quotedScript) === (scriptName || "/"),
    "the quoted SCRIPT_NAME does not decode back",
  );

  let uri: string;
  try {
    uri = subject.requestUri(environ, includeQuery);
  } catch (err) {
    check(!isLatin1(pathInfo), () => `requestUri() threw: ${String(err)}`);
    expectDocumented(err, [
      [TypeError, /^environ\['PATH_INFO'\] must contain only code points up to U\+00FF/],
    ]);
    return;
  }
  check(isLatin1(pathInfo), "requestUri() quoted a PATH_INFO past latin-1");
  check(uri.startsWith(base), "requestUri() does not begin with applicationUri()");
  let rest = uri.slice(base.length);
  if (includeQuery && query) {
    check(rest.endsWith(`?${query}`), "the query string is not appended unchanged");
    rest = rest.slice(0, -(query.length + 1));
  }
  check(PATH_QUOTED.test(rest), () => `PATH_INFO quoted as ${JSON.stringify(rest)}`);
  // As in Python, with no SCRIPT_NAME the first character of the quoted PATH_INFO
  // is dropped: under PEP 3333 that is its leading '/'.
  if (pathInfo === "" || pathInfo.startsWith("/")) {
    const expected = scriptName ? pathInfo : pathInfo.slice(1);
    check(
      percentDecodeLatin1(rest) === expected,
      () => `the quoted PATH_INFO ${JSON.stringify(rest)} does not decode back`,
    );
  }
}

/** Seeds, as fields: CPython's testAppURIs/testReqURIs cases and the tests' latin-1 ones. */
export const seeds: readonly (readonly string[])[] = [
  ["0", "127.0.0.1", "127.0.0.1", "80", "", "/", ""],
  ["0", "", "127.0.0.1", "8080", "/spam", "/ham", "a=b&c"],
  ["1", "", "example.com", "443", "/sp\xe4m", "/sp\xe4m", ""],
  ["1", "", "example.com", "80", "", "/x?y#z", "q"],
  ["2", "host:81", "ignored", "81", "/a b", "/;=,/%", "q=1"],
  ["0", "h", "s", "80", "/\u2603", "/x", ""],
  ["0", "h", "s", "80", "/x", "/\u2603", ""],
  ["0", "", "s", "", "", "", ""],
];
