/**
 * Python's Headers examples (wsgiref.headers docs): a mapping view over a header
 * list that stays the same list, and `add_header` with MIME parameters.
 *
 * Run: node build/examples/headers.js
 */
import { Headers } from "wsgiref/headers";

const list: Array<[string, string]> = [["Content-Type", "text/plain"]];
const headers = new Headers(list);

// Python: h.add_header('content-disposition', 'attachment', filename='bud.gif')
headers.addHeader("content-disposition", "attachment", { filename: "bud.gif" });
// Python: h.add_header('content-disposition', 'attachment', filename='Fußballer.ppt') needs
// RFC 2231 in Python too; keep to latin-1 values here.
headers.addHeader("X-Flags", "on", { no_cache: null });
headers.set("Cache-Control", "no-store");

console.log(list.length); // the same array: 4 pairs
console.log(headers.get("CONTENT-TYPE"));
process.stdout.write(headers.toString());
