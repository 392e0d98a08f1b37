import { describe, expect, it } from 'vitest';
import { baselineOf, healthFigures, parsePrometheusText, readingOf, sumOf } from './metrics.ts';

const TEXT = `# HELP harness_scripts_total Scripts run.
# TYPE harness_scripts_total counter
harness_scripts_total{outcome="ok",runtime="quickjs"} 7
harness_scripts_total{outcome="error",code="TIMEOUT",runtime="quickjs"} 2
harness_scripts_total{outcome="error",code="GUEST_ERROR",runtime="quickjs"} 1
harness_approvals_pending 3
harness_pool_size{runtime="quickjs"} 2
harness_server_requests_total{method="GET",route="/v1/info",status="200"} 4 1700000000000
weird_label{path="a \\"quoted\\" \\\\ back",x="y"} 1.5e2
not a sample line
harness_gauge_inf +Inf
`;

describe('parsePrometheusText', () => {
  it('reads names, labels (escapes included) and values, and skips comments and junk', () => {
    const samples = parsePrometheusText(TEXT);
    expect(samples).toHaveLength(8);
    expect(samples[0]).toEqual({
      name: 'harness_scripts_total',
      labels: { outcome: 'ok', runtime: 'quickjs' },
      value: 7,
    });
    expect(samples.find((sample) => sample.name === 'weird_label')).toEqual({
      name: 'weird_label',
      labels: { path: 'a "quoted" \\ back', x: 'y' },
      value: 150,
    });
    expect(sumOf(samples, 'harness_server_requests_total')).toBe(4);
    expect(sumOf(samples, 'harness_gauge_inf')).toBe(Number.POSITIVE_INFINITY);
  });

  it('sums over labels and tells a missing metric from zero', () => {
    const samples = parsePrometheusText(TEXT);
    expect(sumOf(samples, 'harness_scripts_total')).toBe(10);
    expect(sumOf(samples, 'harness_scripts_total', { outcome: 'error' })).toBe(3);
    expect(sumOf(samples, 'harness_spawn_tasks_active')).toBeUndefined();
  });
});

describe('healthFigures', () => {
  const samples = parsePrometheusText(TEXT);

  it('computes utilisation, the error rate since start and over the recent window, failures by code', () => {
    const now = readingOf(samples, 60_000);
    const figures = healthFigures(
      { status: 'ready', queue: { queued: 1, running: 2, maxQueued: 256 }, pool: { size: 4, busy: 1 } },
      samples,
      now,
      { atMs: 0, scripts: 6, failed: 1 },
    );
    expect(figures.ready).toBe(true);
    expect(figures.pool).toEqual({ size: 4, busy: 1, utilisation: 0.25 });
    expect(figures.queue).toEqual({ queued: 1, running: 2, maxQueued: 256 });
    expect(figures.errorRate).toBeCloseTo(0.3);
    expect(figures.recentErrorRate).toBeCloseTo(0.5);
    expect(figures.recentWindowMs).toBe(60_000);
    expect(figures.approvalsPending).toBe(3);
    expect(figures.failuresByCode).toEqual([
      { code: 'TIMEOUT', count: 2 },
      { code: 'GUEST_ERROR', count: 1 },
    ]);
  });

  it('reports not ready with its reasons, and no rates before any script or recent script', () => {
    const empty = readingOf([], 5_000);
    const figures = healthFigures({ status: 'not_ready', reasons: ['the server is shutting down'] }, [], empty, {
      atMs: 0,
      scripts: 0,
      failed: 0,
    });
    expect(figures.ready).toBe(false);
    expect(figures.reasons).toEqual(['the server is shutting down']);
    expect(figures.pool).toBeUndefined();
    expect(figures.errorRate).toBeUndefined();
    expect(figures.recentErrorRate).toBeUndefined();
  });

  it('picks the oldest reading within the window as the baseline', () => {
    const readings = [0, 20_000, 50_000, 70_000].map((atMs) => ({ atMs, scripts: atMs, failed: 0 }));
    expect(baselineOf(readings, 80_000, 60_000)?.atMs).toBe(20_000);
    expect(baselineOf(readings, 0, 60_000)).toBeUndefined();
  });
});
