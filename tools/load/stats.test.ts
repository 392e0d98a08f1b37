import { describe, expect, it } from 'vitest';
import type { Answer } from './client.ts';
import { fitLine, percentile, summarizeLatency, tallyAnswers } from './stats.ts';

const answer = (id: string, overrides: Partial<Answer> = {}): Answer => ({
  id,
  label: 'normal',
  sentAtMs: 0,
  latencyMs: 10,
  kind: 'ok',
  status: 200,
  code: null,
  retryAfter: null,
  echoedId: id,
  value: { id },
  toolCalls: 1,
  ...overrides,
});

describe('stats', () => {
  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarizeLatency([1, 2, 3, 4])).toEqual({ count: 4, p50: 2, p90: 4, p99: 4, max: 4 });
  });

  it('fits a line and the standard error of its slope', () => {
    const exact = fitLine([
      [0, 1],
      [1, 3],
      [2, 5],
    ]);
    expect(exact.slope).toBeCloseTo(2);
    expect(exact.intercept).toBeCloseTo(1);
    expect(exact.slopeStandardError).toBeCloseTo(0);
    const noisy = fitLine([
      [0, 0],
      [1, 2],
      [2, 0],
      [3, 2],
    ]);
    expect(noisy.slope).toBeCloseTo(0.4);
    expect(noisy.slopeStandardError).toBeGreaterThan(0.3);
    expect(fitLine([[0, 1]]).slope).toBeNaN();
  });

  it('counts lost, untyped, duplicated and crossed answers', () => {
    const tally = tallyAnswers([
      answer('a'),
      answer('b', { kind: 'script-error', code: 'TIMEOUT', value: undefined }),
      answer('b', { kind: 'script-error', code: 'TIMEOUT', value: undefined }),
      answer('c', { echoedId: 'x' }),
      answer('d', { value: { id: 'a' } }),
      answer('e', { kind: 'lost', status: null, echoedId: null, value: undefined }),
      answer('f', { kind: 'untyped', status: 500, code: null }),
    ]);
    expect(tally.sent).toBe(7);
    expect(tally.byKind).toEqual({ ok: 3, 'script-error': 2, rejected: 0, 'http-error': 0, untyped: 1, lost: 1 });
    expect(tally.byCode).toEqual({ TIMEOUT: 2 });
    expect(tally.duplicated).toBe(1);
    expect(tally.mismatched).toBe(2);
    expect(tally.examples.map((a) => a.id)).toEqual(['e', 'f']);
  });
});
