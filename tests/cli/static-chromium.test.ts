/**
 * `wsgiref static` with a real browser: headless Chromium (Debian's, driven by
 * playwright-core) plays a small WebM video from the server, which its media
 * stack fetches with Range requests (206), and fetch() with a Range header gets
 * exactly the bytes asked for. No video encoder is installed, so the page makes
 * the clip itself: MediaRecorder over a canvas it paints.
 */

import assert from "node:assert/strict";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";
import { type Served, serveCli, stopAll, tempDir } from "./cli-process.js";

const CHROMIUM = "/usr/bin/chromium";

function skipReason(): string | false {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return false;
  } catch {
    // Under CI a missing browser is a failure (.ci/run installs chromium).
    return process.env.CI === "true"
      ? false
      : "chromium is not installed (Debian: apt-get install chromium); set CI=true to make this a failure";
  }
}

describe("wsgiref static in Chromium", { skip: skipReason() }, () => {
  const site = tempDir({
    "player.html": '<!doctype html><video id="v" muted playsinline src="clip.webm"></video>\n',
  });
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 255));
  writeFileSync(join(site.dir, "data.bin"), bytes);
  const profile = mkdtempSync(join(tmpdir(), "wsgiref-chromium-"));
  let served: Served;
  let browser: BrowserContext;

  before(async () => {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    served = await serveCli(["static", site.dir, "--port", "0"]);
  });

  after(async () => {
    await browser?.close();
    served?.child.process.kill("SIGTERM");
    await served?.child.outcome;
    await stopAll();
    site.rm();
    rmSync(profile, { recursive: true, force: true });
  });

  it("plays a WebM video it fetches with Range requests", async () => {
    const page = await browser.newPage();
    // A one-second clip, recorded by the browser from a canvas it paints.
    const clip = (await page.evaluate(`(async () => {
      const canvas = document.createElement("canvas");
      canvas.width = 64;
      canvas.height = 48;
      const g = canvas.getContext("2d");
      const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
      const chunks = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start(100);
      for (let frame = 0; frame < 25; frame++) {
        g.fillStyle = "hsl(" + frame * 14 + ", 80%, 50%)";
        g.fillRect(0, 0, 64, 48);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      recorder.stop();
      await stopped;
      return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
    })()`)) as number[];
    assert.ok(clip.length > 0, "the browser recorded a clip");
    writeFileSync(join(site.dir, "clip.webm"), Buffer.from(clip));

    await page.goto(`http://127.0.0.1:${served.port}/player.html`);
    const played = (await page.evaluate(`(async () => {
      const video = document.getElementById("v");
      const ended = new Promise((resolve, reject) => {
        video.onended = () => resolve();
        video.onerror = () => reject(new Error("media error " + video.error?.code));
      });
      await video.play();
      await ended;
      return { width: video.videoWidth, time: video.currentTime };
    })()`)) as { width: number; time: number };
    assert.equal(played.width, 64);
    assert.ok(played.time > 0.5, `played to ${played.time} s`);
    // The media stack asked for a range and got 206 (the access log on stderr).
    assert.match(served.child.stderr, /"GET \/clip\.webm HTTP\/1\.1" 206 \d+/);
    await page.close();
  });

  it("answers fetch() with a Range header with exactly those bytes", async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${served.port}/player.html`);
    const result = (await page.evaluate(`(async () => {
      // no-store: the browser's own cache would answer (or rewrite) a range.
      const init = (range) => ({ headers: { Range: range }, cache: "no-store" });
      const part = await fetch("/data.bin", init("bytes=1000-1999"));
      const past = await fetch("/data.bin", init("bytes=5000-"));
      return {
        status: part.status,
        range: part.headers.get("Content-Range"),
        body: Array.from(new Uint8Array(await part.arrayBuffer())),
        pastStatus: past.status,
        pastRange: past.headers.get("Content-Range"),
      };
    })()`)) as {
      status: number;
      range: string;
      body: number[];
      pastStatus: number;
      pastRange: string;
    };
    assert.equal(result.status, 206);
    assert.equal(result.range, "bytes 1000-1999/4096");
    assert.deepEqual(result.body, [...bytes.subarray(1000, 2000)]);
    assert.equal(result.pastStatus, 416);
    assert.equal(result.pastRange, "bytes */4096");
    await page.close();
  });
});
