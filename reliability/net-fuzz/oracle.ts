/**
 * The oracle: what must hold for one input, given the reference framing of the
 * bytes sent, the requests the application saw on that connection and the bytes
 * the server sent back.
 *
 * 1. What the server sent is well-formed HTTP/1.1 responses, nothing else, and
 *    the server closed the connection within the time allowed.
 * 2. The application saw a prefix of the requests the reference frames, each
 *    exactly (method, target, body), and each after only requests that were
 *    answered 2xx and left the connection open. Any other request the
 *    application saw was smuggled: the marker request (`/smuggled-<n>`, appended
 *    to every input) or one hidden in a body (`/smuggled-<n>-body`, `-inner`).
 * 3. Each request the application saw got a 2xx (the application always answers
 *    200); after them at most one more response, the refusal: a 4xx, or 501 (an
 *    unknown method) or 505 (an unsupported version) as RFC 9110 prescribes, never
 *    another 5xx; it says `Connection: close`, and nothing follows it.
 * 4. A request the reference says must be refused (Host rules, too many fields)
 *    never reaches the application.
 * 5. Every body the application returned was closed exactly once.
 * 6. A request the reference frames is refused only when the reference says it
 *    must or may be (a limit, a Host rule, a capability the server may lack),
 *    and then with one of the statuses it lists: a valid, well-formed request
 *    answered 400 is a wrong refusal.
 * 7. A request the reference frames, and that must be served, is answered unless
 *    the response before it announced that the connection closes.
 */

import type { FuzzInput } from "./mutators.js";
import type { FramedRequest, Framing } from "./reference.js";
import { tokensOf, type WireReading, type WireResponse } from "./responses.js";

/** What the application recorded of one request. */
export interface SeenRequest {
  method: string;
  uri: string;
  body: string;
  /** How many times its body's close() ran. */
  closes: number;
}

/** What happened to one input. */
export interface Outcome {
  framing: Framing;
  seen: SeenRequest[];
  reading: WireReading;
  /** The server closed the connection (rather than the deadline cutting it). */
  closedByServer: boolean;
}

/** The oracle's verdict: empty when every check holds. */
export interface Verdict {
  failures: string[];
  /** Requests the application saw that it must not have (the smuggled ones). */
  smuggled: number;
  /** Status of each final response, in order. */
  statuses: number[];
}

const ALLOWED_5XX = new Set([501, 505]);

/** Whether `response` (to `request`) tells the client that the connection closes after it. */
function announcesClose(response: WireResponse, request: FramedRequest | undefined): boolean {
  const options = tokensOf(response, "connection");
  if (options.includes("close")) return true;
  return request?.version === "HTTP/1.0" && !options.includes("keep-alive");
}

/** Check one input's outcome. */
export function judge(input: FuzzInput, outcome: Outcome): Verdict {
  const failures: string[] = [];
  const { framing, seen, reading } = outcome;
  const finals = reading.responses.filter((r) => !r.interim);
  const statuses = finals.map((r) => r.status);
  let smuggled = 0;
  if (reading.error !== undefined) failures.push(`malformed response: ${reading.error}`);
  if (!outcome.closedByServer) failures.push("the server did not close the connection in time");
  // 2 and 4: every request the application saw was framed so, at its place.
  for (let i = 0; i < seen.length; i++) {
    const s = seen[i] as SeenRequest;
    const ref = framing.requests[i];
    let why: string | undefined;
    if (ref === undefined) {
      why = `the reference stops before it (${framing.stop} at byte ${framing.stopAt})`;
    } else if (ref.method !== s.method || ref.target !== s.uri) {
      why = `the reference frames ${ref.method} ${ref.target} there`;
    } else if (ref.body !== s.body) {
      why = `its body is ${JSON.stringify(s.body.slice(0, 60))}, framed as ${JSON.stringify(ref.body.slice(0, 60))}`;
    } else if (ref.mustRefuse !== undefined) {
      why = `it must be refused (${ref.mustRefuse})`;
    } else if (i > 0 && !(framing.requests[i - 1]?.persistent ?? false)) {
      why = "the request before it closes the connection";
    } else if (i > 0 && !(statuses[i - 1] !== undefined && statuses[i - 1]! < 300)) {
      why = `the request before it was answered ${statuses[i - 1]}`;
    }
    if (why !== undefined) {
      if (s.uri.includes("/smuggled")) smuggled += 1;
      failures.push(`the application saw request ${i}, ${s.method} ${s.uri}, but ${why}`);
    }
  }
  // 3: the responses.
  for (let i = 0; i < Math.min(seen.length, finals.length); i++) {
    if ((finals[i]?.status ?? 0) >= 300) {
      failures.push(`request ${i} reached the application but was answered ${finals[i]?.status}`);
    }
  }
  if (outcome.closedByServer && reading.error === undefined && finals.length < seen.length) {
    failures.push(`${seen.length} requests reached the application, ${finals.length} answered`);
  }
  if (finals.length > seen.length + 1) {
    failures.push(
      `${finals.length} responses for ${seen.length} requests the application saw: a second answer after a refusal`,
    );
  }
  const next = framing.requests[seen.length];
  const previous = finals[seen.length - 1];
  if (finals.length === seen.length + 1) {
    const refusal = finals[seen.length]!;
    if (refusal.status < 400 || (refusal.status >= 500 && !ALLOWED_5XX.has(refusal.status))) {
      failures.push(`a request the application never saw was answered ${refusal.status}`);
    }
    if (!tokensOf(refusal, "connection").includes("close")) {
      failures.push(`the refusal (${refusal.status}) does not say Connection: close`);
    }
    // 6: a request the reference frames is refused only for a reason it lists.
    if (next !== undefined && !next.refuseWith.includes(refusal.status)) {
      const request = `request ${seen.length}, ${next.method} ${next.target.slice(0, 60)}`;
      failures.push(
        next.mustRefuse === undefined && next.mayRefuse === undefined
          ? `wrong refusal: ${request} is valid and well-formed, but was answered ${refusal.status}`
          : `${request} was refused ${refusal.status}, not ${next.refuseWith.join(" or ")} ` +
              `(${[next.mustRefuse, next.mayRefuse].filter((r) => r !== undefined).join(", ")})`,
      );
    }
  }
  // 7: a request the reference frames, and that must be served, is answered unless
  // the response before it said the connection closes. (One that may be refused
  // may also go unanswered: Node closes a connection whose client has half-closed
  // it without a word about the bytes it could not parse.)
  if (
    next !== undefined &&
    next.mustRefuse === undefined &&
    next.mayRefuse === undefined &&
    finals.length === seen.length &&
    outcome.closedByServer &&
    reading.error === undefined &&
    (previous === undefined || !announcesClose(previous, framing.requests[seen.length - 1]))
  ) {
    failures.push(
      `request ${seen.length}, ${next.method} ${next.target.slice(0, 60)}, was neither served nor refused`,
    );
  }
  // 5: close() exactly once.
  for (const [i, s] of seen.entries()) {
    if (s.closes !== 1) failures.push(`request ${i}'s body was closed ${s.closes} times`);
  }
  if (input.mutations.length === 0 && !input.seed.startsWith("hostile:")) {
    // Unmutated: every framed request is served.
    const framed = framing.requests.filter((r) => r.mustRefuse === undefined).length;
    if (seen.length < framed) {
      failures.push(`unmutated input: ${framed} valid requests, ${seen.length} served`);
    }
  }
  return { failures, smuggled, statuses };
}
