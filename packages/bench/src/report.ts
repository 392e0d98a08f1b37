/**
 * Report types, ratio computation, target checking and table formatting. Nothing here measures:
 * it turns measurements into the JSON report and the printed table, so it is unit-tested alone.
 */

/** Prefix of the note of a row whose feature is not in the product yet; such a row has no figures. */
export const NOT_LANDED_PREFIX = 'not landed: ';

/** Which figure of two rows a ratio divides: latency (lower is better) or throughput (higher is better). */
export type CompareBy = 'p50Ms' | 'opsPerSec';

/** What a row's measurement returns before ratios against other rows are resolved. */
export interface Measurement {
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly opsPerSec?: number;
  readonly unit?: string;
  readonly value?: number;
  /**
   * Ratio against a baseline measured inside the row itself (JSON.stringify, telemetry off, the
   * ideal wall time...). Rows compared with another row get their ratio from `resolveRatios`.
   */
  readonly ratio?: number;
  readonly note?: string;
}

/** One row of the report, exactly as written to JSON. Figures a row does not have are null. */
export interface BenchResult {
  readonly id: string;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly opsPerSec: number | null;
  readonly baselineId?: string;
  readonly ratio?: number;
  readonly unit?: string;
  readonly value?: number;
  readonly note?: string;
}

export interface BenchReport {
  readonly node: string;
  readonly cpu: string;
  readonly date: string;
  readonly results: readonly BenchResult[];
}

/** A measured row plus how it relates to its baseline row, if it has one. */
export interface MeasuredRow {
  readonly id: string;
  readonly baselineId?: string;
  readonly compareBy?: CompareBy;
  readonly measurement: Measurement;
}

export function notLanded(what: string): Measurement {
  return { note: `${NOT_LANDED_PREFIX}${what}` };
}

export function isNotLanded(result: Pick<BenchResult, 'note'>): boolean {
  return result.note?.startsWith(NOT_LANDED_PREFIX) === true;
}

type Figures = { readonly [K in CompareBy]?: number | null };

/**
 * `subject / baseline` for the chosen figure, or undefined when either figure is missing or the
 * baseline is zero. For throughput a ratio above 1 means faster; for latency, slower.
 */
export function ratioOf(subject: Figures, baseline: Figures, by: CompareBy): number | undefined {
  const a = subject[by];
  const b = baseline[by];
  if (a === null || b === null || a === undefined || b === undefined) return undefined;
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

/**
 * Builds the report rows: rounds figures, and for rows compared with another row of the same run
 * computes the ratio from the unrounded figures. A row whose baseline is missing from the run
 * keeps its absolute figures and gets no ratio (never one against a figure from another run).
 * A row without a baseline row may carry a ratio against a baseline measured inside it.
 */
export function resolveRatios(rows: readonly MeasuredRow[]): BenchResult[] {
  const measured = new Map(rows.map((row) => [row.id, row.measurement]));
  return rows.map((row) => {
    const m = row.measurement;
    let ratio: number | undefined;
    if (row.baselineId === undefined) {
      ratio = m.ratio;
    } else {
      const baseline = measured.get(row.baselineId);
      ratio = baseline === undefined ? undefined : ratioOf(m, baseline, row.compareBy ?? 'p50Ms');
    }
    // Key order follows the spec: id, figures, baselineId, ratio, unit, value, note.
    return {
      id: row.id,
      p50Ms: roundOrNull(m.p50Ms),
      p99Ms: roundOrNull(m.p99Ms),
      opsPerSec: roundOrNull(m.opsPerSec),
      ...(row.baselineId === undefined ? {} : { baselineId: row.baselineId }),
      ...(ratio === undefined || !Number.isFinite(ratio) ? {} : { ratio: round(ratio) }),
      ...(m.unit === undefined ? {} : { unit: m.unit }),
      ...(m.value === undefined || !Number.isFinite(m.value) ? {} : { value: round(m.value) }),
      ...(m.note === undefined ? {} : { note: m.note }),
    };
  });
}

/** Four significant digits: more would be noise on any machine this runs on. */
export function round(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(4));
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : round(value);
}

export function buildReport(
  results: readonly BenchResult[],
  environment: { node: string; cpu: string; date: Date },
): BenchReport {
  return { node: environment.node, cpu: environment.cpu, date: environment.date.toISOString(), results };
}

// ---------------------------------------------------------------------------------------------
// Targets

/**
 * A performance target. With `baselineId` it bounds the ratio `row[metric] / baseline[metric]`
 * (both rows from the same run); without, it bounds the row's `value`, whose `unit` must match.
 */
export interface Target {
  readonly id: string;
  readonly baselineId?: string;
  readonly metric?: CompareBy;
  readonly unit?: string;
  readonly max?: number;
  readonly min?: number;
  /** Why the target exists; printed with the outcome. */
  readonly reason?: string;
}

export interface TargetsFile {
  readonly targets: readonly Target[];
}

export type TargetStatus = 'pass' | 'fail' | 'skipped';

export interface TargetOutcome {
  readonly target: Target;
  readonly status: TargetStatus;
  /** The compared figure, when there was one. */
  readonly actual?: number;
  readonly detail: string;
}

export function describeTarget(target: Target): string {
  const bound = [
    target.min === undefined ? undefined : `≥ ${target.min}`,
    target.max === undefined ? undefined : `≤ ${target.max}`,
  ]
    .filter((part) => part !== undefined)
    .join(' and ');
  if (target.baselineId !== undefined) {
    return `${target.id} ${bound}× ${target.baselineId} (${target.metric ?? 'p50Ms'})`;
  }
  return `${target.id} ${bound}${target.unit === undefined ? '' : ` ${target.unit}`}`;
}

/**
 * Compares the run with the targets. A row (or its baseline) whose feature has not landed, or that
 * this run did not measure (`--filter`), is skipped; a row that was measured but has no usable
 * figure (it errored, or reports another unit) fails, as does a figure outside its bounds.
 */
export function checkTargets(results: readonly BenchResult[], targets: readonly Target[]): TargetOutcome[] {
  const byId = new Map(results.map((result) => [result.id, result]));
  return targets.map((target): TargetOutcome => {
    const row = byId.get(target.id);
    const baseline = target.baselineId === undefined ? undefined : byId.get(target.baselineId);
    if (row === undefined) return { target, status: 'skipped', detail: 'skipped (not measured in this run)' };
    if (isNotLanded(row)) return { target, status: 'skipped', detail: 'skipped (not landed)' };
    let actual: number | undefined;
    if (target.baselineId !== undefined) {
      if (baseline === undefined) {
        return { target, status: 'skipped', detail: `skipped (${target.baselineId} not measured in this run)` };
      }
      if (isNotLanded(baseline)) return { target, status: 'skipped', detail: 'skipped (baseline not landed)' };
      actual = ratioOf(row, baseline, target.metric ?? 'p50Ms');
      if (actual === undefined) {
        return { target, status: 'fail', detail: `no ${target.metric ?? 'p50Ms'} figure to compare` };
      }
    } else {
      if (target.unit !== undefined && row.unit !== target.unit) {
        return { target, status: 'fail', detail: `row reports ${row.unit ?? 'no unit'}, target is in ${target.unit}` };
      }
      actual = row.value;
      if (actual === undefined) return { target, status: 'fail', detail: 'no value to compare' };
    }
    const shown =
      target.baselineId === undefined ? `${round(actual)}${target.unit ? ` ${target.unit}` : ''}` : `${round(actual)}×`;
    if (target.max !== undefined && actual > target.max)
      return { target, status: 'fail', actual, detail: `${shown} > ${target.max}` };
    if (target.min !== undefined && actual < target.min)
      return { target, status: 'fail', actual, detail: `${shown} < ${target.min}` };
    return { target, status: 'pass', actual, detail: shown };
  });
}

/** Reads and validates a targets file's parsed JSON. */
export function parseTargets(json: unknown): Target[] {
  const targets = (json as Partial<TargetsFile> | null)?.targets;
  if (!Array.isArray(targets)) throw new Error('targets file must be { "targets": [...] }');
  return targets.map((entry: unknown, index) => {
    const t = entry as Partial<Target> | null;
    if (t === null || typeof t !== 'object' || typeof t.id !== 'string') throw new Error(`target ${index} has no id`);
    if (t.max === undefined && t.min === undefined) throw new Error(`target ${t.id} has neither min nor max`);
    for (const key of ['max', 'min'] as const) {
      if (t[key] !== undefined && typeof t[key] !== 'number')
        throw new Error(`target ${t.id}: ${key} must be a number`);
    }
    if (t.metric !== undefined && t.metric !== 'p50Ms' && t.metric !== 'opsPerSec') {
      throw new Error(`target ${t.id}: metric must be p50Ms or opsPerSec`);
    }
    return t as Target;
  });
}

// ---------------------------------------------------------------------------------------------
// Text output

/** A figure as the table prints it: thousands grouped, about three significant digits, `—` when missing. */
export function formatFigure(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** A fixed-width table of the results, followed by each row's note. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['id', 'p50 ms', 'p99 ms', 'ops/s', 'value', 'ratio', 'baseline'];
  const lines = results.map((r) => [
    r.id,
    formatFigure(r.p50Ms),
    formatFigure(r.p99Ms),
    formatFigure(r.opsPerSec),
    r.value === undefined ? '—' : `${formatFigure(r.value)}${r.unit === undefined ? '' : ` ${r.unit}`}`,
    r.ratio === undefined ? (isNotLanded(r) ? 'not landed' : '—') : `${formatFigure(r.ratio)}×`,
    r.baselineId ?? (r.ratio === undefined ? '' : '(in row)'),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5]);
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const out = [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)];
  const notes = results.filter((r) => r.note !== undefined);
  if (notes.length > 0) {
    out.push('', 'Notes:');
    for (const r of notes) out.push(`  ${r.id}: ${r.note}`);
  }
  return out.join('\n');
}

export function formatCheck(outcomes: readonly TargetOutcome[]): string {
  const mark: Record<TargetStatus, string> = { pass: 'ok  ', fail: 'FAIL', skipped: 'skip' };
  return outcomes.map((o) => `${mark[o.status]}  ${describeTarget(o.target)}: ${o.detail}`).join('\n');
}
