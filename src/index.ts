/**
 * The package root: every value of every module, re-exported by name (SPEC.md §1),
 * and the interface types of `wsgiref/types`.
 */

// wsgiref/fetch
export type { FetchHandler, FetchHandlerOptions, GatewayOptions } from "./fetch.js";
export { fromFetchHandler, toFetchHandler } from "./fetch.js";
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
// wsgiref/lambda
export type {
  LambdaHandlerOptions,
  LambdaHttpEvent,
  LambdaHttpHandler,
  LambdaHttpResult,
} from "./lambda.js";
export { toLambdaHandler } from "./lambda.js";
// wsgiref/middleware
export type { ProxyFixOptions, ProxyFixOrig } from "./middleware.js";
export { proxyFix } from "./middleware.js";
// wsgiref/node
export type { NodeListener, NodeListenerOptions } from "./node.js";
export { toNodeListener } from "./node.js";
export type {
  Chunk,
  ContentPart,
  CookieOptions,
  Duration,
  FormLimits,
  FormValue,
  H2HeaderList,
  H2PushOptions,
  Handler,
  HandlerAppOptions,
  HeaderValue,
  RequestLimits,
  ResponseContent,
  StatusInit,
} from "./response/index.js";
// wsgiref/response
export {
  DiskFilePart,
  FilePart,
  FormError,
  H2Response,
  H2ResponseWriter,
  handlerApp,
  MultiDict,
  Request,
  RequestError,
  RequestHeaders,
  Response,
  ResponseHeaders,
  ResponseWriter,
  reasonPhrase,
} from "./response/index.js";
export type {
  RequestHandlerClass,
  RequestHandlerServer,
  RequestLogger,
  ResolvedServerOptions,
  ServerClass,
  ServerConnection,
  ServerOptions,
} from "./simple-server.js";
// wsgiref/simple-server
export {
  CONNECTION_KEY,
  demoApp,
  makeServer,
  ServerHandler,
  serverVersion,
  softwareVersion,
  sysVersion,
  WSGIRequestHandler,
  WSGIServer,
} from "./simple-server.js";
// wsgiref/streams
export { BytesInput, SpooledInput, StreamErrors, StringErrors } from "./streams.js";
// wsgiref/testing
export type { ClientOptions, EnvironInit, RequestInput } from "./testing.js";
export { Client, createEnviron } from "./testing.js";
// wsgiref/types
export type {
  ErrorStream,
  FileLike,
  FileWrapperClass,
  InputStream,
  PartialEnvironment,
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
export type { ValidatorOptions } from "./validate.js";
// wsgiref/validate
export { validator } from "./validate.js";
