import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HarnessError } from './errors.ts';
import { createInProcessQueue, isRetryableScriptFailure, type JobPriority, retryDelayMs } from './queue.ts';

const deferred = <T>() => {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('in-process job queue', () => {
  it('runs by priority, then in arrival order, within the concurrency bound', async () => {
    const order: string[] = [];
    const gate = deferred<void>();
    const queue = createInProcessQueue<string, string>({
      concurrency: 1,
      maxQueued: 100,
      run: async (name) => {
        if (name === 'first') await gate.promise;
        order.push(name);
        return name;
      },
    });
    const first = queue.submit({ payload: 'first' });
    const submitted: [string, JobPriority][] = [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['high-1', 'high'],
      ['normal-2', 'normal'],
      ['high-2', 'high'],
    ];
    const handles = submitted.map(([payload, priority]) => queue.submit({ payload, priority }));
    expect(queue.stats()).toMatchObject({ running: 1, queued: 5 });
    gate.resolve();
    await Promise.all([first.result, ...handles.map((h) => h.result)]);
    expect(order).toEqual(['first', 'high-1', 'high-2', 'normal-1', 'normal-2', 'low-1']);
  });

  it('refuses work beyond its bound with QUEUE_FULL (retryable)', () => {
    const queue = createInProcessQueue<number, number>({
      concurrency: 1,
      maxQueued: 2,
      run: () => new Promise(() => {}),
    });
    queue.submit({ payload: 1 });
    queue.submit({ payload: 2 });
    queue.submit({ payload: 3 });
    try {
      queue.submit({ payload: 4 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HarnessError);
      expect((error as HarnessError).code).toBe('QUEUE_FULL');
      expect((error as HarnessError).retryable).toBe(true);
    }
    expect(queue.stats().rejected).toBe(1);
  });

  it('bounds concurrency per tenant without starving other tenants', async () => {
    const active = new Map<string, number>();
    let maxA = 0;
    const queue = createInProcessQueue<string, void>({
      concurrency: 3,
      maxQueued: 100,
      maxRunningPerTenant: 1,
      run: async (tenant) => {
        active.set(tenant, (active.get(tenant) ?? 0) + 1);
        maxA = Math.max(maxA, active.get('a') ?? 0);
        await tick();
        active.set(tenant, (active.get(tenant) ?? 1) - 1);
      },
    });
    const jobs = ['a', 'a', 'a', 'b', 'c'].map((tenant) => queue.submit({ payload: tenant, tenant }));
    await Promise.all(jobs.map((j) => j.result));
    expect(maxA).toBe(1);
  });

  it('retries only what the policy calls retryable, with backoff', async () => {
    let attempts = 0;
    const queue = createInProcessQueue<string, { ok: boolean }>({
      concurrency: 1,
      maxQueued: 10,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4, shouldRetry: (result) => !result.ok },
      run: async () => ({ ok: ++attempts === 3 }),
    });
    expect(await queue.submit({ payload: 'x' }).result).toEqual({ ok: true });
    expect(attempts).toBe(3);
    expect(queue.stats().retried).toBe(2);
    attempts = -10;
    expect(await queue.submit({ payload: 'y' }).result).toEqual({ ok: false }); // gives up after maxAttempts
  });

  it('retryDelayMs grows exponentially with jitter and is capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const delay = retryDelayMs(attempt, 100, 5_000, () => r);
        const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });

  it('treats only retryable failures without tool calls as retryable scripts', () => {
    expect(isRetryableScriptFailure({ ok: false, error: { retryable: true }, calls: [] })).toBe(true);
    expect(isRetryableScriptFailure({ ok: false, error: { retryable: true }, calls: [{}] })).toBe(false);
    expect(isRetryableScriptFailure({ ok: false, error: { retryable: false }, calls: [] })).toBe(false);
    expect(isRetryableScriptFailure({ ok: true, calls: [] })).toBe(false);
  });

  it('cancels queued and running jobs; the running one sees its signal', async () => {
    let seenAbort = false;
    const queue = createInProcessQueue<string, string>({
      concurrency: 1,
      maxQueued: 10,
      run: (_payload, { signal }) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            seenAbort = true;
            resolve('aborted');
          }),
        ),
    });
    const running = queue.submit({ payload: 'a' });
    const waiting = queue.submit({ payload: 'b' });
    const caller = new AbortController();
    const third = queue.submit({ payload: 'c', signal: caller.signal });
    expect(queue.cancel(waiting.id)).toBe(true);
    await expect(waiting.result).rejects.toMatchObject({ code: 'CANCELLED' });
    caller.abort();
    await expect(third.result).rejects.toMatchObject({ code: 'CANCELLED' });
    queue.cancel(running.id);
    await expect(running.result).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seenAbort).toBe(true);
    expect(queue.cancel('unknown')).toBe(false);
  });

  it('closes gracefully: finishes what it can within the grace period, then answers the rest with SHUTDOWN', async () => {
    const slow = deferred<string>();
    const queue = createInProcessQueue<string, string>({
      concurrency: 1,
      maxQueued: 10,
      run: (payload) => (payload === 'quick' ? Promise.resolve('done') : slow.promise),
    });
    const quick = queue.submit({ payload: 'quick' });
    const stuck = queue.submit({ payload: 'stuck' });
    const closing = queue.close({ graceMs: 50 });
    expect(() => queue.submit({ payload: 'late' })).toThrow(/shutting down/);
    expect(await quick.result).toBe('done');
    await closing;
    await expect(stuck.result).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(queue.stats().accepting).toBe(false);
  });

  it('property: every submitted job settles exactly once, whatever the mix of priorities, failures and cancels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            priority: fc.constantFrom<JobPriority>('high', 'normal', 'low'),
            fail: fc.boolean(),
            cancel: fc.boolean(),
          }),
          { maxLength: 30 },
        ),
        async (specs) => {
          const queue = createInProcessQueue<{ fail: boolean }, string>({
            concurrency: 2,
            maxQueued: 1_000,
            run: async ({ fail }) => {
              await Promise.resolve();
              if (fail) throw new Error('boom');
              return 'ok';
            },
          });
          const settled = new Map<string, number>();
          const handles = specs.map((spec) => queue.submit({ payload: { fail: spec.fail }, priority: spec.priority }));
          for (const [i, spec] of specs.entries()) {
            if (spec.cancel) queue.cancel((handles[i] as { id: string }).id);
          }
          await Promise.all(
            handles.map((h) =>
              h.result.then(
                () => settled.set(h.id, (settled.get(h.id) ?? 0) + 1),
                () => settled.set(h.id, (settled.get(h.id) ?? 0) + 1),
              ),
            ),
          );
          expect([...settled.values()].every((n) => n === 1)).toBe(true);
          expect(settled.size).toBe(specs.length);
          expect(queue.stats()).toMatchObject({ queued: 0, running: 0 });
        },
      ),
      { numRuns: 100 },
    );
  });
});
