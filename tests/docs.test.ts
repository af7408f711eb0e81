/**
 * The documentation as a reader meets it: the README and docs/*.md link only to
 * what exists, `npm run docs` (TypeDoc) builds the API reference with every export
 * documented and the guides as pages, the built site links to nothing missing,
 * and headless Chromium renders its index and an API page, served by this
 * package's own static file app.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { staticApp } from "../src/cli/static-app.js";
import { makeServer } from "../src/simple-server.js";
import { checkLinks, filesUnder, markdownAnchors, slug } from "./helpers/links.js";
import { colourSummary, decodePng } from "./helpers/png.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";

/** The Markdown a reader of the package or the repository opens. */
function markdownFiles(): string[] {
  return [join(root, "README.md"), ...filesUnder(join(root, "docs"), ".md")];
}

function chromiumSkipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === "true") return false;
  return "chromium is not installed (Debian: apt-get install chromium); set CI=true to make this a failure";
}

describe("checkLinks", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-links-"));
    await mkdir(join(dir, "docs"));
    await mkdir(join(dir, "examples"));
    await writeFile(join(dir, "examples", "a.ts"), "");
    await writeFile(
      join(dir, "docs", "guide.md"),
      "# The `wsgi.input` stream\n\n## Limits (`ServerOptions`)\n\n## Limits (`ServerOptions`)\n",
    );
    await writeFile(
      join(dir, "README.md"),
      [
        "[ok](docs/guide.md#the-wsgiinput-stream) [dup](docs/guide.md#limits-serveroptions-1)",
        "[file](examples/a.ts) [web](https://example.com/x) `[code](missing.md)`",
        "[gone](docs/missing.md) [anchor](docs/guide.md#nowhere) [dir](examples/)",
        "[out](../elsewhere.md) ![img](docs/missing.svg) [abs](/docs/guide.md)",
        "```",
        "[fenced](missing.md)",
        "```",
      ].join("\n"),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("finds missing files, anchors, directories, links outside the root and absolute paths", () => {
    const report = checkLinks([join(dir, "README.md")], dir);
    assert.deepEqual(
      report.broken.map((b) => b.link),
      [
        "docs/missing.md",
        "docs/guide.md#nowhere",
        "examples/",
        "../elsewhere.md",
        "docs/missing.svg",
        "/docs/guide.md",
      ],
    );
    assert.equal(report.checked, 9);
    assert.equal(report.external, 1);
  });

  it("makes GitHub's anchors: code kept as text, punctuation dropped, duplicates numbered", () => {
    assert.equal(slug("The sendfile(2) addon"), "the-sendfile2-addon");
    assert.deepEqual(
      [...markdownAnchors("# A `b_c` d\n## A `b_c` d\n```\n# not a heading\n```\n")],
      ["a-b_c-d", "a-b_c-d-1"],
    );
  });
});

describe("README.md and docs/*.md", () => {
  it("link only to files of the package, and to anchors that exist", () => {
    const report = checkLinks(markdownFiles(), root);
    assert.deepEqual(report.broken, []);
    assert.ok(report.checked >= 60, `only ${report.checked} relative links checked`);
  });

  it("never mention the project's internal contract", async () => {
    for (const file of markdownFiles()) {
      const text = await readFile(file, "utf8");
      assert.doesNotMatch(text, /SPEC\.md|\.\.\/shared\//, file);
    }
  });
});

describe("npm run docs", () => {
  let out = "";
  let built: { code: number; output: string } = { code: -1, output: "" };
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "wsgiref-site-"));
    // What `npm run docs` runs (typedoc.json), into a directory of this test's own.
    const typedoc = join(root, "node_modules/typedoc/bin/typedoc");
    try {
      const { stdout, stderr } = await run(process.execPath, [typedoc, "--out", out], {
        cwd: root,
      });
      built = { code: 0, output: stdout + stderr };
    } catch (err) {
      const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
      built = { code, output: stdout + stderr };
    }
  });
  after(() => rm(out, { recursive: true, force: true }));

  it("builds with every export documented and no other warning", () => {
    // typedoc.json: validation.notDocumented, invalidLink and notExported, with
    // treatWarningsAsErrors, so an undocumented export fails the build.
    assert.equal(built.code, 0, built.output);
    assert.doesNotMatch(built.output, /warning|error/i);
  });

  it("has a page for each guide and each module", () => {
    for (const guide of ["porting", "testing", "deploying", "response", "validate", "cgi"]) {
      assert.ok(existsSync(join(out, "documents", `${guide}.html`)), guide);
    }
    for (const guide of ["reliability", "performance", "server", "examples"]) {
      assert.ok(existsSync(join(out, "documents", `${guide}.html`)), guide);
    }
    for (const name of ["types", "util", "streams", "headers", "handlers"]) {
      assert.ok(existsSync(join(out, "modules", `wsgiref_${name}.html`)), name);
    }
    for (const name of ["simple-server", "validate", "response"]) {
      assert.ok(existsSync(join(out, "modules", `wsgiref_${name}.html`)), name);
    }
  });

  it("links to nothing missing from its pages", () => {
    const pages = filesUnder(out, ".html");
    const report = checkLinks(pages, out);
    assert.deepEqual(report.broken, []);
    assert.ok(pages.length >= 80, `only ${pages.length} pages`);
    assert.ok(report.checked >= 5000, `only ${report.checked} links checked`);
  });

  it("renders its index and an API page in headless Chromium", {
    skip: chromiumSkipReason(),
  }, async () => {
    await using httpd = await makeServer("127.0.0.1", 0, staticApp(out), undefined, undefined, {
      quiet: true,
    });
    const serving = httpd.serveForever();
    const base = `http://127.0.0.1:${httpd.serverAddress[1]}/`;
    const profile = await mkdtemp(join(tmpdir(), "wsgiref-chromium-"));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1024, height: 768 },
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
    try {
      const page = await browser.newPage();
      const pages = [
        { path: "index.html", heading: "wsgiref for TypeScript", png: "index.png" },
        {
          path: "functions/wsgiref_util.shiftPathInfo.html",
          heading: "Function shiftPathInfo",
          png: "shiftPathInfo.png",
        },
      ];
      for (const { path, heading, png } of pages) {
        const response = await page.goto(base + path);
        assert.equal(response?.status(), 200, path);
        const headings = await page.locator("h1").allTextContents();
        assert.ok(
          headings.some((h) => h.trim().startsWith(heading)),
          `${path}: ${headings.join(" | ")}`,
        );
        const shot = await page.screenshot({ path: join(out, png) });
        const image = decodePng(shot);
        const { colours, offBackground } = colourSummary(image);
        assert.equal(image.width, 1024);
        // Text, code and navigation: many colours, a fair share of the page inked.
        assert.ok(colours > 50, `${path}: ${colours} colours`);
        assert.ok(offBackground > 0.02, `${path}: ${offBackground} of the page off the background`);
      }
      // The site's own script ran: the navigation it builds links every module.
      await page.goto(base + "index.html");
      await page
        .locator('nav a[href$="modules/wsgiref_util.html"]')
        .first()
        .waitFor({ state: "attached", timeout: 10_000 });
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
      await httpd.shutdown();
      await serving;
    }
  });
});
