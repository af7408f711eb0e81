/**
 * A link checker for the README, docs/ and the built site: every relative link
 * must name a file that exists and, when it has a `#fragment`, a heading or an
 * `id` in that file. Links to other sites are counted, not followed (tests talk
 * to 127.0.0.1 only).
 *
 * Markdown is read as GitHub and TypeDoc render it: links inside code spans and
 * fenced blocks are text, and a heading's anchor is GitHub's slug of its text.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";

/** A link that leads nowhere. */
export interface BrokenLink {
  /** The file the link is in, relative to the directory checked from. */
  file: string;
  /** The link as written. */
  link: string;
  /** What is missing. */
  reason: string;
}

/** What a check found. */
export interface LinkReport {
  /** Relative links checked (each occurrence). */
  checked: number;
  /** Links to other sites, counted but not followed. */
  external: number;
  /** The relative links that lead nowhere. */
  broken: BrokenLink[];
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped, spaces to `-`. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** A heading's text as rendered: code spans, emphasis, links and tags reduced to their text. */
function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/`/g, "")
    .replace(/(\*\*|__|\*)/g, "")
    .trim();
}

/** Markdown with fenced blocks blanked (line count kept) and code spans removed. */
function proseOf(markdown: string): string[] {
  const lines = markdown.split("\n");
  let fence: string | undefined;
  return lines.map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
        fence = undefined;
      }
      return "";
    }
    if (marker !== undefined) {
      fence = marker;
      return "";
    }
    return line.replace(/(`+)(?:(?!\1).)+?\1/g, "");
  });
}

/** The anchors of a Markdown file: its headings' slugs (duplicates numbered) and explicit ids. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const lines = markdown.split("\n");
  const prose = proseOf(markdown);
  prose.forEach((line, i) => {
    // Headings from the original line: their code spans count as text.
    if (/^#{1,6}\s/.test(line)) {
      const base = slug(
        headingText((lines[i] ?? "").replace(/^#{1,6}\s+/, "").replace(/\s+#*$/, "")),
      );
      const seen = counts.get(base) ?? 0;
      counts.set(base, seen + 1);
      anchors.add(seen === 0 ? base : `${base}-${seen}`);
    }
    for (const m of line.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  });
  return anchors;
}

/** The link targets of a Markdown file: inline links and images, reference definitions, HTML href/src. */
export function markdownLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of proseOf(markdown)) {
    for (const m of line.matchAll(
      /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    )) {
      links.push(m[1]!);
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (definition) links.push(definition[1]!);
    for (const m of line.matchAll(/\b(?:href|src)="([^"]+)"/g)) links.push(m[1]!);
  }
  return links;
}

/** The ids an HTML page offers as anchors. */
function htmlAnchors(html: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of html.matchAll(/\s(?:id|name)="([^"]*)"/g)) anchors.add(decodeEntities(m[1]!));
  return anchors;
}

/** The href and src targets of an HTML page. */
function htmlLinks(html: string): string[] {
  // Scripts hold no markup links; their text may still contain `href="…"`.
  const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
  return [...markup.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => decodeEntities(m[1]!));
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * Check `files` (absolute paths) and report relative to `root`. Markdown files
 * are read as Markdown; `.html` files as HTML. A link into a Markdown or HTML
 * file with a fragment needs that anchor there; a link to a directory needs an
 * `index.html` (HTML) or is refused (Markdown: a published package and a
 * static site cannot list a directory).
 */
export function checkLinks(files: string[], root: string): LinkReport {
  const report: LinkReport = { checked: 0, external: 0, broken: [] };
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (file: string): Set<string> => {
    let anchors = anchorCache.get(file);
    if (anchors === undefined) {
      const text = readFileSync(file, "utf8");
      anchors = extname(file) === ".html" ? htmlAnchors(text) : markdownAnchors(text);
      anchorCache.set(file, anchors);
    }
    return anchors;
  };

  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const html = extname(file) === ".html";
    const links = html ? htmlLinks(text) : markdownLinks(text);
    for (const link of links) {
      const broken = (reason: string) =>
        report.broken.push({ file: relative(root, file), link, reason });
      if (EXTERNAL.test(link)) {
        report.external++;
        continue;
      }
      report.checked++;
      const hash = link.indexOf("#");
      const pathPart = (hash < 0 ? link : link.slice(0, hash)).replace(/\?.*$/, "");
      const fragment = hash < 0 ? "" : decodeURIComponent(link.slice(hash + 1));
      if (pathPart.startsWith("/")) {
        broken("an absolute path, which breaks once the package or site is moved");
        continue;
      }
      let target = pathPart === "" ? file : resolve(dirname(file), decodeURIComponent(pathPart));
      if (relative(root, target).startsWith("..")) {
        broken(`outside ${root}: ${target}`);
        continue;
      }
      if (!existsSync(target)) {
        broken(`no such file: ${relative(root, target)}`);
        continue;
      }
      if (statSync(target).isDirectory()) {
        if (!html) {
          broken("a directory: link to a file in it");
          continue;
        }
        target = join(target, "index.html");
        if (!existsSync(target)) {
          broken(`a directory without index.html: ${relative(root, target)}`);
          continue;
        }
      }
      const kind = extname(target);
      if (fragment !== "" && (kind === ".md" || kind === ".html")) {
        if (!anchorsOf(target).has(fragment)) {
          broken(`no anchor #${fragment} in ${relative(root, target)}`);
        }
      }
    }
  }
  return report;
}

/** Every file under `dir` whose name ends with `suffix`, recursively. */
export function filesUnder(dir: string, suffix: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path, suffix));
    else if (entry.name.endsWith(suffix)) found.push(path);
  }
  return found.sort();
}
