/**
 * `RequestError`: a request that cannot be read as the handler asked, through
 * the client's fault: malformed (400) or past a limit (413).
 */

/**
 * A request could not be read: malformed (`status` 400) or past one of the
 * `Request`'s limits (`status` 413). `FormError` is the one a form throws.
 *
 * A handler run by `handlerApp` that lets it escape before writing anything is
 * answered with `setError(status, message)`.
 */
export class RequestError extends Error {
  /** The HTTP status that answers it: 400 or 413. */
  readonly status: 400 | 413;

  constructor(message: string, status: 400 | 413, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestError";
    this.status = status;
  }
}
