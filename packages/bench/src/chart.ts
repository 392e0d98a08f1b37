/**
 * The report as a self-contained SVG (no external fonts, images or scripts), readable at 900 px
 * width: a horizontal bar chart of each row's ratio to its baseline on a log scale, with the
 * targets of targets.json drawn as lines, then a table of the absolute figures and the outcome of
 * every target. Like report.ts it measures nothing: it renders a JSON report, so a chart can be
 * redrawn from any saved run.
 */
import {
  type BenchReport,
  type BenchResult,
  type CompareBy,
  checkTargets,
  describeTarget,
  formatFigure,
  isNotLanded,
  ratioOf,
  round,
  type Target,
  type TargetOutcome,
  type TargetStatus,
} from './report.ts';

export interface ChartOptions {
  /** The targets to draw and check (usually targets.json); none by default. */
  readonly targets?: readonly Target[];
  /** Heading of the chart. */
  readonly title?: string;
}

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${ESCAPES[char as keyof typeof ESCAPES]};`);
}

const ESCAPES = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as const;

/** Reads and checks the parsed JSON of a report written by `--json`. */
export function parseReport(json: unknown): BenchReport {
  const report = json as Partial<BenchReport> | null;
  if (report === null || typeof report !== 'object') throw new Error('a report is a JSON object');
  for (const key of ['node', 'cpu', 'date'] as const) {
    if (typeof report[key] !== 'string') throw new Error(`report has no ${key}`);
  }
  if (!Array.isArray(report.results)) throw new Error('report has no results array');
  report.results.forEach((result: unknown, index) => {
    if (typeof (result as Partial<BenchResult> | null)?.id !== 'string') throw new Error(`result ${index} has no id`);
  });
  return report as BenchReport;
}

// ---------------------------------------------------------------------------------------------
// What is drawn

/** One line of the bar chart. */
interface ChartLine {
  readonly id: string;
  readonly ratio?: number;
  /** The baseline row, or undefined for a baseline measured inside the row. */
  readonly baselineId?: string;
  /** Throughput ratios: higher is better. */
  readonly higherIsBetter: boolean;
  readonly state: 'ratio' | 'baseline' | 'not-landed' | 'error' | 'no-ratio';
  /** Targets bounding exactly this ratio, with their outcome: drawn as lines, they colour the bar. */
  readonly targets: readonly TargetOutcome[];
  /** Other targets of the row (on its value, in its unit): not drawn, but in the status column. */
  readonly valueTargets: readonly TargetOutcome[];
  /** The row's value with its unit, e.g. `0.542 µs`, shown when there is no ratio. */
  readonly value?: string;
  /** What an in-row ratio divides by, when the unit says it (`× ideal` → `ideal`). */
  readonly inRowBaseline?: string;
}

/** A row compared by throughput: its ratio is ops/s ÷ ops/s, so higher is better. */
function comparesThroughput(result: BenchResult): boolean {
  return result.baselineId !== undefined && result.unit?.endsWith('/s') === true;
}

/** Does `target` bound the ratio drawn for `result` (same baseline, or a value in × that is the ratio)? */
function boundsRatio(target: Target, result: BenchResult): boolean {
  if (target.id !== result.id) return false;
  if (target.baselineId !== undefined) return target.baselineId === result.baselineId;
  return target.unit === '×' && result.unit === '×' && result.value === result.ratio;
}

function chartLines(report: BenchReport, outcomes: readonly TargetOutcome[]): ChartLine[] {
  const baselineIds = new Set(report.results.map((result) => result.baselineId).filter((id) => id !== undefined));
  const lines: ChartLine[] = report.results.map((result) => {
    const targets = outcomes.filter((outcome) => boundsRatio(outcome.target, result));
    const valueTargets = outcomes.filter(
      (outcome) =>
        outcome.target.id === result.id && outcome.target.baselineId === undefined && !targets.includes(outcome),
    );
    const base = {
      id: result.id,
      ...(result.baselineId === undefined ? {} : { baselineId: result.baselineId }),
      higherIsBetter: comparesThroughput(result),
      targets,
      valueTargets,
      ...(result.value === undefined
        ? {}
        : { value: `${formatFigure(result.value)}${result.unit === undefined ? '' : ` ${result.unit}`}` }),
      ...(result.unit?.startsWith('× ') === true ? { inRowBaseline: result.unit.slice(2) } : {}),
    };
    if (isNotLanded(result)) return { ...base, state: 'not-landed' };
    if (result.note?.startsWith('error: ') === true) return { ...base, state: 'error' };
    if (result.ratio !== undefined && Number.isFinite(result.ratio) && result.ratio > 0) {
      return { ...base, ratio: result.ratio, state: 'ratio' };
    }
    return { ...base, state: baselineIds.has(result.id) ? 'baseline' : 'no-ratio' };
  });
  // Targets against another row than the row's own baseline (e.g. ours ÷ a peer) get a line of their own.
  const byId = new Map(report.results.map((result) => [result.id, result]));
  const extra = new Map<string, ChartLine>();
  for (const outcome of outcomes) {
    const { target } = outcome;
    const row = byId.get(target.id);
    if (target.baselineId === undefined || row === undefined || target.baselineId === row.baselineId) continue;
    const key = `${target.id}\u0000${target.baselineId}\u0000${target.metric ?? 'p50Ms'}`;
    const known = extra.get(key);
    if (known !== undefined) {
      extra.set(key, { ...known, targets: [...known.targets, outcome] });
      continue;
    }
    const baseline = byId.get(target.baselineId);
    const metric: CompareBy = target.metric ?? 'p50Ms';
    const ratio = baseline === undefined ? undefined : ratioOf(row, baseline, metric);
    const landed = !isNotLanded(row) && (baseline === undefined || !isNotLanded(baseline));
    extra.set(key, {
      id: target.id,
      baselineId: target.baselineId,
      higherIsBetter: metric === 'opsPerSec',
      targets: [outcome],
      valueTargets: [],
      ...(ratio === undefined ? {} : { ratio: round(ratio) }),
      state: !landed ? 'not-landed' : ratio === undefined || ratio <= 0 ? 'no-ratio' : 'ratio',
    });
  }
  return [...lines, ...extra.values()];
}

// ---------------------------------------------------------------------------------------------
// Drawing

const WIDTH = 900;
const MARGIN = 16;
const ROW = 22;
const TABLE_ROW = 18;
const BAR_X0 = 236;
const BAR_X1 = 520;
const TEXT_X = 532;
/** Right edge of the status column (`met` / `missed` / `skipped`). */
const STATUS_X = WIDTH - MARGIN;

const SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";

const COLOURS = {
  text: '#1f2328',
  muted: '#59636e',
  faint: '#8c959f',
  grid: '#d8dee4',
  axis: '#424a53',
  stripe: '#f6f8fa',
  ratio: '#2f6fbd',
  pass: '#2a8a3e',
  fail: '#c9372c',
  target: '#1f2328',
  notLanded: '#eaeef2',
  notLandedStroke: '#afb8c1',
} as const;

const STYLE = `
text { font-family: ${SANS}; font-size: 12px; fill: ${COLOURS.text}; }
.mono { font-family: ${MONO}; font-size: 11px; }
.title { font-size: 17px; font-weight: 600; }
.h2 { font-size: 14px; font-weight: 600; }
.muted { fill: ${COLOURS.muted}; }
.faint { fill: ${COLOURS.faint}; }
.small { font-size: 11px; }
.tick { font-size: 10.5px; fill: ${COLOURS.muted}; }
.ratio { font-weight: 600; }
.greyed { fill: ${COLOURS.faint}; font-style: italic; }
.missed { fill: ${COLOURS.fail}; font-weight: 600; }
.met { fill: ${COLOURS.pass}; font-weight: 600; }
`;

/** Shortest fixed form of a number for coordinates. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function text(x: number, y: number, content: string, attributes: Record<string, string> = {}): string {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  return `<text x="${n(x)}" y="${n(y)}"${attrs}>${escapeXml(content)}</text>`;
}

function rect(x: number, y: number, width: number, height: number, attributes: Record<string, string>): string {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  return `<rect x="${n(x)}" y="${n(y)}" width="${n(Math.max(0, width))}" height="${n(height)}"${attrs}/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, attributes: Record<string, string>): string {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}"${attrs}/>`;
}

/** A ratio as printed: `6.89×`. */
function times(ratio: number): string {
  return `${formatFigure(ratio)}×`;
}

/** Decades of the log axis: at least 0.1× to 10×, at most 0.001× to 1000×; farther values are capped. */
function axisDecades(lines: readonly ChartLine[]): { lo: number; hi: number } {
  const values: number[] = [];
  for (const entry of lines) {
    if (entry.ratio !== undefined) values.push(entry.ratio);
    for (const { target } of entry.targets) {
      for (const bound of [target.min, target.max]) if (bound !== undefined && bound > 0) values.push(bound);
    }
  }
  const logs = values.map((value) => Math.log10(value));
  const lo = Math.max(-3, Math.min(-1, Math.floor(Math.min(0, ...logs))));
  const hi = Math.min(3, Math.max(1, Math.ceil(Math.max(0, ...logs))));
  return { lo, hi };
}

const STATUS_WORD: Record<TargetStatus, string> = { pass: 'met', fail: 'missed', skipped: 'skipped' };
const STATUS_CLASS: Record<TargetStatus, string> = { pass: 'met', fail: 'missed', skipped: 'greyed' };

function statusOf(outcomes: readonly TargetOutcome[]): TargetStatus | undefined {
  if (outcomes.length === 0) return undefined;
  if (outcomes.some((outcome) => outcome.status === 'fail')) return 'fail';
  if (outcomes.every((outcome) => outcome.status === 'pass')) return 'pass';
  return 'skipped';
}

function barColour(outcomes: readonly TargetOutcome[]): string {
  const status = statusOf(outcomes);
  return status === 'fail' ? COLOURS.fail : status === 'pass' ? COLOURS.pass : COLOURS.ratio;
}

/** Renders the report as an SVG document (a string). */
export function renderChart(report: BenchReport, options: ChartOptions = {}): string {
  const targets = options.targets ?? [];
  const outcomes = checkTargets(report.results, targets);
  const lines = chartLines(report, outcomes);
  const { lo, hi } = axisDecades(lines);
  const xOf = (ratio: number) => {
    const clamped = Math.min(hi, Math.max(lo, Math.log10(ratio)));
    return BAR_X0 + ((clamped - lo) / (hi - lo)) * (BAR_X1 - BAR_X0);
  };
  const out: string[] = [];
  let y = 0;

  // Heading
  y += 30;
  out.push(
    text(MARGIN, y, options.title ?? 'script-harness benchmark: each row against its baseline', { class: 'title' }),
  );
  y += 20;
  const day = report.date.slice(0, 10);
  out.push(text(MARGIN, y, `${report.cpu} · Node ${report.node} · ${day}`, { class: 'muted' }));
  y += 22;

  // Legend
  const legend: [string, string][] = [
    [COLOURS.ratio, 'ratio, no target on it'],
    [COLOURS.pass, 'target on it met'],
    [COLOURS.fail, 'target on it missed'],
  ];
  let lx = MARGIN;
  for (const [colour, label] of legend) {
    out.push(rect(lx, y - 9, 12, 10, { fill: colour }));
    out.push(text(lx + 17, y, label, { class: 'small' }));
    lx += 30 + label.length * 6.2;
  }
  out.push(line(lx + 5, y - 11, lx + 5, y + 2, { stroke: COLOURS.target, 'stroke-width': '2' }));
  out.push(text(lx + 12, y, 'target bound', { class: 'small' }));
  lx += 95;
  out.push(
    rect(lx, y - 9, 22, 10, { fill: COLOURS.notLanded, stroke: COLOURS.notLandedStroke, 'stroke-dasharray': '3 2' }),
  );
  out.push(text(lx + 28, y, 'not landed', { class: 'small' }));
  y += 18;
  out.push(
    text(
      MARGIN,
      y,
      'Log scale, capped beyond the axis (▸). Lower is better except “higher is better” rows. Right: the row’s targets, detailed below.',
      { class: 'small muted' },
    ),
  );
  y += 26;

  // Axis labels (top)
  const chartTop = y + 6;
  const chartBottom = chartTop + lines.length * ROW + (lines.length > report.results.length ? ROW : 0);
  const axisLabels = (at: number) => {
    for (let decade = lo; decade <= hi; decade++) {
      const value = 10 ** decade;
      const label = decade < 0 ? value.toFixed(-decade) : String(value);
      out.push(text(xOf(value), at, `${label}×`, { class: 'tick', 'text-anchor': 'middle' }));
    }
  };
  axisLabels(y);
  // Grid: decades, plus 2× and 5× within each decade.
  for (let decade = lo; decade <= hi; decade++) {
    for (const step of decade === hi ? [1] : [1, 2, 5]) {
      const x = xOf(step * 10 ** decade);
      const major = step === 1;
      out.push(
        line(x, chartTop, x, chartBottom, {
          stroke: decade === 0 && major ? COLOURS.axis : COLOURS.grid,
          'stroke-width': decade === 0 && major ? '1.5' : '1',
          ...(major ? {} : { 'stroke-dasharray': '2 3' }),
        }),
      );
    }
  }

  // Bars
  let rowY = chartTop;
  lines.forEach((entry, index) => {
    if (index === report.results.length) {
      out.push(text(MARGIN, rowY + 15, 'Targets against another row:', { class: 'small muted' }));
      rowY += ROW;
    }
    const mid = rowY + ROW / 2;
    const greyed = entry.state === 'not-landed';
    const group: string[] = [];
    if (index % 2 === 1) group.push(rect(MARGIN - 6, rowY, WIDTH - 2 * MARGIN + 12, ROW, { fill: COLOURS.stripe }));
    group.push(text(MARGIN, mid + 4, entry.id, { class: greyed ? 'mono greyed' : 'mono' }));
    const versus = entry.baselineId ?? entry.inRowBaseline ?? 'in-row baseline';
    const direction = entry.higherIsBetter ? ', higher is better' : '';
    switch (entry.state) {
      case 'ratio': {
        const ratio = entry.ratio!;
        const from = xOf(1);
        const to = xOf(ratio);
        const left = Math.min(from, to);
        const width = Math.max(2, Math.abs(to - from));
        const colour = barColour(entry.targets);
        const capped = Math.log10(ratio) > hi || Math.log10(ratio) < lo;
        group.push(
          `<rect class="bar" data-id="${escapeXml(entry.id)}" x="${n(to < from ? left : from)}" y="${n(mid - 6)}" width="${n(width)}" height="12" fill="${colour}"><title>${escapeXml(`${entry.id}: ${times(ratio)} ${versus}`)}</title></rect>`,
        );
        if (capped) {
          const tip = ratio > 1 ? BAR_X1 : BAR_X0;
          const dir = ratio > 1 ? 1 : -1;
          group.push(
            `<path d="M${n(tip)} ${n(mid - 6)} L${n(tip + dir * 7)} ${n(mid)} L${n(tip)} ${n(mid + 6)} Z" fill="${colour}"/>`,
          );
        }
        group.push(
          `<text x="${TEXT_X}" y="${n(mid + 4)}"><tspan class="ratio">${escapeXml(times(ratio))}</tspan><tspan class="muted small" dx="5">÷ ${escapeXml(versus)}${escapeXml(direction)}</tspan></text>`,
        );
        break;
      }
      case 'not-landed':
        group.push(
          rect(BAR_X0, mid - 7, BAR_X1 - BAR_X0, 14, {
            class: 'bar not-landed',
            'data-id': entry.id,
            fill: COLOURS.notLanded,
            stroke: COLOURS.notLandedStroke,
            'stroke-dasharray': '3 2',
          }),
        );
        group.push(text((BAR_X0 + BAR_X1) / 2, mid + 4, 'not landed', { class: 'greyed', 'text-anchor': 'middle' }));
        if (entry.baselineId !== undefined)
          group.push(text(TEXT_X, mid + 4, `÷ ${entry.baselineId}`, { class: 'small faint' }));
        break;
      case 'error':
        group.push(text(TEXT_X, mid + 4, 'failed to measure (see the report)', { class: 'missed' }));
        break;
      case 'baseline':
        group.push(
          `<path d="M${n(xOf(1))} ${n(mid - 5)} L${n(xOf(1) + 5)} ${n(mid)} L${n(xOf(1))} ${n(mid + 5)} L${n(xOf(1) - 5)} ${n(mid)} Z" fill="${COLOURS.axis}"/>`,
        );
        group.push(text(TEXT_X, mid + 4, 'baseline (1×)', { class: 'small muted' }));
        break;
      case 'no-ratio':
        group.push(
          entry.value === undefined
            ? text(TEXT_X, mid + 4, 'no ratio in this run', { class: 'small faint' })
            : `<text x="${TEXT_X}" y="${n(mid + 4)}"><tspan class="ratio">${escapeXml(entry.value)}</tspan><tspan class="small faint" dx="5">(no ratio)</tspan></text>`,
        );
        break;
    }
    const status = statusOf([...entry.targets, ...entry.valueTargets]);
    if (status !== undefined) {
      group.push(
        text(STATUS_X, mid + 4, STATUS_WORD[status], {
          class: `small ${STATUS_CLASS[status]}`,
          'text-anchor': 'end',
        }),
      );
    }
    // Target bounds, drawn over the bar.
    for (const { target } of entry.targets) {
      for (const bound of [target.min, target.max]) {
        if (bound === undefined || bound <= 0) continue;
        const x = xOf(bound);
        group.push(
          `<line class="target" data-id="${escapeXml(entry.id)}" x1="${n(x)}" y1="${n(rowY + 1)}" x2="${n(x)}" y2="${n(rowY + ROW - 1)}" stroke="${COLOURS.target}" stroke-width="2"><title>${escapeXml(describeTarget(target))}</title></line>`,
        );
      }
    }
    out.push(`<g class="row" data-id="${escapeXml(entry.id)}">${group.join('')}</g>`);
    rowY += ROW;
  });
  y = chartBottom + 14;
  axisLabels(y);
  y += 34;

  // Absolute figures
  out.push(text(MARGIN, y, 'Absolute figures', { class: 'h2' }));
  y += 20;
  const columns: { title: string; x: number; anchor: 'start' | 'end'; cell: (r: BenchResult) => string }[] = [
    { title: 'id', x: MARGIN, anchor: 'start', cell: (r) => r.id },
    { title: 'p50 ms', x: 330, anchor: 'end', cell: (r) => formatFigure(r.p50Ms) },
    { title: 'p99 ms', x: 410, anchor: 'end', cell: (r) => formatFigure(r.p99Ms) },
    { title: 'ops/s', x: 490, anchor: 'end', cell: (r) => formatFigure(r.opsPerSec) },
    {
      title: 'value',
      x: 630,
      anchor: 'end',
      cell: (r) =>
        r.value === undefined ? '—' : `${formatFigure(r.value)}${r.unit === undefined ? '' : ` ${r.unit}`}`,
    },
    {
      title: 'baseline',
      x: 650,
      anchor: 'start',
      cell: (r) => r.baselineId ?? (r.ratio === undefined ? '' : '(in row)'),
    },
  ];
  for (const column of columns) {
    out.push(text(column.x, y, column.title, { class: 'small muted', 'text-anchor': column.anchor }));
  }
  y += 6;
  out.push(line(MARGIN, y, WIDTH - MARGIN, y, { stroke: COLOURS.grid }));
  report.results.forEach((result, index) => {
    const top = y + index * TABLE_ROW;
    const greyed = isNotLanded(result);
    const cells: string[] = [];
    if (index % 2 === 1)
      cells.push(rect(MARGIN - 6, top, WIDTH - 2 * MARGIN + 12, TABLE_ROW, { fill: COLOURS.stripe }));
    for (const column of columns) {
      const mono = column.title === 'id' || column.title === 'baseline';
      const content = column.title === 'value' && greyed ? 'not landed' : column.cell(result);
      cells.push(
        text(column.x, top + 13, content, {
          class: [mono ? 'mono' : 'small', greyed ? 'greyed' : ''].join(' ').trim(),
          'text-anchor': column.anchor,
        }),
      );
    }
    out.push(`<g class="figures" data-id="${escapeXml(result.id)}">${cells.join('')}</g>`);
  });
  y += report.results.length * TABLE_ROW + 30;

  // Targets
  if (outcomes.length > 0) {
    out.push(text(MARGIN, y, 'Targets (targets.json)', { class: 'h2' }));
    y += 20;
    for (const outcome of outcomes) {
      out.push(
        `<text x="${MARGIN}" y="${n(y)}" class="small"><tspan class="${STATUS_CLASS[outcome.status]}">${STATUS_WORD[outcome.status]}</tspan><tspan x="${MARGIN + 58}">${escapeXml(`${describeTarget(outcome.target)}: ${outcome.detail}`)}</tspan></text>`,
      );
      y += TABLE_ROW;
    }
    y += 12;
  }

  out.push(
    text(
      MARGIN,
      y,
      'Every ratio divides two figures measured in the same run on the same machine; notes in the JSON report say how.',
      { class: 'small faint' },
    ),
  );
  y += 16;
  const height = Math.ceil(y);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${escapeXml(options.title ?? 'script-harness benchmark')}: ${escapeXml(report.cpu)}, Node ${escapeXml(report.node)}, ${escapeXml(day)}</title>`,
    `<style>${STYLE}</style>`,
    rect(0, 0, WIDTH, height, { fill: '#ffffff' }),
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
