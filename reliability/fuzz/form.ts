/**
 * Fuzz target: request forms (`src/response/form.ts`): urlencoded bodies, and
 * multipart bodies through busboy, within small limits.
 *
 * Fields: a byte choosing the encoding (bit 0: multipart) and, in bits 1-3,
 * `maxParts` (0-7); a byte giving `maxPartSize` (0-255); for multipart the
 * `Content-Type` parameters after `multipart/form-data; ` (so `boundary=...`);
 * then the body: every field after the third, joined back with NUL bytes, so a
 * body keeps its NULs.
 *
 * The oracle: only a `FormError` comes out (400 malformed, 413 past a limit),
 * never anything else and never a hang (the fuzzer's timeout); what is parsed
 * has at most `maxParts` parts, none larger than `maxPartSize` bytes; a
 * urlencoded form holds exactly what `URLSearchParams` reads, in order, and is
 * refused with 413 exactly when that breaks a limit.
 */

import { Buffer } from "node:buffer";
import {
  FormError,
  type FormValue,
  parseMultipart,
  parseUrlencoded,
} from "../../src/response/form.js";
import { check, expectDocumented, FuzzInput, SEPARATOR } from "./input.js";

const FORM_ERRORS: ReadonlyArray<readonly [typeof FormError, RegExp]> = [
  [FormError, /^form has more than \d+ parts$/],
  [FormError, /^form part is larger than \d+ bytes: /],
  [FormError, /^multipart\/form-data body (?:cannot be read|is malformed): /],
  [FormError, /^multipart\/form-data part has no name \(RFC 7578 §4\.2\)$/],
];

/**
 * A lower bound of the bytes a part had on the wire. A file's are its bytes. A
 * field's text can take more bytes in UTF-8 than it had (busboy decodes invalid
 * UTF-8 to U+FFFD, 3 bytes for one), but never more UTF-16 code units: every
 * decoder busboy has turns each byte into at most one of them.
 */
function size(value: FormValue): number {
  return typeof value === "string" ? value.length : value.byteLength;
}

function urlencoded(
  body: Buffer,
  limits: { maxParts: number; maxPartSize: number },
  subject: Subject,
): void {
  const reference = [...new URLSearchParams(body.toString("utf8"))];
  const breaks =
    reference.length > limits.maxParts ||
    reference.some(([, value]) => Buffer.byteLength(value) > limits.maxPartSize);
  let form: Iterable<[string, FormValue]>;
  try {
    form = subject.parseUrlencoded(body, limits);
  } catch (err) {
    expectDocumented(err, FORM_ERRORS);
    check((err as FormError).status === 413, "a urlencoded form was refused as malformed");
    check(breaks, () => `a form within the limits was refused: ${String(err)}`);
    return;
  }
  check(!breaks, "a form past the limits was accepted");
  const got = [...form];
  check(
    JSON.stringify(got) === JSON.stringify(reference),
    "the form is not what URLSearchParams reads",
  );
}

async function multipart(
  body: Buffer,
  params: string,
  limits: { maxParts: number; maxPartSize: number },
  subject: Subject,
): Promise<void> {
  let form: Iterable<[string, FormValue]>;
  try {
    form = await subject.parseMultipart(body, `multipart/form-data; ${params}`, limits);
  } catch (err) {
    expectDocumented(err, FORM_ERRORS);
    const status = (err as FormError).status;
    check(status === 400 || status === 413, () => `FormError status ${status}`);
    return;
  }
  const parts = [...form];
  check(
    parts.length <= limits.maxParts,
    () => `${parts.length} parts past maxParts ${limits.maxParts}`,
  );
  for (const [name, value] of parts) {
    check(typeof name === "string", "a part has no name");
    check(
      size(value) <= limits.maxPartSize,
      () => `part ${JSON.stringify(name)} has ${size(value)} bytes, past ${limits.maxPartSize}`,
    );
  }
}

/** What the target checks (broken versions, in the oracle's own tests). */
export interface Subject {
  parseUrlencoded: typeof parseUrlencoded;
  parseMultipart: typeof parseMultipart;
}

export async function fuzz(
  data: Uint8Array,
  subject: Subject = { parseUrlencoded, parseMultipart },
): Promise<void> {
  const input = new FuzzInput(data);
  const kind = input.byte();
  const limits = { maxParts: (kind >> 1) & 7, maxPartSize: input.byte() };
  const params = input.string();
  const rest: Buffer[] = [];
  while (input.remaining > 0) rest.push(input.bytes());
  const body = Buffer.concat(
    rest.flatMap((part, i) => (i === 0 ? [part] : [Buffer.of(SEPARATOR), part])),
  );
  if (kind & 1) await multipart(body, params, limits, subject);
  else urlencoded(body, limits, subject);
}

const CRLF = "\r\n";
const simple = [
  "--x",
  'Content-Disposition: form-data; name="a"',
  "",
  "1",
  "--x",
  'Content-Disposition: form-data; name="f"; filename="f.txt"',
  "Content-Type: text/plain",
  "",
  "hello",
  "--x--",
  "",
].join(CRLF);

/** Seeds, as fields: the forms of tests/response (browsers' and curl -F's). */
export const seeds: readonly (readonly string[])[] = [
  ["\x0e", "\x40", "", "a=1&b=2&a=3"],
  ["\x02", "\x02", "", "a=123&b"],
  ["\x0e", "\x40", "", "sp%C3%A4m=%E2%98%83+x&=&&"],
  ["\x0f", "\x40", "boundary=x", simple],
  ["\x03", "\x04", "boundary=x", simple],
  ["\x0f", "\x40", 'boundary="x"; charset=latin1', simple],
  [
    "\x0f",
    "\x40",
    "boundary=x",
    "--x\r\nContent-Disposition: form-data; name*=UTF-8''sp%C3%A4m\r\n\r\nv\r\n--x",
  ],
  ["\x0f", "\x40", "", "--x--"],
  // Findings, kept as seeds: a body that ends inside a file part; nameless parts.
  [
    "\x0f",
    "\x40",
    "boundary=x",
    '--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nab',
  ],
  [
    "\x0f",
    "\x40",
    "boundary=x",
    '--x\r\nContent-Disposition: form-data; nme="a"\r\n\r\n1\r\n--x--\r\n',
  ],
  ["\x0f", "\x40", "boundary=x", '--x\r\nContent-Disposition: form-data; filename="f"\r\n\r\nab'],
  // A finding (a hang): a file part cut short after the close delimiter.
  [
    "\x0f",
    "\x40",
    "boundary=x",
    '--x--\r\n--x\r\n--x\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nab',
  ],
];
