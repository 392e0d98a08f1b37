/** Figures the scenarios compute from what they saw: percentiles, a least-squares line, tallies. */
import type { Answer, AnswerKind } from './client.ts';

/** The p-th percentile (0–100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  const round = (n: number) => (Number.isNaN(n) ? n : Math.round(n * 10) / 10);
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(values.length === 0 ? Number.NaN : Math.max(...values)),
  };
}

export interface LineFit {
  /** Change of y per unit of x. */
  readonly slope: number;
  readonly intercept: number;
  /** Standard error of the slope (NaN with fewer than three points). */
  readonly slopeStandardError: number;
  readonly points: number;
}

/** Ordinary least squares y = intercept + slope · x. */
export function fitLine(points: readonly (readonly [number, number])[]): LineFit {
  const n = points.length;
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, slopeStandardError: Number.NaN, points: n };
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  const slope = sxx === 0 ? Number.NaN : sxy / sxx;
  const intercept = my - slope * mx;
  let residuals = 0;
  for (const [x, y] of points) residuals += (y - (intercept + slope * x)) ** 2;
  const slopeStandardError = n < 3 || sxx === 0 ? Number.NaN : Math.sqrt(residuals / (n - 2) / sxx);
  return { slope, intercept, slopeStandardError, points: n };
}

export interface AnswerTally {
  readonly sent: number;
  readonly byKind: Readonly<Record<AnswerKind, number>>;
  /** Error codes of every answer that carries one, with their counts. */
  readonly byCode: Readonly<Record<string, number>>;
  /** Ids answered more than once, ids answered under another id, ok values that do not carry their id. */
  readonly duplicated: number;
  readonly mismatched: number;
  /** Up to five answers that were lost or untyped, for the report. */
  readonly examples: readonly Answer[];
}

/**
 * Counts answers by kind and code, and checks that every request was answered once, under its
 * own id. `valueCarriesId` says whether an ok value is `{ id }` of its request (the scenarios'
 * scripts return their id, so a swapped or repeated answer shows).
 */
export function tallyAnswers(answers: readonly Answer[], valueCarriesId = true): AnswerTally {
  const byKind: Record<AnswerKind, number> = {
    ok: 0,
    'script-error': 0,
    rejected: 0,
    'http-error': 0,
    untyped: 0,
    lost: 0,
  };
  const byCode: Record<string, number> = {};
  const seen = new Set<string>();
  let duplicated = 0;
  let mismatched = 0;
  const examples: Answer[] = [];
  for (const answer of answers) {
    byKind[answer.kind]++;
    if (answer.code !== null) byCode[answer.code] = (byCode[answer.code] ?? 0) + 1;
    if (seen.has(answer.id)) duplicated++;
    seen.add(answer.id);
    const echoMismatch = answer.kind !== 'lost' && answer.echoedId !== answer.id;
    const valueMismatch =
      valueCarriesId && answer.kind === 'ok' && (answer.value as { id?: unknown } | null)?.id !== answer.id;
    if (echoMismatch || valueMismatch) mismatched++;
    if ((answer.kind === 'lost' || answer.kind === 'untyped') && examples.length < 5) examples.push(answer);
  }
  return { sent: answers.length, byKind, byCode, duplicated, mismatched, examples };
}

export const MB = 1024 * 1024;
export const round1 = (n: number): number => Math.round(n * 10) / 10;
