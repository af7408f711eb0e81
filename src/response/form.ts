/**
 * Request forms: `application/x-www-form-urlencoded` and `multipart/form-data`
 * bodies turned into a `MultiDict`, within limits on their size, their parts and
 * the memory they take. Multipart parsing is busboy's (a well-kept streaming
 * parser), fed the body a chunk at a time as it is read, with the event loop
 * free between chunks; large files go to a temporary file (`DiskFilePart`).
 */

import { Buffer } from "node:buffer";
import busboy from "busboy";
import { show } from "../internal/check.js";
import { DiskFilePart, diskFileInternals, FilePart, TempFile } from "./file-part.js";
import { MultiDict } from "./multi-dict.js";
import { RequestError } from "./request-error.js";

export { DiskFilePart, FilePart } from "./file-part.js";

/** Limits on a request's form (`Request.POST`), in parts and bytes. */
export interface FormLimits {
  /** Most fields and files a form may have; past it, a `FormError` (413). Default 1000. */
  maxParts?: number;
  /** Most bytes one field value or one file may have; past it, a `FormError` (413). Default 16 MiB. */
  maxPartSize?: number;
  /**
   * Most bytes a form's body may have: a larger `CONTENT_LENGTH` is a `FormError`
   * (413) before anything is read; a body of unknown length is counted as it is
   * read. Default 64 MiB.
   */
  maxFormSize?: number;
  /**
   * Most bytes of a form kept in memory: the whole body of an urlencoded form
   * (checked against `CONTENT_LENGTH` before reading), the fields of a multipart
   * one and its files held in memory. Fields past it are a `FormError` (413);
   * a file that would go past it is kept on disk instead. Default 16 MiB.
   */
  maxFormMemory?: number;
  /**
   * Most bytes of one multipart file kept in memory (a `FilePart`); a larger file
   * is kept in a temporary file (a `DiskFilePart`), removed when the request
   * ends. Also the largest multipart body read whole first, so that
   * `request.body` still has it. Default 1 MiB.
   */
  fileSpoolThreshold?: number;
}

/** `FormLimits` with every default filled in. */
export type ResolvedFormLimits = Required<FormLimits>;

const MiB = 1024 * 1024;

/**
 * The default `FormLimits`: 1000 parts (Werkzeug's `max_form_parts`), 16 MiB a
 * part, 64 MiB a form, 16 MiB of it in memory, files over 1 MiB on disk.
 */
export const DEFAULT_FORM_LIMITS: ResolvedFormLimits = Object.freeze({
  maxParts: 1000,
  maxPartSize: 16 * MiB,
  maxFormSize: 64 * MiB,
  maxFormMemory: 16 * MiB,
  fileSpoolThreshold: MiB,
});

const LIMIT_NAMES = Object.keys(DEFAULT_FORM_LIMITS) as Array<keyof ResolvedFormLimits>;

/** How much of the body one step of a multipart parse reads. */
const READ_CHUNK = 256 * 1024;

/**
 * A request's form could not be read: malformed (`status` 400) or past a
 * `FormLimits` limit (`status` 413).
 *
 * Thrown when `Request.POST` is read. A handler run by `handlerApp` that lets it
 * escape before writing anything is answered with `setError(status, message)`.
 */
export class FormError extends RequestError {
  constructor(message: string, status: 400 | 413, options?: ErrorOptions) {
    super(message, status, options);
    this.name = "FormError";
  }
}

/** A form value: text for a field; a `FilePart` or a `DiskFilePart` for a file. */
export type FormValue = string | FilePart | DiskFilePart;

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
  for (const key of LIMIT_NAMES) {
    const value: unknown = limits[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`${key} must be a non-negative integer: ${show(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
}

/** The `FormError` (413) of a form whose body is larger than `maxFormSize`. */
export function formTooLarge(limits: ResolvedFormLimits, length?: number): FormError {
  const size = length === undefined ? "" : `: ${length} bytes`;
  return new FormError(`form is larger than maxFormSize (${limits.maxFormSize} bytes)${size}`, 413);
}

/** The `FormError` (413) of a form that would take more than `maxFormMemory`. */
export function formTooBig(limits: ResolvedFormLimits, length?: number): FormError {
  const size = length === undefined ? "" : `: ${length} bytes`;
  return new FormError(
    `form takes more memory than maxFormMemory (${limits.maxFormMemory} bytes)${size}`,
    413,
  );
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
export function parseUrlencoded(body: Uint8Array, limits: FormLimits): MultiDict<FormValue> {
  const resolved = resolveFormLimits(limits);
  if (body.byteLength > Math.min(resolved.maxFormSize, resolved.maxFormMemory)) {
    throw body.byteLength > resolved.maxFormSize
      ? formTooLarge(resolved, body.byteLength)
      : formTooBig(resolved, body.byteLength);
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  const form = new MultiDict<FormValue>();
  let count = 0;
  for (const [name, value] of new URLSearchParams(text)) {
    if (++count > resolved.maxParts) throw tooManyParts(resolved);
    if (Buffer.byteLength(value) > resolved.maxPartSize) throw tooLarge(name, resolved);
    form.add(name, value);
  }
  return form;
}

/** Remove the temporary file of `form`'s `DiskFilePart`s. */
export function closeForm(form: MultiDict<FormValue>): void {
  for (const [, value] of form) {
    if (value instanceof DiskFilePart) diskFileInternals.file(value).close();
  }
}

/**
 * Parse a `multipart/form-data` body held in memory, whose `Content-Type` (with
 * its boundary) is `contentType`: `parseMultipartInput` over its bytes.
 */
export function parseMultipart(
  body: Uint8Array,
  contentType: string,
  limits: FormLimits,
): Promise<MultiDict<FormValue>> {
  let at = 0;
  return parseMultipartInput(
    (size) => {
      const chunk = body.subarray(at, at + size);
      at += chunk.byteLength;
      return chunk;
    },
    contentType,
    limits,
  );
}

/**
 * Parse a `multipart/form-data` body read through `read(size)` (an empty result
 * ends it), whose `Content-Type` (with its boundary) is `contentType`, into
 * fields (text, UTF-8 unless the part says otherwise) and files, in the order of
 * the parts.
 *
 * The body is read a chunk at a time, each parsed before the next is read, with
 * a turn of the event loop between them; a file's bytes go to its temporary file
 * (once past `fileSpoolThreshold`) before more is read. So the memory it takes is
 * about `maxFormMemory` and a chunk, whatever the body's size.
 *
 * Rejects with a `FormError`: 400 when the body is malformed (a part's header
 * section over busboy's 16 KiB included), 413 past the limits; with the
 * error of a failed write to the temporary file, which a failure removes.
 */
export async function parseMultipartInput(
  read: (size: number) => Uint8Array,
  contentType: string,
  limits: FormLimits,
): Promise<MultiDict<FormValue>> {
  const resolved = resolveFormLimits(limits);
  const parse = new MultipartParse(contentType, resolved);
  let total = 0;
  try {
    for (;;) {
      parse.check();
      const chunk = read(READ_CHUNK);
      if (chunk.byteLength === 0) break;
      total += chunk.byteLength;
      if (total > resolved.maxFormSize) throw formTooLarge(resolved);
      await parse.write(chunk);
      // The next chunk waits for the event loop's other work: other clients are
      // served while a large form is read.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return await parse.end();
  } catch (err) {
    parse.abort();
    throw err;
  }
}

/**
 * Where a file part's bytes go: memory up to a threshold and the form's budget,
 * then the form's temporary file, after the parts already there.
 */
class FileSink {
  readonly #parse: MultipartParse;
  #chunks: Uint8Array[] = [];
  #held = 0;
  #file: TempFile | undefined;
  #offset = 0;
  /** The part's bytes so far (its 'end' may come after the next part's first bytes). */
  #size = 0;

  constructor(parse: MultipartParse) {
    this.#parse = parse;
  }

  push(chunk: Uint8Array): void {
    this.#size += chunk.byteLength;
    if (this.#file !== undefined) {
      this.#file.append([chunk]);
      return;
    }
    if (
      this.#held + chunk.byteLength <= this.#parse.limits.fileSpoolThreshold &&
      this.#parse.reserve(chunk.byteLength)
    ) {
      this.#chunks.push(chunk);
      this.#held += chunk.byteLength;
      return;
    }
    // Past the threshold or the form's memory: all of it goes to disk.
    this.#parse.release(this.#held);
    const file = this.#parse.file();
    this.#file = file;
    this.#offset = file.length;
    file.append([...this.#chunks, chunk]);
    this.#chunks = [];
    this.#held = 0;
  }

  finish(filename: string, contentType: string): FilePart | DiskFilePart {
    const file = this.#file;
    if (file === undefined) return new FilePart(this.#chunks, filename, contentType);
    return new DiskFilePart(file, this.#offset, this.#size, filename, contentType);
  }
}

/** One multipart parse: busboy, its parts in order, the memory they take, their files. */
class MultipartParse {
  readonly limits: ResolvedFormLimits;
  readonly #parser: busboy.Busboy;
  /** Parts in order; a file's slot is filled when its last byte has arrived. */
  readonly #slots: Array<[string, FormValue] | undefined> = [];
  /** The form's temporary file, made when a first file goes to disk; removed if the parse fails. */
  #file: TempFile | undefined;
  #memory = 0;
  #failure: unknown;
  #closed = false;
  readonly #whenClosed: Promise<void>;

  constructor(contentType: string, limits: ResolvedFormLimits) {
    this.limits = limits;
    try {
      this.#parser = busboy({
        headers: { "content-type": contentType },
        // File names are UTF-8 in what browsers send (WHATWG HTML's form encoding).
        defParamCharset: "utf8",
        limits: {
          parts: limits.maxParts,
          fields: limits.maxParts,
          files: limits.maxParts,
          // busboy holds a field whole before it hands it over: no more than the
          // form may keep in memory.
          fieldSize: Math.min(limits.maxPartSize, limits.maxFormMemory),
          fileSize: limits.maxPartSize,
        },
      });
    } catch (err) {
      throw new FormError(`multipart/form-data body cannot be read: ${errorText(err)}`, 400, {
        cause: err,
      });
    }
    const parser = this.#parser;
    parser.on("field", (name, value, info) => this.#field(name, value, info));
    parser.on("file", (name, stream, info) => {
      // A body that ends inside a file part: busboy destroys the file's stream with
      // its error, which, left without a listener, would crash the process.
      stream.on("error", (err) => this.#fail(malformed(err)));
      if (typeof name !== "string") {
        this.#fail(nameless());
        stream.resume();
        return;
      }
      const slot = this.#slots.length;
      this.#slots.push(undefined);
      const sink = new FileSink(this);
      stream.on("data", (chunk: Buffer) => {
        if (this.#failure !== undefined) return;
        try {
          sink.push(chunk);
        } catch (err) {
          // The temporary file could not be made (an unwritable TMPDIR): the
          // server's fault, not the client's, and not to be thrown into busboy.
          this.#fail(err);
        }
      });
      stream.on("limit", () => this.#fail(tooLarge(name, limits)));
      stream.on("end", () => {
        if (this.#failure !== undefined) return;
        this.#slots[slot] = [
          name,
          sink.finish(info.filename ?? "", info.mimeType ?? "application/octet-stream"),
        ];
      });
    });
    for (const event of ["partsLimit", "filesLimit", "fieldsLimit"] as const) {
      parser.on(event, () => this.#fail(tooManyParts(limits)));
    }
    parser.on("error", (err) => this.#fail(malformed(err)));
    this.#whenClosed = new Promise((resolve) => {
      parser.on("close", () => {
        this.#closed = true;
        resolve();
      });
    });
  }

  /** The form's temporary file, made on first use. */
  file(): TempFile {
    this.#file ??= new TempFile();
    return this.#file;
  }

  /** Take `bytes` of the form's memory; false when that would go past `maxFormMemory`. */
  reserve(bytes: number): boolean {
    if (this.#memory + bytes > this.limits.maxFormMemory) return false;
    this.#memory += bytes;
    return true;
  }

  /** Give back `bytes` of the form's memory (a file moved to disk). */
  release(bytes: number): void {
    this.#memory -= bytes;
  }

  /** Throw the failure, if the parse has failed. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Parse `chunk`; resolve once busboy has taken it and the file bytes in it are on disk. */
  async write(chunk: Uint8Array): Promise<void> {
    // A parser that fails may never call back: its close ends the wait too.
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#parser.write(chunk, () => resolve());
      }),
      this.#whenClosed,
    ]);
    this.check();
    await this.#flushed();
    this.check();
  }

  /** End the body; resolve to the form once busboy has closed and every file is on disk. */
  async end(): Promise<MultiDict<FormValue>> {
    this.#parser.end();
    // busboy never settles a form that goes on after its close delimiter with a
    // file part cut short: it waits for the end of that file, which no input will
    // bring. It parses without I/O, so once the ticks after end() have run (a
    // turn of the event loop), nothing more can happen.
    await Promise.race([this.#whenClosed, new Promise((resolve) => setImmediate(resolve))]);
    this.check();
    if (!this.#closed) throw malformed(new Error("the body ends inside a file part"));
    await this.#flushed();
    this.check();
    const form = new MultiDict<FormValue>();
    for (const slot of this.#slots) {
      if (slot !== undefined) form.add(slot[0], slot[1]);
    }
    return form;
  }

  /** Stop: busboy destroyed, the temporary file removed. */
  abort(): void {
    this.#failure ??= new Error("the multipart parse was stopped");
    this.#parser.destroy();
    this.#file?.close();
  }

  #field(name: string | undefined, value: string, info: busboy.FieldInfo): void {
    if (this.#failure !== undefined) return;
    if (typeof name !== "string") {
      this.#fail(nameless());
    } else if (info.valueTruncated || info.nameTruncated) {
      this.#fail(
        this.limits.maxFormMemory < this.limits.maxPartSize
          ? formTooBig(this.limits)
          : tooLarge(name, this.limits),
      );
    } else if (!this.reserve(Buffer.byteLength(value) + Buffer.byteLength(name))) {
      this.#fail(formTooBig(this.limits));
    } else {
      this.#slots.push([name, value]);
    }
  }

  /** Wait for the file bytes handed to disk so far; a write error fails the parse. */
  async #flushed(): Promise<void> {
    try {
      await this.#file?.flushed();
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
  }
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
