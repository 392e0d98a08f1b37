import { describe, expect, it } from 'vitest';
import { isNotLanded, NOT_LANDED_PREFIX, notLanded } from './report.ts';
import type { BenchRow } from './row.ts';
import { ALL_ROWS, runBench, selectRows } from './run.ts';

const SPEC_IDS = [
  'floor.quickjs.fresh',
  'floor.ivm.fresh',
  'floor.throughput.raw2',
  'floor.http.hello',
  'harness.quickjs.trivial',
  'harness.quickjs.pool.trivial',
  'harness.quickjs.onetool',
  'harness.quickjs.pool.onetool',
  'harness.quickjs.tentools',
  'harness.ivm.trivial',
  'throughput.quickjs.pool2',
  'memory.quickjs.perSandboxKB',
  'memory.ivm.perSandboxKB',
  'concurrency.1000',
  'concurrency.1000.inline',
  'timeout.latencyMs',
  'scheduler.overhead',
  'queue.ops.10k',
  'retry.decision',
  'serialize.128kb',
  'telemetry.overhead',
  'server.http.trivial',
  'peer.sebastianwessel.trivial',
  'peer.nodevm.trivial',
];

describe('rows', () => {
  it('are exactly the rows of the spec, each baseline measured before the rows using it', () => {
    expect(ALL_ROWS.map((row) => row.id).sort()).toEqual([...SPEC_IDS].sort());
    const seen = new Set<string>();
    for (const row of ALL_ROWS) {
      if (row.baselineId !== undefined) expect(seen).toContain(row.baselineId);
      seen.add(row.id);
    }
  });
});

describe('selectRows', () => {
  const ids = (filter?: string[]) => selectRows(ALL_ROWS, filter).map((row: BenchRow) => row.id);

  it('selects everything without a filter', () => {
    expect(ids()).toHaveLength(ALL_ROWS.length);
  });

  it('selects an exact id alone, plus its baseline', () => {
    expect(ids(['harness.quickjs.trivial'])).toEqual(['floor.quickjs.fresh', 'harness.quickjs.trivial']);
  });

  it('selects every id containing a partial term', () => {
    expect(ids(['memory'])).toEqual(['memory.quickjs.perSandboxKB', 'memory.ivm.perSandboxKB']);
  });

  it('refuses a term that matches nothing', () => {
    expect(() => ids(['no.such.row'])).toThrow(/matches no row/);
  });
});

describe('runBench (smoke: cheap rows, tiny iteration counts, no timing assertions)', () => {
  const tiny = { time: 5, iterations: 3, warmupTime: 1, warmupIterations: 1 };

  it('measures rows next to their baselines', async () => {
    const report = await runBench({
      filter: ['harness.quickjs.trivial', 'serialize.128kb', 'queue.ops.10k'],
      profile: tiny,
    });
    expect(report.node).toBe(process.version);
    expect(typeof report.cpu).toBe('string');
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.results.map((result) => result.id)).toEqual([
      'floor.quickjs.fresh',
      'harness.quickjs.trivial',
      'queue.ops.10k',
      'serialize.128kb',
    ]);
    const [floor, ours, queue, serialize] = report.results;
    expect(floor?.p50Ms).toEqual(expect.any(Number));
    expect(ours).toMatchObject({ baselineId: 'floor.quickjs.fresh', ratio: expect.any(Number) });
    expect(serialize).toMatchObject({ p50Ms: expect.any(Number), ratio: expect.any(Number) });
    expect(queue).toMatchObject({ unit: 'µs', value: expect.any(Number), ratio: expect.any(Number) });
    expect(report.results.filter((result) => result.note?.startsWith('error: '))).toEqual([]);
  });

  it('reports a feature that has not landed without figures, and a row that throws as an error', async () => {
    const rows: BenchRow[] = [
      { id: 'pending', suite: 'infra', title: 'pending', measure: async () => notLanded('the feature') },
      {
        id: 'broken',
        suite: 'infra',
        title: 'broken',
        measure: async () => {
          throw new Error('boom');
        },
      },
    ];
    const report = await runBench({ rows, profile: tiny });
    expect(report.results).toEqual([
      { id: 'pending', p50Ms: null, p99Ms: null, opsPerSec: null, note: `${NOT_LANDED_PREFIX}the feature` },
      { id: 'broken', p50Ms: null, p99Ms: null, opsPerSec: null, note: 'error: boom' },
    ]);
    expect(isNotLanded(report.results[0]!)).toBe(true);
  });
});
