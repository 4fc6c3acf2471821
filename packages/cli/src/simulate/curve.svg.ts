import type { BandPoint } from './summary.metrics';

/** One strategy's median curve with its min-max band over repeats. */
export interface CurveSeries {
  strategy: string;
  band: readonly BandPoint[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const BASELINE_COLOR = '#7f7f7f';

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number) => (Math.round(v * 10) / 10).toString();

/** About `count` round tick values within [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // d3's rule: the 1-2-5 step nearest to the raw step on a log scale.
  const error = raw / power;
  const step = power * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

/**
 * The learning curves as a standalone SVG: test accuracy against labels, one median line per
 * strategy with its min-max band (random in grey), the full-data accuracy as a dashed line,
 * axes with ticks, and a legend.
 */
export function renderCurveSvg(series: readonly CurveSeries[], opts: { title: string; fullAccuracy?: number | null }): string {
  const width = 880;
  const height = 520;
  const m = { left: 64, right: 190, top: 44, bottom: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const points = series.flatMap((s) => s.band);
  const xs = points.map((p) => p.labels);
  const ys = [...points.flatMap((p) => [p.min, p.max]), ...(opts.fullAccuracy != null ? [opts.fullAccuracy] : [])];
  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length ? Math.max(...xs, xLo + 1) : 1;
  const yLo = ys.length ? Math.max(0, Math.floor(Math.min(...ys) * 20) / 20) : 0;
  const yHi = ys.length ? Math.min(1, Math.max(Math.ceil(Math.max(...ys) * 20) / 20, yLo + 0.05)) : 1;
  const x = (v: number) => m.left + ((v - xLo) / (xHi - xLo)) * plotW;
  const y = (v: number) => m.top + plotH - ((v - yLo) / (yHi - yLo)) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);

  // Grid and ticks.
  for (const t of niceTicks(xLo, xHi, 8)) {
    out.push(`<line x1="${num(x(t))}" y1="${m.top}" x2="${num(x(t))}" y2="${m.top + plotH}" stroke="#eeeeee"/>`);
    out.push(`<line x1="${num(x(t))}" y1="${m.top + plotH}" x2="${num(x(t))}" y2="${m.top + plotH + 5}" stroke="#333333"/>`);
    out.push(`<text x="${num(x(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(yLo, yHi, 6)) {
    out.push(`<line x1="${m.left}" y1="${num(y(t))}" x2="${m.left + plotW}" y2="${num(y(t))}" stroke="#eeeeee"/>`);
    out.push(`<line x1="${m.left - 5}" y1="${num(y(t))}" x2="${m.left}" y2="${num(y(t))}" stroke="#333333"/>`);
    out.push(`<text x="${m.left - 8}" y="${num(y(t) + 4)}" text-anchor="end">${t.toFixed(2)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">labels</text>`);
  out.push(`<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">test accuracy</text>`);

  if (opts.fullAccuracy != null && opts.fullAccuracy >= yLo && opts.fullAccuracy <= yHi) {
    const fy = num(y(opts.fullAccuracy));
    out.push(`<line x1="${m.left}" y1="${fy}" x2="${m.left + plotW}" y2="${fy}" stroke="#000000" stroke-dasharray="6 4"/>`);
    // Under the line when it runs along the top of the plot, else above it.
    const labelY = y(opts.fullAccuracy) - m.top < 16 ? y(opts.fullAccuracy) + 14 : y(opts.fullAccuracy) - 5;
    out.push(`<text x="${m.left + plotW - 4}" y="${num(labelY)}" text-anchor="end">full data ${opts.fullAccuracy.toFixed(3)}</text>`);
  }

  let colorIndex = 0;
  const legend: string[] = [];
  series.forEach((s, i) => {
    const color = s.strategy === 'random' ? BASELINE_COLOR : PALETTE[colorIndex++ % PALETTE.length];
    if (s.band.length) {
      const upper = s.band.map((p) => `${num(x(p.labels))},${num(y(p.max))}`);
      const lower = [...s.band].reverse().map((p) => `${num(x(p.labels))},${num(y(p.min))}`);
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`);
      const line = s.band.map((p) => `${num(x(p.labels))},${num(y(p.median))}`).join(' ');
      out.push(`<polyline points="${line}" fill="none" stroke="${color}" stroke-width="2"${s.strategy === 'random' ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    const ly = m.top + 10 + i * 20;
    const lx = m.left + plotW + 16;
    legend.push(`<rect x="${lx}" y="${ly - 7}" width="18" height="10" fill="${color}" fill-opacity="0.25" stroke="${color}"/>`);
    legend.push(`<text x="${lx + 24}" y="${ly + 2}">${escapeXml(s.strategy)}</text>`);
  });
  out.push(...legend);
  out.push(`<text x="${m.left + plotW + 16}" y="${m.top + 14 + series.length * 20}" fill="#666666" font-size="11">line: median; band: min-max</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
