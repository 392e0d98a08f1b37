import { Worker } from 'node:worker_threads';
import { createHarness, defineTool, type ScriptResult } from '@script-harness/core';
import { createTestTools } from '@script-harness/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createQuickJSRuntime } from './runtime.ts';

/**
 * Outstanding calls of `wait`, to observe scripts interleaving inside one worker. With `holdUntil`,
 * calls are held until that many are in flight at once (or the wait runs out), so the observation
 * does not depend on how fast a busy machine starts scripts.
 */
function waitTool(holdUntil = 0) {
  const state = { inFlight: 0, maxInFlight: 0 };
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const tool = defineTool({
    name: 'wait',
    description: 'Waits the given milliseconds.',
    input: z.strictObject({ ms: z.number() }),
    execute: async ({ ms }) => {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      if (state.inFlight >= holdUntil) release();
      if (holdUntil > 0) await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await new Promise((resolve) => setTimeout(resolve, ms));
      state.inFlight--;
      return ms;
    },
  });
  return { tool, state };
}

describe('QuickJS worker pool', () => {
  it('S15: a script stuck in a native builtin past its deadline is killed with its worker; other workers and the host are unaffected', async () => {
    const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 2, killGraceMs: 300 } });
    const { tool } = waitTool();
    const harness = createHarness({ runtime, tools: [tool], maxLimits: { memoryMb: 4096 } });
    try {
      // String.prototype.replace over 150 million characters never consults the interrupt handler.
      const stuck = harness.run('return "a".repeat(1.5e8).replace(/a/g, "bb").length;', {
        limits: { timeoutMs: 100, memoryMb: 2048 },
      });
      const meanwhile = harness.run('await tools.wait({ ms: 50 }); return "other worker";');
      const [stuckResult, otherResult] = await Promise.all([stuck, meanwhile]);
      expect(stuckResult.error?.code).toBe('TIMEOUT');
      expect(stuckResult.error?.message).toContain('terminated');
      expect(otherResult.value).toBe('other worker');
      expect(runtime.stats()?.workerKills).toBe(1);
      const after = await Promise.all([harness.run('return 1;'), harness.run('return 2;'), harness.run('return 3;')]);
      expect(after.map((r) => r.value)).toEqual([1, 2, 3]);
      expect(runtime.stats()?.size).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('a worker that dies mid-script ends its scripts as INTERNAL (retryable) and the pool heals', async () => {
    const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
    const { tool } = waitTool();
    const harness = createHarness({ runtime, tools: [tool] });
    try {
      const running = harness.run('await tools.wait({ ms: 1000 }); return 1;');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await runtime.terminateWorkers();
      const result = await running;
      expect(result.error).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect((await harness.run('return "healed";')).value).toBe('healed');
      expect(runtime.stats()).toMatchObject({ size: 1, workerRestarts: 1 });
    } finally {
      await harness.close();
    }
  });

  it('recycles a worker after the configured number of scripts in fresh contexts without losing any', async () => {
    const runtime = await createQuickJSRuntime({
      mode: 'pool',
      pool: { size: 1, recycleAfterScripts: 5 },
      warmSandboxes: 0,
    });
    const harness = createHarness({ runtime });
    try {
      const results: ScriptResult[] = [];
      for (let i = 0; i < 12; i++) results.push(await harness.run(`return ${i};`));
      expect(results.map((r) => r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(runtime.stats()?.workerRestarts).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('recycles a worker whose memory grew past the bound', async () => {
    const runtime = await createQuickJSRuntime({
      mode: 'pool',
      pool: { size: 1, recycleAboveBytes: 160 * 1024 * 1024 },
      warmSandboxes: 0,
    });
    const harness = createHarness({ runtime });
    try {
      for (let i = 0; i < 3; i++) expect((await harness.run(`return ${i};`)).value).toBe(i);
      expect(runtime.stats()?.workerRestarts).toBe(0);
      // 200 MB of typed arrays grow the worker's WebAssembly memory past the bound for good.
      const big = await harness.run(
        'const parts = []; for (let i = 0; i < 50; i++) parts.push(new Uint8Array(4 << 20)); return parts.length;',
        { limits: { memoryMb: 512 } },
      );
      expect(big.value).toBe(50);
      await expect.poll(() => runtime.stats()?.workerRestarts).toBe(1);
      expect((await harness.run('return 1;')).value).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it('does not count scripts in warm sandboxes towards recycling: their snapshot restore leaves nothing behind', async () => {
    const runtime = await createQuickJSRuntime({
      mode: 'pool',
      pool: { size: 1, recycleAfterScripts: 3 },
      warmSandboxes: 1,
    });
    const harness = createHarness({ runtime });
    try {
      for (let i = 0; i < 8; i++) expect((await harness.run(`return ${i};`)).value).toBe(i);
      expect(runtime.stats()).toMatchObject({ warmRuns: 8, freshRuns: 0, workerRestarts: 0 });
    } finally {
      await harness.close();
    }
  });

  it('ends a recycled worker once the scripts it was running when recycled finish', async () => {
    // Four scripts at once on one worker recycled after two: it retires with two still running,
    // and must be terminated when they finish (a worker left running keeps its memory for good).
    const terminated = vi.spyOn(Worker.prototype, 'terminate');
    const runtime = await createQuickJSRuntime({
      mode: 'pool',
      pool: { size: 1, recycleAfterScripts: 2 },
      warmSandboxes: 0,
    });
    const { tool } = waitTool(4);
    const harness = createHarness({ runtime, tools: [tool] });
    try {
      const results = await Promise.all(
        [10, 20, 30, 40].map((ms) => harness.run(`return await tools.wait({ ms: ${ms} });`)),
      );
      expect(results.map((r) => r.value)).toEqual([10, 20, 30, 40]);
      expect(runtime.stats()?.workerRestarts).toBe(1);
      expect(terminated).toHaveBeenCalledTimes(1);
    } finally {
      await harness.close();
      terminated.mockRestore();
    }
  });

  it('interleaves scripts that wait for tools inside one worker', async () => {
    const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
    const { tool, state } = waitTool(20);
    const harness = createHarness({ runtime, tools: [tool] });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => harness.run(`return (await tools.wait({ ms: 30 })) + ${i};`)),
      );
      expect(results.every((r, i) => r.value === 30 + i)).toBe(true);
      expect(state.maxInFlight).toBeGreaterThanOrEqual(20);
    } finally {
      await harness.close();
    }
  });

  it('ends running scripts as SHUTDOWN when closed, and refuses new ones', async () => {
    const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
    const { tool } = waitTool();
    const harness = createHarness({ runtime, tools: [tool] });
    const running = harness.run('await tools.wait({ ms: 2000 }); return 1;');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await harness.close();
    expect((await running).error?.code).toBe('SHUTDOWN');
    expect((await harness.run('return 1;')).error?.code).toBe('SHUTDOWN');
  });

  it('chaos: 2,000 mixed scripts each end with the right result or code; nothing leaks', async () => {
    const handlesBefore = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 2 } });
    const observations = { aborted: [], completed: [], executions: 0 };
    const harness = createHarness({
      runtime,
      tools: createTestTools(observations),
      limits: { timeoutMs: 10_000, memoryMb: 16, maxOutputBytes: 4096 },
    });
    const kinds = [
      { source: 'return (await tools.add({ a: 1, b: 2 })) * 2;', expect: (r: ScriptResult) => r.value === 6 },
      { source: 'while (true) {}', timeoutMs: 30, expect: (r: ScriptResult) => r.error?.code === 'TIMEOUT' },
      {
        source: 'const a = []; for (;;) a.push([1, 2, 3, 4, 5, 6, 7, 8]);',
        expect: (r: ScriptResult) => r.error?.code === 'MEMORY_LIMIT',
      },
      {
        source: 'function f(n) { return f(n + 1) + 1; } return f(0);',
        expect: (r: ScriptResult) => r.error?.code === 'STACK_OVERFLOW',
      },
      { source: 'await tools.fail({ message: "no" });', expect: (r: ScriptResult) => r.error?.code === 'TOOL_ERROR' },
      {
        source: 'for (let i = 0; i < 1000; i++) Promise.reject(new Error(String(i))); return "storm";',
        expect: (r: ScriptResult) => r.value === 'storm',
      },
      { source: 'return "x".repeat(10000);', expect: (r: ScriptResult) => r.error?.code === 'OUTPUT_LIMIT' },
    ];
    try {
      const wrong: string[] = [];
      const total = 2_000;
      const batch = 64;
      for (let start = 0; start < total; start += batch) {
        const results = await Promise.all(
          Array.from({ length: Math.min(batch, total - start) }, (_, offset) => {
            const kind = kinds[(start + offset) % kinds.length] as (typeof kinds)[number];
            const limits = 'timeoutMs' in kind ? { timeoutMs: kind.timeoutMs } : undefined;
            return harness.run(kind.source, { limits }).then((result) => {
              if (!kind.expect(result)) wrong.push(`${kind.source} → ${JSON.stringify(result.error ?? result.value)}`);
            });
          }),
        );
        expect(results).toHaveLength(Math.min(batch, total - start));
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(runtime.stats()?.running).toBe(0);
    } finally {
      await harness.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const handlesAfter = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    expect(handlesAfter).toBeLessThanOrEqual(handlesBefore);
  }, 180_000);
});
