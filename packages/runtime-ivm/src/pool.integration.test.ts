import { createHarness, defineTool } from '@script-harness/core';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createIsolatedVMRuntime } from './runtime.ts';

/** Waits the given milliseconds; keeps a script parked in its child while others run. */
const waitTool = defineTool({
  name: 'wait',
  description: 'Waits the given milliseconds.',
  input: z.strictObject({ ms: z.number() }),
  execute: async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
});

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('isolated-vm child-process pool', () => {
  it('a memory bomb and an infinite loop never take down the caller’s process', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 2 });
    const harness = createHarness({ runtime, tools: [waitTool], limits: { timeoutMs: 10_000, memoryMb: 32 } });
    const callerRss = process.memoryUsage().rss;
    try {
      for (const bomb of [
        'const a = []; for (;;) a.push({ filler: [1, 2, 3, 4, 5, 6, 7, 8] });',
        'const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });',
        'const s = "x".repeat(1e6); const parts = []; for (;;) parts.push(s + parts.length);',
        'return new ArrayBuffer(2 ** 31).byteLength;',
      ]) {
        // Each bomb runs next to an endless loop (the two children take one each).
        const [bombed, looped] = await Promise.all([
          harness.run(bomb),
          harness.run('for (;;) { try { while (true) {} } catch {} }', { limits: { timeoutMs: 300 } }),
        ]);
        expect(bombed.error?.code, bomb).toBe('MEMORY_LIMIT');
        expect(looped.error?.code, bomb).toBe('TIMEOUT');
      }
      // The isolates lived in the children: the caller neither crashed nor grew by their heaps.
      expect(process.memoryUsage().rss - callerRss).toBeLessThan(64 * 1024 * 1024);
      const after = await Promise.all([
        harness.run('return 1;'),
        harness.run('await tools.wait({ ms: 5 }); return 2;'),
      ]);
      expect(after.map((result) => result.value)).toEqual([1, 2]);
      expect(runtime.stats().size).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('an out-of-memory V8 cannot recover from ends that script as MEMORY_LIMIT, the others on its child as INTERNAL', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 1 });
    const harness = createHarness({ runtime, tools: [waitTool], limits: { timeoutMs: 5_000 } });
    try {
      const bystander = harness.run('await tools.wait({ ms: 2000 }); return "never";');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A Map's backing store doubles in one allocation; V8 gives up on it instead of throwing.
      const bomb = await harness.run('const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });', {
        limits: { memoryMb: 32 },
      });
      expect(bomb.error?.code).toBe('MEMORY_LIMIT');
      expect((await bystander).error).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect(runtime.stats()).toMatchObject({ processKills: 1, processRestarts: 1 });
      expect((await harness.run('return "healed";')).value).toBe('healed');
    } finally {
      await harness.close();
    }
  });

  it('a child killed mid-script ends its scripts as INTERNAL (retryable) and the pool heals', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 1 });
    const harness = createHarness({ runtime, tools: [waitTool] });
    try {
      const [pid] = runtime.pids();
      const running = [
        harness.run('await tools.wait({ ms: 1000 }); return 1;'),
        harness.run('await tools.wait({ ms: 1000 }); return 2;'),
      ];
      await new Promise((resolve) => setTimeout(resolve, 100));
      process.kill(pid as number, 'SIGKILL');
      for (const result of await Promise.all(running)) {
        expect(result.error).toMatchObject({ code: 'INTERNAL', retryable: true });
      }
      expect((await harness.run('return "healed";')).value).toBe('healed');
      expect(runtime.stats()).toMatchObject({ size: 1, processRestarts: 1 });
      expect(runtime.pids()).not.toContain(pid);
    } finally {
      await harness.close();
    }
  });

  it('a child past its resident-set bound is killed and replaced; the script that grew it ends as MEMORY_LIMIT', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 1, maxRssMb: 320 });
    const harness = createHarness({ runtime, tools: [waitTool], maxLimits: { memoryMb: 4096 } });
    try {
      const waiting = harness.run('await tools.wait({ ms: 3000 }); return "never";');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The isolate may take 2 GB; the process bound of 320 MB is reached first.
      const grower = await harness.run('const a = []; for (;;) a.push(new Float64Array(1e5).fill(1.5));', {
        limits: { memoryMb: 2048, timeoutMs: 20_000 },
      });
      expect(grower.error?.code).toBe('MEMORY_LIMIT');
      expect(grower.error?.message).toContain('320 MB');
      expect((await waiting).error).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect(runtime.stats().processKills).toBe(1);
      expect((await harness.run('return "healed";')).value).toBe('healed');
    } finally {
      await harness.close();
    }
  });

  it('S15: a script stuck in a native builtin past its deadline is killed with its child; other scripts and the host are unaffected', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 2, killGraceMs: 300 });
    const harness = createHarness({ runtime, tools: [waitTool], maxLimits: { memoryMb: 4096 } });
    try {
      const [pid] = runtime.pids();
      const started = Date.now();
      // Sorting a typed array is one native call that disposing the isolate does not interrupt.
      const stuck = harness.run('const a = new Float64Array(6e7); a.sort(); return a.length;', {
        limits: { timeoutMs: 100, memoryMb: 1024 },
      });
      const meanwhile = harness.run('await tools.wait({ ms: 50 }); return "other child";');
      const [stuckResult, otherResult] = await Promise.all([stuck, meanwhile]);
      expect(stuckResult.error?.code).toBe('TIMEOUT');
      expect(stuckResult.error?.message).toContain('killed');
      expect(Date.now() - started).toBeLessThan(100 + 300 + 1_500);
      expect(otherResult.value).toBe('other child');
      expect(runtime.stats().processKills).toBe(1);
      // Killed: gone once this process has reaped it (a zombie still answers signal 0).
      await vi.waitFor(() => expect(processAlive(pid as number)).toBe(false), { timeout: 10_000 });
      const after = await Promise.all([harness.run('return 1;'), harness.run('return 2;'), harness.run('return 3;')]);
      expect(after.map((result) => result.value)).toEqual([1, 2, 3]);
      expect(runtime.stats().size).toBe(2);
    } finally {
      await harness.close();
    }
  });

  it('scripts waiting for tools interleave in one child, each in its own isolate', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 1 });
    const harness = createHarness({ runtime, tools: [waitTool] });
    try {
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          harness.run(`const mark = ${i}; await tools.wait({ ms: 300 }); return mark;`),
        ),
      );
      expect(results.map((result) => result.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(runtime.stats()).toMatchObject({ size: 1, running: 0 });
    } finally {
      await harness.close();
    }
  });

  it('a child is replaced after recycleAfterScripts scripts', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 1, recycleAfterScripts: 3 });
    const harness = createHarness({ runtime, tools: [] });
    try {
      const [first] = runtime.pids();
      for (let i = 0; i < 3; i++) expect((await harness.run(`return ${i};`)).value).toBe(i);
      expect(runtime.stats().processRestarts).toBe(1);
      expect(runtime.pids()).not.toContain(first);
      expect((await harness.run('return "fresh";')).value).toBe('fresh');
    } finally {
      await harness.close();
    }
  });

  it('gives a script to the idle child that has waited longest, whose next isolate is ready', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 2 });
    const harness = createHarness({ runtime, tools: [waitTool] });
    try {
      const [first, second] = runtime.pids();
      expect((await harness.run('return 1;')).value).toBe(1);
      // Both children are idle now; the one that just ran a script is preparing its next isolate.
      const next = harness.run('await tools.wait({ ms: 2000 }); return 2;');
      await new Promise((resolve) => setTimeout(resolve, 200));
      process.kill(second as number, 'SIGKILL');
      expect((await next).error).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect(runtime.pids()).toContain(first);
    } finally {
      await harness.close();
    }
  });

  it('a child recycled while it runs scripts ends once they finish', async () => {
    // Four scripts at once on one child recycled after two: it retires with two still running, and
    // must end when they finish (a child left running keeps its memory for good).
    const runtime = await createIsolatedVMRuntime({ size: 1, recycleAfterScripts: 2 });
    const wait = defineTool({
      name: 'wait',
      description: 'Waits ms milliseconds.',
      input: z.strictObject({ ms: z.number().int().min(0) }),
      execute: ({ ms }) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms)),
    });
    const harness = createHarness({ runtime, tools: [wait] });
    try {
      const [first] = runtime.pids();
      const results = await Promise.all(
        [10, 20, 200, 300].map((ms) => harness.run(`return await tools.wait({ ms: ${ms} });`)),
      );
      expect(results.map((result) => result.value)).toEqual([10, 20, 200, 300]);
      expect(runtime.stats().processRestarts).toBe(1);
      await vi.waitFor(() => expect(processAlive(first as number)).toBe(false), { timeout: 10_000 });
    } finally {
      await harness.close();
    }
  });

  it('close() ends the children and refuses new scripts with SHUTDOWN', async () => {
    const runtime = await createIsolatedVMRuntime({ size: 2 });
    const pids = runtime.pids();
    await runtime.close();
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    const sandbox = await runtime.createSandbox({ memoryBytes: 32 * 1024 * 1024, stackBytes: 512 * 1024 });
    const outcome = await sandbox.run(
      {
        code: '(async function () {"use strict";\nreturn 1;\n})',
        lineOffset: 1,
        toolNames: [],
        contextJson: '{}',
        timeoutMs: 1_000,
        caps: { outputChars: 1_000, consoleLineChars: 1_000, toolArgsChars: 1_000 },
      },
      { callTool: async () => '{"ok":true}', emit: () => {}, started: () => {} },
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ ok: false, error: { code: 'SHUTDOWN' } });
  });

  it('RUNTIME_UNAVAILABLE: isolated-vm that is installed but fails to load is reported with the fix', async () => {
    const attempt = createIsolatedVMRuntime({
      modulePath: 'data:text/javascript,throw new Error("no prebuilt binary for this platform")',
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringContaining('no prebuilt binary for this platform'),
    });
    await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining('npm install isolated-vm@6.2.0') });
  });
});
