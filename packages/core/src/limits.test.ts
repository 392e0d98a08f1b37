import { describe, expect, it } from 'vitest';
import { HarnessError } from './errors.ts';
import { DEFAULT_LIMITS, parseLimits, resolveLimits } from './limits.ts';

describe('limits', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      timeoutMs: 30_000,
      memoryMb: 96,
      stackKb: 512,
      maxToolCalls: 32,
      maxConcurrentToolCalls: 4,
      maxOutputBytes: 128 * 1024,
      maxSourceBytes: 20 * 1024,
      maxConsoleEvents: 200,
      consoleEventsPerSecond: 20,
      maxProgressEvents: 50,
      progressIntervalMs: 500,
      maxToolOutputBytes: 256 * 1024,
      detachedGraceMs: 250,
    });
  });

  it('refuses unknown and invalid fields, naming each', () => {
    expect(() => parseLimits({ timeoutMs: -1, bogus: 1 })).toThrow(/timeoutMs.*|bogus/);
  });

  it('F14: a request may override within the ceiling and is refused above it', () => {
    expect(resolveLimits(DEFAULT_LIMITS, { timeoutMs: 1000 }, { timeoutMs: 5000 }).timeoutMs).toBe(1000);
    try {
      resolveLimits(DEFAULT_LIMITS, { timeoutMs: 6000 }, { timeoutMs: 5000 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HarnessError);
      expect((error as HarnessError).code).toBe('INVALID_REQUEST');
      expect((error as HarnessError).message).toContain('limits.timeoutMs');
    }
  });

  it('an override changes only the fields it names', () => {
    const base = parseLimits({ memoryMb: 32, timeoutMs: 5000 });
    const resolved = resolveLimits(base, { timeoutMs: 1000 }, { memoryMb: 64, timeoutMs: 10_000 });
    expect(resolved).toMatchObject({ memoryMb: 32, timeoutMs: 1000 });
    expect(() => resolveLimits(base, { bogus: 1 } as never, {})).toThrow(/bogus/);
  });
});
