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
  const length = name.length;
  if (length !== lower.length) return false;
  for (let i = 0; i < length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
