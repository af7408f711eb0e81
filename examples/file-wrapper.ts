/**
 * Python's FileWrapper example (wsgiref.util docs): iterate a file-like object in
 * blocks of five bytes. Python used `StringIO`; bytes are what a file yields, so
 * the file-like here is a `BytesInput`, which has the `read(size)` FileWrapper calls.
 *
 * Run: node build/examples/file-wrapper.js
 */
import { BytesInput, FileWrapper } from "wsgiref";

const filelike = new BytesInput(
  new TextEncoder().encode("This is an example file-like object".repeat(10)),
);
const wrapper = new FileWrapper(filelike, 5);

for (const chunk of wrapper) {
  console.log(new TextDecoder().decode(chunk));
}
