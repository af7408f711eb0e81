/**
 * HTTP dates: RFC 7231's IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), as
 * Python's `wsgiref.handlers.format_date_time` writes it.
 */

import { show } from "./check.js";

// Always English, whatever the locale (RFC 7231 §7.1.1.1). Indexed by getUTCDay(),
// where 0 is Sunday.
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Format a time, given in milliseconds since the epoch, as an HTTP date.
 *
 * Fractions of a second are floored, as Python's `time.gmtime` does. Years are
 * written as Python's `%4d` writes them (space-padded below 1000). Throws a
 * `TypeError` when `ms` is not a number and a `RangeError` when it is not a
 * representable date.
 *
 * @example formatDateTime(Date.UTC(2006, 5, 5, 18, 49, 54)) // "Mon, 05 Jun 2006 18:49:54 GMT"
 * @see Python's `wsgiref.handlers.format_date_time`; RFC 7231 §7.1.1.1
 */
export function formatDateTime(ms: number): string {
  if (typeof ms !== "number") {
    throw new TypeError(`ms must be a number: ${show(ms)}`);
  }
  const date = new Date(Math.floor(ms / 1000) * 1000);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`ms must be a time within the range of Date: ${show(ms)}`);
  }
  return (
    `${WEEKDAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ` +
    `${String(date.getUTCFullYear()).padStart(4, " ")} ${pad2(date.getUTCHours())}:` +
    `${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} GMT`
  );
}

/**
 * The current HTTP date, formatted once a second: a server stamps every
 * response with it, so each server keeps one (not the module: state belongs to
 * an instance). The text is kept until an unreferenced timer says its second is
 * over, as node:http keeps its own `Date`: no clock read for each response, and
 * no timer at all while nothing is sent. A busy event loop may run the timer
 * late, so the text can be a little behind, as node:http's is.
 */
export class HttpDates {
  #text: string | undefined;
  readonly #expire = (): void => {
    this.#text = undefined;
  };

  /** The HTTP date of now. */
  now(): string {
    let text = this.#text;
    if (text === undefined) {
      const ms = Date.now();
      text = formatDateTime(ms);
      this.#text = text;
      setTimeout(this.#expire, 1000 - (ms % 1000)).unref();
    }
    return text;
  }
}
