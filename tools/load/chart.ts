/**
 * A small self-contained SVG of a load report: latency (p50 and p99 of the answers sent in each
 * time bucket) above, the server's memory (RSS, and the heap after a full GC when sampled)
 * below, on a shared time axis. A few polylines and labels; no fonts, images or scripts.
 */
import { escapeXml } from '../../packages/bench/src/chart.ts';
import type { LoadReport } from './report.ts';

const WIDTH = 720;
const PANEL = 150;
const LEFT = 64;
const RIGHT = 16;
const TOP = 40;
const GAP = 44;

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

export function renderLoadChart(report: LoadReport): string {
  const seconds = Math.max(1, report.durationSeconds);
  const latency: Series[] = [
    { label: 'p50', colour: '#2563eb', points: pointsOf(report.timeline, (t) => t.p50) },
    { label: 'p99', colour: '#dc2626', points: pointsOf(report.timeline, (t) => t.p99) },
  ];
  const mb = (bytes: number) => bytes / (1024 * 1024);
  const memory: Series[] = [
    { label: 'RSS', colour: '#7c3aed', points: report.samples.map((s) => [s.atMs / 1000, mb(s.rssBytes)] as const) },
    {
      label: 'heap after GC',
      colour: '#059669',
      points: report.samples
        .filter((s) => s.heapAfterGcBytes !== null)
        .map((s) => [s.atMs / 1000, mb(s.heapAfterGcBytes ?? 0)] as const),
    },
  ];
  const height = TOP + PANEL * 2 + GAP + 36;
  const title = `${report.scenario}: ${report.pass ? 'pass' : 'FAIL'} — ${report.environment.date.slice(0, 19)}Z, ${report.environment.node}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    panel(latency, { top: TOP, seconds, unit: 'latency (ms)' }),
    panel(memory, { top: TOP + PANEL + GAP, seconds, unit: 'memory (MB)' }),
    `<text x="${LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="${height - 8}" text-anchor="middle">seconds since start</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function pointsOf<T extends { atSeconds: number }>(
  items: readonly T[],
  value: (item: T) => number | null,
): (readonly [number, number])[] {
  const points: (readonly [number, number])[] = [];
  for (const item of items) {
    const y = value(item);
    if (y !== null) points.push([item.atSeconds, y]);
  }
  return points;
}

function panel(all: readonly Series[], options: { top: number; seconds: number; unit: string }): string {
  const series = all.filter((s) => s.points.length > 0);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const values = series.flatMap((s) => s.points.map(([, y]) => y));
  const max = niceCeiling(values.length === 0 ? 1 : Math.max(...values));
  const x = (seconds: number) => LEFT + (seconds / options.seconds) * plotWidth;
  const y = (value: number) => options.top + PANEL - (value / max) * PANEL;
  const parts = [
    `<text x="${LEFT}" y="${options.top - 8}" font-weight="bold">${escapeXml(options.unit)}</text>`,
    `<rect x="${LEFT}" y="${options.top}" width="${plotWidth}" height="${PANEL}" fill="none" stroke="#999"/>`,
  ];
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    parts.push(
      `<text x="${LEFT - 6}" y="${y(value) + 4}" text-anchor="end">${formatNumber(value)}</text>`,
      `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${y(value)}" y2="${y(value)}" stroke="#eee"/>`,
    );
  }
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const seconds = options.seconds * fraction;
    parts.push(
      `<text x="${x(seconds)}" y="${options.top + PANEL + 14}" text-anchor="middle">${formatNumber(seconds)}</text>`,
    );
  }
  series.forEach((s, index) => {
    const path = s.points.map(([px, py]) => `${round(x(px))},${round(y(py))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${path}"/>`);
    const legendX = LEFT + plotWidth - 110 * (series.length - index);
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 16}" y1="${options.top - 12}" y2="${options.top - 12}" stroke="${s.colour}" stroke-width="2"/>`,
      `<text x="${legendX + 20}" y="${options.top - 8}">${escapeXml(s.label)}</text>`,
    );
  });
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatNumber(value: number): string {
  return value >= 100 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
}

const round = (n: number) => Math.round(n * 10) / 10;
