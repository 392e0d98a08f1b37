/**
 * The report of a scenario: its verdict (each check with what it measured), its figures, the
 * server samples and a latency timeline; written as JSON with an SVG chart beside it, and
 * summarised on the terminal.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLoadChart } from './chart.ts';
import type { Answer } from './client.ts';
import type { TimedSample } from './driver.ts';
import { type AnswerTally, percentile } from './stats.ts';

export type ScenarioName = 'concurrency' | 'soak' | 'exhaustion' | 'faults';

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  /** What was measured against what bound, in a sentence. */
  readonly detail: string;
}

/** Every answer arrived once, under the id it was sent with. */
export function noneDuplicatedCheck(tally: AnswerTally): Check {
  return {
    name: 'none duplicated or crossed',
    pass: tally.duplicated === 0 && tally.mismatched === 0,
    detail: `${tally.duplicated} duplicated, ${tally.mismatched} answered under another id`,
  };
}

export interface TimelinePoint {
  /** Start of the bucket, in seconds since the scenario started. */
  readonly atSeconds: number;
  readonly answers: number;
  /** Latency of the answers sent in this bucket (ms); null when none. */
  readonly p50: number | null;
  readonly p99: number | null;
}

export interface LoadReport {
  readonly scenario: ScenarioName;
  readonly pass: boolean;
  readonly checks: readonly Check[];
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly figures: Readonly<Record<string, unknown>>;
  readonly environment: { readonly node: string; readonly cpu: string; readonly cores: number; readonly date: string };
  readonly durationSeconds: number;
  readonly timeline: readonly TimelinePoint[];
  readonly samples: readonly TimedSample[];
}

export function buildReport(input: {
  scenario: ScenarioName;
  checks: readonly Check[];
  parameters: Record<string, unknown>;
  figures: Record<string, unknown>;
  durationMs: number;
  answers: readonly Answer[];
  samples: readonly TimedSample[];
}): LoadReport {
  const cpu = cpus();
  return {
    scenario: input.scenario,
    pass: input.checks.every((check) => check.pass),
    checks: input.checks,
    parameters: input.parameters,
    figures: input.figures,
    environment: {
      node: process.version,
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      date: new Date().toISOString(),
    },
    durationSeconds: Math.round(input.durationMs / 100) / 10,
    timeline: timeline(input.answers, input.durationMs),
    samples: input.samples,
  };
}

/** Latency percentiles per time bucket (about 120 buckets, at least a second each). */
export function timeline(answers: readonly Answer[], durationMs: number): TimelinePoint[] {
  const bucketMs = Math.max(1_000, Math.ceil(durationMs / 120 / 1_000) * 1_000);
  const buckets = new Map<number, number[]>();
  for (const answer of answers) {
    if (answer.kind === 'lost') continue;
    const bucket = Math.floor(answer.sentAtMs / bucketMs);
    const list = buckets.get(bucket);
    if (list === undefined) buckets.set(bucket, [answer.latencyMs]);
    else list.push(answer.latencyMs);
  }
  const last = Math.max(-1, ...buckets.keys());
  return Array.from({ length: last + 1 }, (_, bucket) => {
    const list = buckets.get(bucket) ?? [];
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      atSeconds: (bucket * bucketMs) / 1_000,
      answers: list.length,
      p50: list.length === 0 ? null : round(percentile(list, 50)),
      p99: list.length === 0 ? null : round(percentile(list, 99)),
    };
  });
}

export const REPORTS_DIRECTORY = fileURLToPath(new URL('./reports/', import.meta.url));

/** Writes `<file>` (JSON) and the chart beside it (`.svg`); default `reports/<scenario>-<time>.json`. */
export async function writeReport(report: LoadReport, file?: string): Promise<{ json: string; svg: string }> {
  const json =
    file ?? join(REPORTS_DIRECTORY, `${report.scenario}-${report.environment.date.replaceAll(/[:.]/g, '-')}.json`);
  const svg = `${json.replace(/\.json$/, '')}.svg`;
  await mkdir(dirname(json), { recursive: true });
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(svg, renderLoadChart(report));
  return { json, svg };
}

/** A few lines for the terminal: the verdict, each check, the headline figures. */
export function formatSummary(report: LoadReport): string {
  const lines = [`${report.scenario}: ${report.pass ? 'PASS' : 'FAIL'} (${report.durationSeconds} s)`];
  for (const check of report.checks) lines.push(`  ${check.pass ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  for (const [name, value] of Object.entries(report.figures)) {
    lines.push(`  ${name}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  return lines.join('\n');
}
