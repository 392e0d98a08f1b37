import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBytes, prefixWithinJsonBytes, suffixWithinJsonBytes } from './json-size.ts';

/** Bytes of a string's JSON literal without its two quotes. */
const contentBytes = (text: string) => jsonBytes(text) - 2;

describe('prefixWithinJsonBytes and suffixWithinJsonBytes', () => {
  it('count escapes and UTF-8 as JSON does, and never split a surrogate pair', () => {
    expect(prefixWithinJsonBytes('a"b', 3)).toBe('a"');
    expect(prefixWithinJsonBytes('\u0001x', 6)).toBe('\u0001');
    expect(prefixWithinJsonBytes('😀x', 3)).toBe('');
    expect(prefixWithinJsonBytes('😀x', 4)).toBe('😀');
    expect(suffixWithinJsonBytes('x😀', 3)).toBe('');
    expect(suffixWithinJsonBytes('x😀', 5)).toBe('x😀');
  });

  it('return the longest part that fits the budget', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(200), (text, budget) => {
        const prefix = prefixWithinJsonBytes(text, budget);
        const suffix = suffixWithinJsonBytes(text, budget);
        expect(text.startsWith(prefix) && text.endsWith(suffix)).toBe(true);
        expect(contentBytes(prefix)).toBeLessThanOrEqual(budget);
        expect(contentBytes(suffix)).toBeLessThanOrEqual(budget);
        if (prefix.length < text.length) {
          const step = /[\ud800-\udbff][\udc00-\udfff]$/.test(text.slice(0, prefix.length + 2)) ? 2 : 1;
          expect(contentBytes(text.slice(0, prefix.length + step))).toBeGreaterThan(budget);
        }
      }),
    );
  });
});
