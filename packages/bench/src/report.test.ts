import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BenchResult,
  buildReport,
  checkTargets,
  formatTable,
  type MeasuredRow,
  NOT_LANDED_PREFIX,
  notLanded,
  parseTargets,
  ratioOf,
  resolveRatios,
  type Target,
} from './report.ts';
import { ALL_ROWS } from './run.ts';

const row = (id: string, figures: Partial<BenchResult> = {}): BenchResult => ({
  id,
  p50Ms: null,
  p99Ms: null,
  opsPerSec: null,
  ...figures,
});

describe('ratioOf', () => {
  it('divides the chosen figure of the subject by the baseline', () => {
    expect(ratioOf({ p50Ms: 3 }, { p50Ms: 1.5 }, 'p50Ms')).toBe(2);
    expect(ratioOf({ opsPerSec: 700 }, { opsPerSec: 1000 }, 'opsPerSec')).toBe(0.7);
  });

  it('has no ratio when a figure is missing or the baseline is zero', () => {
    expect(ratioOf({ p50Ms: null }, { p50Ms: 1 }, 'p50Ms')).toBeUndefined();
    expect(ratioOf({ p50Ms: 1 }, {}, 'p50Ms')).toBeUndefined();
    expect(ratioOf({ p50Ms: 1 }, { p50Ms: 0 }, 'p50Ms')).toBeUndefined();
  });
});

describe('resolveRatios', () => {
  const rows: MeasuredRow[] = [
    { id: 'floor.a', measurement: { p50Ms: 0.1, p99Ms: 0.2, opsPerSec: 10_000 } },
    { id: 'ours.a', baselineId: 'floor.a', measurement: { p50Ms: 0.15, p99Ms: 0.3, opsPerSec: 6666.6666 } },
    { id: 'floor.t', measurement: { opsPerSec: 2000, unit: 'scripts/s', value: 2000 } },
    {
      id: 'ours.t',
      baselineId: 'floor.t',
      compareBy: 'opsPerSec',
      measurement: { opsPerSec: 1500, unit: 'scripts/s', value: 1500 },
    },
    { id: 'inline', measurement: { p50Ms: 0.6, ratio: 2.123456, note: 'vs JSON.stringify' } },
    { id: 'orphan', baselineId: 'not.in.run', measurement: { p50Ms: 1 } },
    { id: 'later', baselineId: 'floor.a', measurement: notLanded('pool mode') },
  ];
  const results = resolveRatios(rows);
  const byId = new Map(results.map((result) => [result.id, result]));

  it('computes latency ratios from p50 against the baseline row of the same run', () => {
    expect(byId.get('ours.a')).toMatchObject({ baselineId: 'floor.a', ratio: 1.5 });
  });

  it('computes throughput ratios from ops/s when the row compares by throughput', () => {
    expect(byId.get('ours.t')).toMatchObject({ baselineId: 'floor.t', ratio: 0.75, unit: 'scripts/s', value: 1500 });
  });

  it('keeps a ratio measured inside the row, rounded to four significant digits', () => {
    expect(byId.get('inline')).toMatchObject({ ratio: 2.123, note: 'vs JSON.stringify' });
    expect(byId.get('inline')).not.toHaveProperty('baselineId');
  });

  it('gives no ratio when the baseline row is not in the run, or the row has no figures', () => {
    expect(byId.get('orphan')).toMatchObject({ baselineId: 'not.in.run', p50Ms: 1 });
    expect(byId.get('orphan')).not.toHaveProperty('ratio');
    expect(byId.get('later')).toEqual({
      id: 'later',
      p50Ms: null,
      p99Ms: null,
      opsPerSec: null,
      baselineId: 'floor.a',
      note: `${NOT_LANDED_PREFIX}pool mode`,
    });
  });

  it('rounds figures and marks missing ones null', () => {
    expect(byId.get('ours.a')?.opsPerSec).toBe(6667);
    expect(byId.get('floor.t')).toMatchObject({ p50Ms: null, p99Ms: null, opsPerSec: 2000 });
  });
});

describe('JSON report', () => {
  it('has node, cpu, date and results with the keys of the spec, in order', () => {
    const results = resolveRatios([
      { id: 'floor.a', measurement: { p50Ms: 1, p99Ms: 2, opsPerSec: 1000 } },
      {
        id: 'ours.a',
        baselineId: 'floor.a',
        measurement: { p50Ms: 2, p99Ms: 3, opsPerSec: 500, unit: 'KB', value: 12, note: 'method' },
      },
    ]);
    const report = buildReport(results, { node: 'v24.0.0', cpu: 'test CPU (2 cores)', date: new Date(0) });
    const parsed = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(Object.keys(parsed)).toEqual(['node', 'cpu', 'date', 'results']);
    expect(parsed.date).toBe('1970-01-01T00:00:00.000Z');
    expect(Object.keys(parsed.results[0]!)).toEqual(['id', 'p50Ms', 'p99Ms', 'opsPerSec']);
    expect(Object.keys(parsed.results[1]!)).toEqual([
      'id',
      'p50Ms',
      'p99Ms',
      'opsPerSec',
      'baselineId',
      'ratio',
      'unit',
      'value',
      'note',
    ]);
    expect(parsed.results[1]).toMatchObject({ ratio: 2, unit: 'KB', value: 12 });
  });

  it('prints every row, the ratio with its baseline, and the notes', () => {
    const table = formatTable([
      row('floor.a', { p50Ms: 0.1, p99Ms: 0.2, opsPerSec: 10_000 }),
      row('ours.a', { p50Ms: 0.7, baselineId: 'floor.a', ratio: 7 }),
      row('later', { note: `${NOT_LANDED_PREFIX}pool mode` }),
    ]);
    expect(table).toContain('floor.a');
    expect(table).toMatch(/ours\.a .*7\.00× {2}floor\.a/);
    expect(table).toMatch(/later .*not landed/);
    expect(table).toContain('later: not landed: pool mode');
  });
});

describe('checkTargets', () => {
  const results = [
    row('floor.a', { p50Ms: 0.1 }),
    row('ours.a', { p50Ms: 0.15, baselineId: 'floor.a', ratio: 1.5 }),
    row('ours.slow', { p50Ms: 0.3, baselineId: 'floor.a', ratio: 3 }),
    row('floor.t', { opsPerSec: 1000 }),
    row('ours.t', { opsPerSec: 600 }),
    row('memory', { unit: 'KB', value: 120 }),
    row('pending', { note: `${NOT_LANDED_PREFIX}scheduler` }),
    row('pending.base', { note: `${NOT_LANDED_PREFIX}ivm runtime` }),
    row('uses.pending', { p50Ms: 1 }),
    row('broken', { note: 'error: worker crashed' }),
  ];
  const status = (target: Target) => checkTargets(results, [target])[0]!;

  it('passes a ratio or value within its bound', () => {
    expect(status({ id: 'ours.a', baselineId: 'floor.a', max: 2 })).toMatchObject({
      status: 'pass',
      actual: expect.closeTo(1.5),
    });
    expect(status({ id: 'memory', unit: 'KB', max: 150 })).toMatchObject({ status: 'pass', actual: 120 });
  });

  it('fails a missed target', () => {
    expect(status({ id: 'ours.slow', baselineId: 'floor.a', max: 2 })).toMatchObject({
      status: 'fail',
      actual: expect.closeTo(3),
    });
    expect(status({ id: 'ours.t', baselineId: 'floor.t', metric: 'opsPerSec', min: 0.7 })).toMatchObject({
      status: 'fail',
    });
    expect(status({ id: 'memory', unit: 'KB', max: 100 }).status).toBe('fail');
  });

  it('skips a row that has not landed, or whose baseline has not', () => {
    expect(status({ id: 'pending', unit: 'µs', max: 50 })).toMatchObject({
      status: 'skipped',
      detail: 'skipped (not landed)',
    });
    expect(status({ id: 'uses.pending', baselineId: 'pending.base', max: 1.5 }).status).toBe('skipped');
  });

  it('skips rows this run did not measure', () => {
    expect(status({ id: 'filtered.out', max: 1 }).status).toBe('skipped');
    expect(status({ id: 'ours.a', baselineId: 'filtered.out', max: 1 }).status).toBe('skipped');
  });

  it('fails a measured row without a usable figure', () => {
    expect(status({ id: 'broken', unit: 'KB', max: 1 }).status).toBe('fail');
    expect(status({ id: 'memory', unit: 'MB', max: 1 })).toMatchObject({ status: 'fail' });
  });
});

describe('targets.json', () => {
  const targets = parseTargets(JSON.parse(readFileSync(new URL('../targets.json', import.meta.url), 'utf8')));

  it('parses, and every target and baseline names a row of the suite', () => {
    const ids = new Set(ALL_ROWS.map((benchRow) => benchRow.id));
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(ids).toContain(target.id);
      if (target.baselineId !== undefined) expect(ids).toContain(target.baselineId);
    }
  });

  it('rejects a malformed targets file', () => {
    expect(() => parseTargets({})).toThrow(/targets/);
    expect(() => parseTargets({ targets: [{ id: 'x' }] })).toThrow(/min nor max/);
    expect(() => parseTargets({ targets: [{ id: 'x', max: '2' }] })).toThrow(/number/);
  });
});
