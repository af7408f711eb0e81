/**
 * `wsgiref/streams`: ready-made `wsgi.input` and `wsgi.errors` streams for
 * servers and tests.
 *
 * No direct Python module: these play the parts of `io.BytesIO`,
 * `tempfile.SpooledTemporaryFile`, `io.StringIO` and `sys.stderr` in Python's
 * `wsgiref` and its servers.
 *
 * @see PEP 3333, "Input and Error Streams"
 *
 * @module wsgiref/streams
 */

export { BytesInput } from "./streams/bytes-input.js";
export { StreamErrors, StringErrors } from "./streams/errors.js";
export { SpooledInput } from "./streams/spooled-input.js";
