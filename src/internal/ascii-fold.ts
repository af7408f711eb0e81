/**
 * Case-insensitive comparison of header names, without a lower-cased copy.
 *
 * Field names are case-insensitive in ASCII only (RFC 9110 §5.1): only A-Z fold.
 * Each response compares a few names this way (`Date`, `Server`,
 * `Content-Length`), and folding a copy of each had cost more than the rest of
 * the comparison.
 */

/** Whether `name` equals `lower` (all lower case already) with A-Z folded. */
export function equalsFolded(name: string, lower: string): boolean {
  // The same string, or the same characters: compared natively, far cheaper
  // than the loop (a name in lower case, as HTTP/2 and the Fetch API give it).
  if (name === lower) return true;
  const length = name.length;
  if (length !== lower.length) return false;
  for (let i = 0; i < length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether `a` equals `b` with A-Z folded in both (neither need be lower case). */
export function equalsFoldedBoth(a: string, b: string): boolean {
  if (a === b) return true;
  const length = a.length;
  if (length !== b.length) return false;
  for (let i = 0; i < length; i++) {
    let c = a.charCodeAt(i);
    let d = b.charCodeAt(i);
    if (c === d) continue;
    if (c >= 65 && c <= 90) c += 32;
    if (d >= 65 && d <= 90) d += 32;
    if (c !== d) return false;
  }
  return true;
}

/**
 * Whether `name` is `Content-Length` in any case: written as applications
 * write it, told by a native comparison, else by the loop.
 */
export function isContentLength(name: string): boolean {
  return name === "Content-Length" || (name.length === 14 && equalsFolded(name, "content-length"));
}
