import { HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { resolveQueueOptions } from './queue.ts';
import { assertJobId, assertJsonPayload, BULLMQ_PRIORITY, errorFromData, isJobOutcome, parseMessage } from './wire.ts';

describe('what the distributed queue stores', () => {
  it('maps priorities to BullMQ numbers where lower runs first', () => {
    expect(BULLMQ_PRIORITY.high).toBeLessThan(BULLMQ_PRIORITY.normal);
    expect(BULLMQ_PRIORITY.normal).toBeLessThan(BULLMQ_PRIORITY.low);
    // 0 would mean "no priority" to BullMQ, which it runs before every prioritized job.
    expect(Math.min(...Object.values(BULLMQ_PRIORITY))).toBeGreaterThan(0);
  });

  it('accepts plain JSON payloads and refuses what JSON would drop', () => {
    expect(() => assertJsonPayload({ source: 'return 1', options: { limits: [1, null] } })).not.toThrow();
    for (const payload of [undefined, { onEvent: () => {} }, { n: 1n }, { s: Symbol('x') }]) {
      expect(() => assertJsonPayload(payload)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    }
  });

  it('refuses job ids BullMQ cannot keep', () => {
    expect(() => assertJobId('3f1c-script')).not.toThrow();
    for (const id of ['', '42', 'a:b', 'x'.repeat(201)]) {
      expect(() => assertJobId(id)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    }
  });

  it('turns error records back into harness errors, unknown codes into INTERNAL', () => {
    const original = new HarnessError('TIMEOUT', 'too slow', { line: 3, column: 4 });
    const restored = errorFromData(original.toData());
    expect(restored).toBeInstanceOf(HarnessError);
    expect(restored).toMatchObject({ code: 'TIMEOUT', message: 'too slow', line: 3, column: 4, retryable: false });
    expect(errorFromData({ ...original.toData(), code: 'NOT_A_CODE' as 'TIMEOUT' }).code).toBe('INTERNAL');
    expect(errorFromData(undefined)).toMatchObject({ code: 'INTERNAL', message: 'the job failed' });
  });

  it('recognises the outcomes it writes and nothing else', () => {
    expect(isJobOutcome({ status: 'ok', value: 1, attempt: 1, run: 'r', events: 0 })).toBe(true);
    expect(isJobOutcome({ status: 'cancelled', error: {}, attempt: 1, run: 'r', events: 2 })).toBe(true);
    expect(isJobOutcome({ status: 'done', run: 'r', events: 0 })).toBe(false);
    expect(isJobOutcome('ok')).toBe(false);
    expect(parseMessage('{"id":"x"}')).toEqual({ id: 'x' });
    expect(parseMessage('[1]')).toBeUndefined();
    expect(parseMessage('not json')).toBeUndefined();
  });
});

describe('queue options', () => {
  const valid = { connection: 'redis://127.0.0.1:6379', role: 'api' as const, concurrency: 2, maxQueued: 10 };

  it('fills in the defaults', () => {
    expect(resolveQueueOptions(valid)).toMatchObject({
      name: 'scripts',
      prefix: 'harness',
      maxAttempts: 3,
      lockDurationMs: 30_000,
      stalledIntervalMs: 15_000,
      maxStalledCount: 2,
    });
    expect(resolveQueueOptions(valid).nodeId).toMatch(/^[\w.-]+-\d+-[0-9a-f]{6}$/);
  });

  it('names the first bad option', () => {
    const run = async () => 1;
    expect(() => resolveQueueOptions({ ...valid, role: 'worker' })).toThrow(/needs run/);
    expect(() => resolveQueueOptions({ ...valid, role: 'boss' as 'api' })).toThrow(/role must be one of/);
    expect(() => resolveQueueOptions({ ...valid, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveQueueOptions({ ...valid, maxQueued: 1.5 })).toThrow(/maxQueued/);
    expect(() => resolveQueueOptions({ ...valid, name: 'a:b' })).toThrow(/name/);
    expect(() => resolveQueueOptions({ ...valid, nodeId: 'node one' })).toThrow(/nodeId/);
    expect(() => resolveQueueOptions({ ...valid, role: 'all', run, retry: { maxAttempts: 0 } })).toThrow(
      /retry.maxAttempts/,
    );
  });
});
