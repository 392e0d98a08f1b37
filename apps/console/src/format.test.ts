import { describe, expect, it } from 'vitest';
import { formatDuration, formatJson, formatPercent, formatTimeLeft, shortId } from './format.ts';

describe('format', () => {
  it('formats durations from sub-millisecond to minutes', () => {
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(0.25)).toBe('0.25 ms');
    expect(formatDuration(42.4)).toBe('42 ms');
    expect(formatDuration(1500)).toBe('1.50 s');
    expect(formatDuration(12_500)).toBe('12.5 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });

  it('counts the time left down to expired', () => {
    expect(formatTimeLeft(125_000, 0)).toBe('2:05');
    expect(formatTimeLeft(1_000, 999)).toBe('0:01');
    expect(formatTimeLeft(1_000, 1_000)).toBe('expired');
  });

  it('formats ratios, JSON with a cut, and long ids', () => {
    expect(formatPercent(undefined)).toBe('—');
    expect(formatPercent(0.5)).toBe('50%');
    expect(formatPercent(0.012)).toBe('1.2%');
    expect(formatJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatJson(undefined)).toBe('undefined');
    expect(formatJson('x'.repeat(20), 5)).toBe('"xxxx\n… (17 more characters)');
    expect(shortId('0123456789abcdef')).toBe('01234567…');
    expect(shortId('short')).toBe('short');
  });
});
