/** The Lambda event and result fixtures of tests/fixtures/lambda/ (sources in its README). */
import { readFileSync } from "node:fs";

const fixtures = new URL("../../../tests/fixtures/lambda/", import.meta.url);

/**
 * A fixture, parsed afresh (tests change their copy). AWS's function URL example
 * has placeholders for its URL's id, which no Host grammar allows: a real id
 * stands in for them.
 */
export function fixture<T = Record<string, unknown>>(name: string): T {
  const text = readFileSync(new URL(`${name}.json`, fixtures), "utf8");
  return JSON.parse(text.replaceAll(/<url-?id>/g, "abcdefghij")) as T;
}
