/**
 * Every fuzz target's oracle over its seeds (reliability/fuzz/), without the
 * fuzzer: the targets keep compiling and their oracles keep agreeing with the
 * code, and the findings kept among the seeds stay fixed.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFields } from "../../reliability/fuzz/input.js";
import { TARGETS, type TargetModule } from "../../reliability/fuzz/targets.js";

describe("fuzz targets", () => {
  for (const target of TARGETS) {
    it(`${target.name}: the oracle holds over every seed`, async () => {
      const module = (await import(`../../reliability/fuzz/${target.name}.js`)) as TargetModule;
      assert.ok(module.seeds.length > 0, "a target has seeds");
      try {
        for (const fields of module.seeds) {
          const data = encodeFields(fields);
          assert.ok(
            data.length <= target.maxLen,
            `a seed fits in -max_len: ${JSON.stringify(fields)}`,
          );
          await module.fuzz(data);
        }
      } finally {
        await module.close?.();
      }
    });
  }

  it("lists one target per file, each name once", () => {
    const names = TARGETS.map((t) => t.name);
    assert.deepEqual([...new Set(names)], names);
  });
});
