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

  it("reads the clock once a second, keeping the text until its second is over", (t) => {
    t.mock.timers.enable({
      apis: ["setTimeout", "Date"],
      now: Date.UTC(2026, 11, 7, 22, 0, 0, 400),
    });
    const reads = t.mock.method(Date, "now");
    const dates = new HttpDates();
    assert.equal(dates.now(), "Mon, 07 Dec 2026 22:00:00 GMT");
    t.mock.timers.tick(599);
    assert.equal(dates.now(), "Mon, 07 Dec 2026 22:00:00 GMT");
    assert.equal(reads.mock.callCount(), 1, "one clock read for the second");
    t.mock.timers.tick(1);
    assert.equal(dates.now(), "Mon, 07 Dec 2026 22:00:01 GMT");
    t.mock.timers.tick(1000);
    assert.equal(dates.now(), "Mon, 07 Dec 2026 22:00:02 GMT");
    assert.equal(reads.mock.callCount(), 3);
  });
});
