/**
 * A horizontal bar chart as a self-contained SVG string: one bar per server, the
 * value printed at its end. No dependency; the markup is small enough to read.
 */

/** One bar. */
export interface Bar {
  label: string;
  value: number;
  /** Drawn in the accent colour (this package) instead of grey. */
  highlight?: boolean;
}

/** What to draw. */
export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Unit printed after each value, such as `req/s`. */
  unit: string;
  bars: readonly Bar[];
}

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function formatValue(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A round axis maximum at or above `max`, so the longest bar fills most of the plot. */
function niceMax(max: number): number {
  if (max <= 0) {
    return 1;
  }
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) {
    if (step * power >= max) {
      return step * power;
    }
  }
  return 10 * power;
}

/** Render the bars as an SVG document. */
export function barChart(options: ChartOptions): string {
  const width = 760;
  const labelWidth = 230;
  const valueWidth = 120;
  const barHeight = 26;
  const gap = 12;
  const top = options.subtitle === undefined ? 52 : 70;
  const plotWidth = width - labelWidth - valueWidth - 20;
  const height = top + options.bars.length * (barHeight + gap) + 36;
  const max = niceMax(Math.max(0, ...options.bars.map((bar) => bar.value)));
  const x0 = labelWidth + 10;
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="28" font-size="16" font-weight="600" fill="#111">${escapeXml(options.title)}</text>`,
  ];
  if (options.subtitle !== undefined) {
    lines.push(`<text x="20" y="48" fill="#555">${escapeXml(options.subtitle)}</text>`);
  }
  const bottom = top + options.bars.length * (barHeight + gap);
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (plotWidth * i) / 4;
    lines.push(
      `<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${bottom}" stroke="#e3e3e3"/>`,
      `<text x="${x}" y="${bottom + 16}" text-anchor="middle" fill="#777" font-size="11">${formatValue((max * i) / 4)}</text>`,
    );
  }
  options.bars.forEach((bar, index) => {
    const y = top + index * (barHeight + gap);
    const w = Math.max(1, (plotWidth * Math.max(0, bar.value)) / max);
    const fill = bar.highlight === true ? "#2f6fdb" : "#9aa4b2";
    lines.push(
      `<text x="${labelWidth}" y="${y + barHeight / 2 + 4}" text-anchor="end" fill="#222">${escapeXml(bar.label)}</text>`,
      `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" fill="${fill}"/>`,
      `<text x="${(x0 + w + 6).toFixed(1)}" y="${y + barHeight / 2 + 4}" fill="#222">${formatValue(bar.value)} ${escapeXml(options.unit)}</text>`,
    );
  });
  lines.push("</svg>", "");
  return lines.join("\n");
}
