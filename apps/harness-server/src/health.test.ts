import { describe, expect, it } from 'vitest';
import { createEventLoopMonitor, readiness } from './health.ts';

const idleQueue = { queued: 0, running: 0, accepting: true };

describe('readiness', () => {
  it('is ready with a warm pool, room in the queue and no shutdown', () => {
    expect(readiness({ shuttingDown: false, pool: { size: 2, busy: 2 }, queue: idleQueue, maxQueued: 10 })).toEqual({
      ready: true,
      reasons: [],
    });
    expect(readiness({ shuttingDown: false, pool: undefined, queue: idleQueue, maxQueued: 10 }).ready).toBe(true);
  });

  it('names every reason it is not', () => {
    const state = readiness({
      shuttingDown: true,
      pool: { size: 0, busy: 0 },
      queue: { queued: 10, running: 4, accepting: false },
      maxQueued: 10,
    });
    expect(state.ready).toBe(false);
    expect(state.reasons).toEqual([
      'the server is shutting down',
      'the sandbox pool has no worker',
      'the queue is full (10 of 10 waiting)',
    ]);
    expect(readiness({ shuttingDown: false, pool: undefined, queue: idleQueue, maxQueued: 0 }).ready).toBe(false);
  });
});

describe('createEventLoopMonitor', () => {
  it('reports lag while the loop is blocked, and little when it is not', async () => {
    const monitor = createEventLoopMonitor(20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(monitor.lagMs()).toBeLessThan(200);
      const blockedUntil = performance.now() + 300;
      while (performance.now() < blockedUntil) {
        // Hold the event loop the way a CPU-bound handler would.
      }
      expect(monitor.lagMs()).toBeGreaterThanOrEqual(250);
    } finally {
      monitor.stop();
    }
  });
});
