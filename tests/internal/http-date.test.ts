import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDateTime, HttpDates } from "../../src/internal/http-date.js";

describe("HttpDates", () => {
  it("gives the HTTP date of now, the same text within a second", () => {
    const dates = new HttpDates();
    const before = Date.now();
    const first = dates.now();
    const after = Date.now();
    assert.ok(
      first === formatDateTime(before) || first === formatDateTime(after),
      `${first} is neither ${formatDateTime(before)} nor ${formatDateTime(after)}`,
    );
    assert.match(first, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    // Asked again within the same second, the same text (the one formatted then).
    const again = dates.now();
    const end = Date.now();
    if (Math.floor(end / 1000) === Math.floor(before / 1000)) assert.equal(again, first);
    else assert.ok(again === formatDateTime(before) || again === formatDateTime(end));
  });
});
