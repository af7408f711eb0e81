/**
 * The package root: every value of every module, re-exported by name (SPEC.md §1),
 * and the interface types of `wsgiref/types`.
 */

export type { HeadersClass, OutputStream } from "./handlers/index.js";
// wsgiref/handlers
export {
  BaseCGIHandler,
  BaseHandler,
  CGIHandler,
  formatDateTime,
  IISCGIHandler,
  readEnviron,
  SimpleHandler,
} from "./handlers/index.js";
// wsgiref/headers
export { Headers } from "./headers.js";
// wsgiref/streams
export { BytesInput, SpooledInput, StreamErrors, StringErrors } from "./streams.js";
// wsgiref/types
export type {
  ErrorStream,
  FileLike,
  FileWrapperClass,
  InputStream,
  KnownEnvironKeys,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIBody,
  WSGIEnvironment,
} from "./types.js";
// wsgiref/util
export {
  applicationUri,
  FileWrapper,
  guessScheme,
  isHopByHop,
  openFile,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from "./util.js";
