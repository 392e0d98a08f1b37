/**
 * The health page's figures, read from the server's own endpoints: `/ready` (pool and queue) and
 * `/metrics` (Prometheus text: scripts by outcome, approvals, sandboxes). The error rate is given
 * since the server started and over a recent window, from two readings of the counters.
 */
import type { ReadyState } from './api.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (format 0.0.4); comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][\w:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (match === null) continue;
    const value = parseValue(match[4] ?? '');
    if (value === undefined) continue;
    samples.push({ name: match[1] ?? '', labels: parseLabels(match[3] ?? ''), value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, escaped: string) =>
      escaped === 'n' ? '\n' : escaped,
    );
  }
  return labels;
}

/** The sum of the samples named `name` whose labels include `where`; undefined when there is none. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number | undefined {
  let total: number | undefined;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(where).some(([label, value]) => sample.labels[label] !== value)) continue;
    total = (total ?? 0) + sample.value;
  }
  return total;
}

/** The script counters at one moment. */
export interface Reading {
  readonly atMs: number;
  readonly scripts: number;
  readonly failed: number;
}

export function readingOf(samples: readonly Sample[], atMs: number): Reading {
  return {
    atMs,
    scripts: sumOf(samples, 'harness_scripts_total') ?? 0,
    failed: sumOf(samples, 'harness_scripts_total', { outcome: 'error' }) ?? 0,
  };
}

export interface HealthFigures {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  readonly pool?: { readonly size: number; readonly busy: number; readonly utilisation: number };
  readonly queue?: { readonly queued: number; readonly running: number; readonly maxQueued: number };
  readonly scripts: number;
  readonly failed: number;
  /** Failed scripts over all scripts since the server started; undefined before the first. */
  readonly errorRate: number | undefined;
  /** The same over the window between `since` and now; undefined when no script ended in it. */
  readonly recentErrorRate: number | undefined;
  readonly recentWindowMs: number | undefined;
  readonly approvalsPending: number | undefined;
  readonly sandboxesActive: number | undefined;
  readonly tasksActive: number | undefined;
  readonly workerRestarts: number | undefined;
  readonly failuresByCode: readonly { readonly code: string; readonly count: number }[];
}

export function healthFigures(
  ready: ReadyState,
  samples: readonly Sample[],
  now: Reading,
  since: Reading | undefined,
): HealthFigures {
  const recentScripts = since === undefined ? 0 : now.scripts - since.scripts;
  const byCode = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== 'harness_scripts_total' || sample.labels.outcome !== 'error') continue;
    const code = sample.labels.code ?? 'unknown';
    byCode.set(code, (byCode.get(code) ?? 0) + sample.value);
  }
  return {
    ready: ready.status === 'ready',
    reasons: ready.reasons ?? [],
    ...(ready.pool === undefined
      ? {}
      : {
          pool: {
            size: ready.pool.size,
            busy: ready.pool.busy,
            utilisation: ready.pool.size === 0 ? 0 : ready.pool.busy / ready.pool.size,
          },
        }),
    ...(ready.queue === undefined ? {} : { queue: ready.queue }),
    scripts: now.scripts,
    failed: now.failed,
    errorRate: now.scripts === 0 ? undefined : now.failed / now.scripts,
    recentErrorRate:
      since === undefined || recentScripts <= 0 ? undefined : (now.failed - since.failed) / recentScripts,
    recentWindowMs: since === undefined ? undefined : now.atMs - since.atMs,
    approvalsPending: sumOf(samples, 'harness_approvals_pending'),
    sandboxesActive: sumOf(samples, 'harness_sandboxes_active'),
    tasksActive: sumOf(samples, 'harness_spawn_tasks_active'),
    workerRestarts: sumOf(samples, 'harness_worker_restarts_total'),
    failuresByCode: [...byCode]
      .map(([code, count]) => ({ code, count }))
      .filter((entry) => entry.count > 0)
      .sort((a, b) => b.count - a.count),
  };
}

/** The reading to compare with: the oldest one kept that is at most `windowMs` old. */
export function baselineOf(readings: readonly Reading[], nowMs: number, windowMs: number): Reading | undefined {
  return readings.find((reading) => nowMs - reading.atMs <= windowMs && reading.atMs < nowMs);
}
