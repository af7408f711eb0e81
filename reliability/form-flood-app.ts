/**
 * The application of reliability/form-flood.ts: a `handlerApp` whose forms may be
 * as large as the flood (`FORM_FLOOD_MAX`, bytes), so the whole form is parsed
 * (its file to disk) rather than refused.
 *
 * `POST /upload` answers what the form held (each part's name, kind and size,
 * and whether `request.body` was kept); `GET /ping` answers `pong`.
 */

import { handlerApp } from "../src/response/index.js";

const max = Number(process.env.FORM_FLOOD_MAX ?? String(2 ** 31));

export const app = handlerApp(
  (request, response) => {
    response.headers.set("Content-Type", "application/json");
    if (request.method !== "POST") {
      response.content = JSON.stringify("pong");
      return;
    }
    const parts = [...request.POST].map(([name, value]) => ({
      name,
      kind: typeof value === "string" ? "field" : value.constructor.name,
      bytes: typeof value === "string" ? value.length : value.byteLength,
    }));
    response.content = JSON.stringify({ parts });
  },
  { maxFormSize: max, maxPartSize: max },
);
