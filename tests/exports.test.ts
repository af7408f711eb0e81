/**
 * Pins the public surface: the sorted value names each subpath exports. A change
 * here is an API change, made on purpose (STYLE.md §6).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

const expected: Record<string, string[]> = {
  wsgiref: [
    "BaseCGIHandler",
    "BaseHandler",
    "BytesInput",
    "CGIHandler",
    "CONNECTION_KEY",
    "Client",
    "DiskFilePart",
    "FilePart",
    "FileWrapper",
    "FormError",
    "H2Response",
    "H2ResponseWriter",
    "Headers",
    "IISCGIHandler",
    "MultiDict",
    "Request",
    "RequestError",
    "RequestHeaders",
    "Response",
    "ResponseHeaders",
    "ResponseWriter",
    "ServerHandler",
    "SimpleHandler",
    "SpooledInput",
    "StreamErrors",
    "StringErrors",
    "WSGIRequestHandler",
    "WSGIServer",
    "applicationUri",
    "createEnviron",
    "demoApp",
    "formatDateTime",
    "fromFetchHandler",
    "guessScheme",
    "handlerApp",
    "isHopByHop",
    "makeServer",
    "openFile",
    "proxyFix",
    "readEnviron",
    "reasonPhrase",
    "requestUri",
    "serverVersion",
    "setupTestingDefaults",
    "shiftPathInfo",
    "softwareVersion",
    "sysVersion",
    "toFetchHandler",
    "toLambdaHandler",
    "toNodeListener",
    "validator",
  ],
  "wsgiref/types": [],
  "wsgiref/util": [
    "FileWrapper",
    "applicationUri",
    "guessScheme",
    "isHopByHop",
    "openFile",
    "requestUri",
    "setupTestingDefaults",
    "shiftPathInfo",
  ],
  "wsgiref/streams": ["BytesInput", "SpooledInput", "StreamErrors", "StringErrors"],
  "wsgiref/headers": ["Headers"],
  "wsgiref/handlers": [
    "BaseCGIHandler",
    "BaseHandler",
    "CGIHandler",
    "IISCGIHandler",
    "SimpleHandler",
    "formatDateTime",
    "readEnviron",
  ],
  "wsgiref/simple-server": [
    "CONNECTION_KEY",
    "ServerHandler",
    "WSGIRequestHandler",
    "WSGIServer",
    "demoApp",
    "makeServer",
    "serverVersion",
    "softwareVersion",
    "sysVersion",
  ],
  "wsgiref/validate": ["validator"],
  "wsgiref/middleware": ["proxyFix"],
  "wsgiref/fetch": ["fromFetchHandler", "toFetchHandler"],
  "wsgiref/testing": ["Client", "createEnviron"],
  "wsgiref/lambda": ["toLambdaHandler"],
  "wsgiref/node": ["toNodeListener"],
  "wsgiref/response": [
    "DiskFilePart",
    "FilePart",
    "FormError",
    "H2Response",
    "H2ResponseWriter",
    "MultiDict",
    "Request",
    "RequestError",
    "RequestHeaders",
    "Response",
    "ResponseHeaders",
    "ResponseWriter",
    "handlerApp",
    "reasonPhrase",
  ],
};

describe("exports", () => {
  for (const [specifier, names] of Object.entries(expected)) {
    it(`${specifier} exports exactly its pinned names`, async () => {
      const mod: Record<string, unknown> = await import(specifier);
      assert.deepEqual(Object.keys(mod).sort(), [...names].sort());
    });
  }

  it("the root re-exports each subpath's values as the same objects", async () => {
    const root: Record<string, unknown> = await import("wsgiref");
    for (const specifier of Object.keys(expected).filter((s) => s !== "wsgiref")) {
      const mod: Record<string, unknown> = await import(specifier);
      for (const [name, value] of Object.entries(mod)) {
        assert.equal(root[name], value, `${specifier} ${name}`);
      }
    }
  });
});
