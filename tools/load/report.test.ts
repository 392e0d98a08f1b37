import { describe, expect, it } from 'vitest';
import { parseDuration } from './cli.ts';
import type { Answer } from './client.ts';
import type { TimedSample } from './driver.ts';
import { buildReport, formatSummary, timeline } from './report.ts';
import { lowerEnvelope } from './scenarios/soak.ts';

const answer = (sentAtMs: number, latencyMs: number, kind: Answer['kind'] = 'ok'): Answer => ({
  id: String(sentAtMs),
  label: 'normal',
  sentAtMs,
  latencyMs,
  kind,
  status: 200,
  code: null,
  retryAfter: null,
  echoedId: String(sentAtMs),
  value: null,
  toolCalls: 0,
});

const sample = (atMs: number, rssMb: number): TimedSample => ({
  atMs,
  uptimeMs: atMs,
  rssBytes: rssMb * 1024 * 1024,
  heapUsedBytes: 0,
  heapTotalBytes: 0,
  externalBytes: 0,
  heapAfterGcBytes: 40 * 1024 * 1024,
  activeHandles: 5,
  openFileDescriptors: 30,
  threads: 20,
  pool: null,
  queue: { queued: 0, running: 0 },
  eventLoopLagMs: 0,
  toolExecutions: {},
  toolCallsPending: 0,
});

describe('load reports', () => {
  it('buckets latency by the second a request was sent, leaving lost requests out', () => {
    const points = timeline([answer(100, 10), answer(900, 30), answer(2_100, 50), answer(2_200, 0, 'lost')], 3_000);
    expect(points).toEqual([
      { atSeconds: 0, answers: 2, p50: 10, p99: 30 },
      { atSeconds: 1, answers: 0, p50: null, p99: null },
      { atSeconds: 2, answers: 1, p50: 50, p99: 50 },
    ]);
  });

  it('passes only when every check passes, and charts latency and memory as polylines', async () => {
    const input = {
      scenario: 'soak' as const,
      parameters: { rate: 5 },
      figures: { rssMbPerHour: 1.5 },
      durationMs: 3_000,
      answers: [answer(100, 10), answer(1_500, 20)],
      samples: [sample(0, 200), sample(1_000, 210), sample(2_000, 205)],
    };
    const failing = buildReport({
      ...input,
      checks: [
        { name: 'a', pass: true, detail: 'fine' },
        { name: 'b', pass: false, detail: 'not <fine>' },
      ],
    });
    expect(failing.pass).toBe(false);
    expect(formatSummary(failing)).toContain('FAIL b: not <fine>');
    const passing = buildReport({ ...input, checks: [{ name: 'a', pass: true, detail: 'fine' }] });
    expect(passing.pass).toBe(true);
    const { renderLoadChart } = await import('./chart.ts');
    const svg = renderLoadChart(passing);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).not.toContain('NaN');
  });

  it('fits the floor of a sawtooth rather than its phase', () => {
    // RSS that climbs 100 MB over 5 minutes and drops back, for an hour: no trend in the floor.
    const samples = Array.from({ length: 720 }, (_, i) => sample(i * 5_000, 300 + ((i % 60) / 60) * 100));
    const floor = lowerEnvelope(samples.slice(0, 700), (s) => s.rssBytes / (1024 * 1024), 5_000);
    expect(floor).toHaveLength(8);
    for (const [, mb] of floor) expect(mb).toBe(300);
  });

  it('reads durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('3m')).toBe(180_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('12')).toBe(12_000);
    expect(() => parseDuration('soon')).toThrow('not a duration');
  });
});
