/**
 * Python's `http.client` as a test peer: one request, over HTTP or HTTPS (the
 * `ssl` module, certificate not verified: the tests make their own), answered
 * as JSON with every header in order and the body's bytes. wptserve's own
 * functional tests read responses through it (urllib), so the ported tests
 * read them the same way.
 */

import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

const CLIENT = `
import base64, http.client, json, ssl, sys
spec = json.loads(sys.argv[1])
if spec["tls"]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", spec["port"], timeout=20, context=context)
else:
    conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=20)
try:
    conn.putrequest(spec["method"], spec["path"])
    for name, value in spec["headers"]:
        conn.putheader(name, base64.b64decode(value))
    body = base64.b64decode(spec["body"]) if spec["body"] is not None else None
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    cipher = conn.sock.version() if spec["tls"] else None
    print(json.dumps({
        "status": resp.status,
        "reason": resp.reason,
        "version": resp.version,
        "headers": [[k, v] for k, v in resp.getheaders()],
        "body": base64.b64encode(data).decode(),
        "tls": cipher,
    }))
except Exception as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
`;

/** What Python's client read: status, headers in order (latin-1 text), body bytes. */
export interface PythonResponse {
  status: number;
  reason: string;
  /** `http.client`'s version: 11 for HTTP/1.1. */
  version: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /** The TLS version negotiated (`TLSv1.3`), over HTTPS. */
  tls: string | null;
}

/** An exception Python's client raised: its class name and `str(e)`. */
export interface PythonError {
  error: string;
  message: string;
}

/** One request's spec: the header values are bytes, sent as they are. */
export interface PythonRequest {
  method?: string;
  headers?: Array<[string, string | Uint8Array]>;
  body?: string | Uint8Array;
  tls?: boolean;
}

/** Make one request with Python's `http.client`; resolves to what it read, or the exception it raised. */
export async function pythonRequest(
  port: number,
  path: string,
  init: PythonRequest = {},
): Promise<PythonResponse | PythonError> {
  const spec = {
    port,
    path,
    method: init.method ?? "GET",
    tls: init.tls ?? false,
    headers: (init.headers ?? []).map(([name, value]) => [
      name,
      Buffer.from(value as Uint8Array).toString("base64"),
    ]),
    body: init.body === undefined ? null : Buffer.from(init.body as Uint8Array).toString("base64"),
  };
  const { stdout } = await run("python3", ["-c", CLIENT, JSON.stringify(spec)], {
    timeout: 30_000,
  });
  const parsed = JSON.parse(stdout) as (PythonResponse & { body: string }) | PythonError;
  if ("error" in parsed) return parsed;
  return { ...parsed, body: Buffer.from(parsed.body, "base64") };
}

/** The response, or a failed assertion naming the exception Python raised. */
export function expectResponse(result: PythonResponse | PythonError): PythonResponse {
  if ("error" in result)
    throw new Error(`python3 http.client raised ${result.error}: ${result.message}`);
  return result;
}

/** The value of header `name` (first, case-insensitive), as `resp.info()[name]`. */
export function infoHeader(response: PythonResponse, name: string): string | undefined {
  const lower = name.toLowerCase();
  return response.headers.find(([key]) => key.toLowerCase() === lower)?.[1];
}
