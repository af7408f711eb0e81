/**
 * Rules of the source that no compiler checks: state belongs to an instance (a
 * server, a connection, a validator), never to a module. A module-level `let`,
 * or a module-level `Map`, `Set` or array that the module changes after load,
 * is state every server in the process shares.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { filesUnder } from "./helpers/links.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Where `text` (a module's source) keeps state at module level: one line per finding. */
function moduleState(text: string): string[] {
  const found: string[] = [];
  const containers = new Set<string>();
  for (const line of text.split("\n")) {
    const binding = /^(?:export )?(let|var) ([A-Za-z_$][\w$]*)/.exec(line);
    if (binding !== null) found.push(`module-level ${binding[1]} ${binding[2]}`);
    const container =
      /^(?:export )?const ([A-Za-z_$][\w$]*)(?::[^=]+)? = (?:new (?:Map|Set)\b|\[)/.exec(line);
    if (container !== null) containers.add(container[1] as string);
  }
  for (const name of containers) {
    const change = new RegExp(
      `(?<![\\w$.])${name.replace(/\$/g, "\\$")}\\.(set|add|delete|clear|push|pop|shift|unshift|splice|length =)\\b`,
    ).exec(text);
    if (change !== null) found.push(`module-level ${name} changed (.${change[1]})`);
  }
  return found;
}

describe("moduleState", () => {
  it("finds a module-level let, and a module-level Map, Set or array the module changes", () => {
    const text = [
      "let count = 0;",
      "const CACHE = new Map<string, string>();",
      "const SEEN = new Set([1]);",
      "const QUEUE: string[] = [];",
      "const FIXED = new Set(['a']);",
      "function f() {",
      "  let local = 1;",
      "  CACHE.set('a', 'b');",
      "  SEEN.add(2);",
      "  QUEUE.push('x');",
      "  return FIXED.has('a') && local;",
      "}",
    ].join("\n");
    assert.deepEqual(moduleState(text), [
      "module-level let count",
      "module-level CACHE changed (.set)",
      "module-level SEEN changed (.add)",
      "module-level QUEUE changed (.push)",
    ]);
  });

  it("leaves constants, and containers built once at load, alone", () => {
    const text = [
      "const TABLE: ReadonlyMap<string, number> = new Map([['a', 1]]);",
      "const LIST = ['a', 'b'];",
      "class C {",
      "  #cache = new Map();",
      "  f() { this.#cache.set(1, 2); }",
      "}",
    ].join("\n");
    assert.deepEqual(moduleState(text), []);
  });
});

describe("src/", () => {
  it("keeps no state at module level", () => {
    const findings = filesUnder(join(root, "src"), ".ts").flatMap((file) =>
      moduleState(readFileSync(file, "utf8")).map((what) => `${relative(root, file)}: ${what}`),
    );
    assert.deepEqual(findings, []);
  });
});
