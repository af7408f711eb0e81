/**
 * Request forms: `application/x-www-form-urlencoded` and `multipart/form-data`
 * bodies turned into a `MultiDict`, within limits on the number and the size of
 * their parts. Multipart parsing is busboy's (a well-kept streaming parser), fed
 * the body the server has already received.
 */

import { Buffer } from "node:buffer";
import busboy from "busboy";
import { show } from "../internal/check.js";
import { MultiDict } from "./multi-dict.js";

/** Limits on a request's form (`Request.POST`), in parts and bytes. */
export interface FormLimits {
  /** Most fields and files a form may have; past it, a `FormError` (413). Default 1000. */
  maxParts?: number;
  /** Most bytes one field value or one file may have; past it, a `FormError` (413). Default 16 MiB. */
  maxPartSize?: number;
}

/** `FormLimits` with every default filled in. */
export type ResolvedFormLimits = Required<FormLimits>;

/** The default `FormLimits`: 1000 parts (Werkzeug's `max_form_parts`), 16 MiB a part. */
export const DEFAULT_FORM_LIMITS: ResolvedFormLimits = Object.freeze({
  maxParts: 1000,
  maxPartSize: 16 * 1024 * 1024,
});

/**
 * A request's form could not be read: malformed (`status` 400) or past a
 * `FormLimits` limit (`status` 413).
 *
 * Thrown when `Request.POST` is read. A handler run by `handlerApp` that lets it
 * escape before writing anything is answered with `setError(status, message)`.
 */
export class FormError extends Error {
  /** The HTTP status that answers it: 400 or 413. */
  readonly status: 400 | 413;

  constructor(message: string, status: 400 | 413, options?: ErrorOptions) {
    super(message, options);
    this.name = "FormError";
    this.status = status;
  }
}

/**
 * A file of a `multipart/form-data` form: its bytes, with the name and media type
 * the client gave.
 */
export class FilePart extends Uint8Array {
  /** The file name the client sent (`""` when none). */
  readonly filename: string;
  /** The part's media type (`application/octet-stream` when none was sent). */
  readonly contentType: string;

  /** `Uint8Array`: views and copies made from a FilePart (subarray, slice, map) are plain bytes. */
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  /** Hold `data` (copied; chunks are joined) as the file `filename` of type `contentType`. */
  constructor(
    data: Uint8Array | readonly Uint8Array[],
    filename = "",
    contentType = "application/octet-stream",
  ) {
    const chunks = data instanceof Uint8Array ? [data] : data;
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    super(length);
    let offset = 0;
    for (const chunk of chunks) {
      this.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.filename = filename;
    this.contentType = contentType;
  }
}

/** A form value: text for a field, a `FilePart` for a file. */
export type FormValue = string | FilePart;

/** Which form encoding a `Content-Type` names, if any. */
export function formKind(contentType: string): "urlencoded" | "multipart" | undefined {
  const media = contentType.split(";", 1)[0]!.trim().toLowerCase();
  if (media === "application/x-www-form-urlencoded") return "urlencoded";
  if (media === "multipart/form-data") return "multipart";
  return undefined;
}

/** Fill in and check limits. */
export function resolveFormLimits(limits: FormLimits = {}): ResolvedFormLimits {
  if (typeof limits !== "object" || limits === null) {
    throw new TypeError(`form limits must be an object: ${show(limits)}`);
  }
  const resolved = { ...DEFAULT_FORM_LIMITS };
  for (const key of ["maxParts", "maxPartSize"] as const) {
    const value: unknown = limits[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new TypeError(`${key} must be a non-negative integer: ${show(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
}

function tooManyParts(limits: ResolvedFormLimits): FormError {
  return new FormError(`form has more than ${limits.maxParts} parts`, 413);
}

function tooLarge(name: string, limits: ResolvedFormLimits): FormError {
  return new FormError(`form part is larger than ${limits.maxPartSize} bytes: ${show(name)}`, 413);
}

/**
 * Parse an `application/x-www-form-urlencoded` body (UTF-8, `+` as space, as
 * browsers send it) into fields. Throws a `FormError` (413) past the limits.
 */
export function parseUrlencoded(
  body: Uint8Array,
  limits: ResolvedFormLimits,
): MultiDict<FormValue> {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  const form = new MultiDict<FormValue>();
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    if (++count > limits.maxParts) throw tooManyParts(limits);
    if (Buffer.byteLength(value) > limits.maxPartSize) throw tooLarge(name, limits);
    form.add(name, value);
  }
  return form;
}

/**
 * Parse a `multipart/form-data` body, whose `Content-Type` (with its boundary) is
 * `contentType`, into fields (text, UTF-8 unless the part says otherwise) and
 * files (`FilePart`), in the order of the parts.
 *
 * Rejects with a `FormError`: 400 when the body is malformed, 413 past the limits.
 */
export function parseMultipart(
  body: Uint8Array,
  contentType: string,
  limits: ResolvedFormLimits,
): Promise<MultiDict<FormValue>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { "content-type": contentType },
        // File names are UTF-8 in what browsers send (WHATWG HTML's form encoding).
        defParamCharset: "utf8",
        limits: {
          parts: limits.maxParts,
          fields: limits.maxParts,
          files: limits.maxParts,
          fieldSize: limits.maxPartSize,
          fileSize: limits.maxPartSize,
        },
      });
    } catch (err) {
      reject(
        new FormError(`multipart/form-data body cannot be read: ${errorText(err)}`, 400, {
          cause: err,
        }),
      );
      return;
    }
    // Parts in order; a file's slot is filled when its last byte has arrived.
    const slots: Array<[string, FormValue] | undefined> = [];
    let failed = false;
    let closed = false;
    const fail = (error: FormError): void => {
      if (failed || closed) return;
      failed = true;
      reject(error);
    };
    parser.on("field", (name, value, info) => {
      if (typeof name !== "string") fail(nameless());
      else if (info.valueTruncated || info.nameTruncated) fail(tooLarge(name, limits));
      else slots.push([name, value]);
    });
    parser.on("file", (name, stream, info) => {
      // A body that ends inside a file part: busboy destroys the file's stream with
      // its error, which, left without a listener, would crash the process.
      stream.on("error", (err) => fail(malformed(err)));
      if (typeof name !== "string") {
        fail(nameless());
        stream.resume();
        return;
      }
      const slot = slots.length;
      slots.push(undefined);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("limit", () => fail(tooLarge(name, limits)));
      stream.on("end", () => {
        slots[slot] = [name, new FilePart(chunks, info.filename ?? "", info.mimeType)];
      });
    });
    for (const event of ["partsLimit", "filesLimit", "fieldsLimit"] as const) {
      parser.on(event, () => fail(tooManyParts(limits)));
    }
    parser.on("error", (err) => fail(malformed(err)));
    parser.on("close", () => {
      closed = true;
      if (failed) return;
      const form = new MultiDict<FormValue>();
      for (const slot of slots) {
        if (slot !== undefined) form.add(slot[0], slot[1]);
      }
      resolve(form);
    });
    // busboy never settles a form that goes on after its close delimiter with a
    // file part cut short: it waits for the end of that file, which no input
    // will bring. The body is all in memory and busboy parses it without I/O, so
    // once it has taken the body and the ticks that follow have run, nothing
    // more can happen.
    parser.write(body, () => {
      setImmediate(() => fail(malformed(new Error("the body ends inside a file part"))));
    });
    parser.end();
  });
}

// busboy passes `undefined` as the name of a part whose Content-Disposition has
// none, against its types: such a part cannot be a form field (RFC 7578 §4.2).
function nameless(): FormError {
  return new FormError("multipart/form-data part has no name (RFC 7578 §4.2)", 400);
}

function malformed(err: unknown): FormError {
  return new FormError(`multipart/form-data body is malformed: ${errorText(err)}`, 400, {
    cause: err,
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
