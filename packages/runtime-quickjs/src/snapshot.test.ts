import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHarness, defineTool, type HostBridge, type RunRequest } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bootSandbox, QuickJSModuleHolder } from './engine.ts';
import { createQuickJSRuntime } from './runtime.ts';
import { compiledQuickJS, lazyHostState, readMemoryLayout, usedEnd, WarmSandbox } from './snapshot.ts';

const echo = defineTool({
  name: 'echo',
  description: 'Returns its input.',
  input: z.object({ value: z.unknown() }),
  execute: async ({ value }) => value,
});

async function inlineHarness(warmSandboxes = 1) {
  const runtime = await createQuickJSRuntime({ mode: 'inline', warmSandboxes });
  return { runtime, harness: createHarness({ runtime, tools: [echo] }) };
}

describe('memory layout', () => {
  it('reads static data, stack and heap boundaries from the QuickJS binary', async () => {
    const bytes = readFileSync(createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
    const layout = readMemoryLayout(bytes);
    expect(layout).toBeDefined();
    // The stack (5 MiB in this build) sits between the static data and the heap.
    expect((layout?.stackBase ?? 0) - (layout?.staticEnd ?? 0)).toBe(5 * 1024 * 1024);
    expect((await compiledQuickJS()).layout).toEqual(layout);
  });

  it('takes no snapshot of a binary it does not understand', () => {
    expect(readMemoryLayout(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBeUndefined();
    expect(readMemoryLayout(new Uint8Array(64).fill(0xff))).toBeUndefined();
  });

  it('finds the end of the used memory', () => {
    const buffer = new ArrayBuffer(512 * 1024);
    const bytes = new Uint8Array(buffer);
    expect(usedEnd(buffer, 1024)).toBe(1024);
    bytes[300_001] = 7;
    expect(usedEnd(buffer, 1024)).toBe(300_002);
    bytes[buffer.byteLength - 1] = 1;
    expect(usedEnd(buffer, 1024)).toBe(buffer.byteLength);
  });
});

describe('warm sandboxes', () => {
  it('run scripts one after another in a restored sandbox, each from the same clean state', async () => {
    const { runtime, harness } = await inlineHarness();
    try {
      // Everything a script can still change in a frozen realm: its own objects, the symbol registry,
      // the engine's job queue, a tool call left hanging, a heap full of garbage.
      const polluter = await harness.run(`
        const kept = []; for (let i = 0; i < 20000; i++) kept.push({ i, s: 'x' + i });
        Symbol.for('left-behind');
        try { globalThis.leaked = 1; } catch {}
        try { Array.prototype.leaked = 1; } catch {}
        Promise.resolve().then(() => { for (let i = 0; i < 10; i++) kept.push(i); });
        tools.echo({ value: 'never awaited' });
        return kept.length;
      `);
      expect(polluter.value).toBe(20000);
      const probe = await harness.run(`
        return [typeof globalThis.leaked, typeof [].leaked, Object.isFrozen(Array.prototype), await tools.echo({ value: 2 })];
      `);
      expect(probe.value).toEqual(['undefined', 'undefined', true, 2]);
      expect(runtime.engineStats()).toMatchObject({ warmRuns: 2, freshRuns: 0, warmReplaced: 0 });
    } finally {
      await harness.close();
    }
  });

  it('are byte for byte their snapshot again after a script that changed everything it could', async () => {
    const warm = await WarmSandbox.create(await compiledQuickJS());
    if (warm === undefined) throw new Error('no warm sandbox');
    expect(warm.isPristine()).toBe(true);
    // What is copied back after every script: the static data and the booted heap, not the 5 MiB stack.
    expect(warm.snapshotBytes).toBeGreaterThan(64 * 1024);
    expect(warm.snapshotBytes).toBeLessThan(1024 * 1024);
    const bridge: HostBridge = { callTool: async () => '{"ok":true,"value":1}', emit: () => {}, started: () => {} };
    const request: RunRequest = {
      code: `(async function () {"use strict";
        const kept = []; for (let i = 0; i < 5000; i++) kept.push('s' + i);
        console.log('hello'); await tools.echo({}); Symbol.for('k'); Math.random();
        return kept.length;
      })`,
      lineOffset: 1,
      caps: { outputChars: 100_000, consoleLineChars: 1_000, toolArgsChars: 100_000 },
      toolNames: ['echo'],
      contextJson: '{}',
      timeoutMs: 10_000,
    };
    const limits = { memoryBytes: 32 * 1024 * 1024, stackBytes: 512 * 1024 };
    const outcome = await warm.run(limits, request, bridge, new AbortController().signal);
    expect(outcome).toEqual({ ok: true, valueJson: '5000' });
    expect(warm.reusable).toBe(true);
    expect(warm.isPristine()).toBe(true);
  });

  it('hold every script to its memory limit, also after a script that ran long enough to have its memory measured', async () => {
    const { runtime, harness } = await inlineHarness();
    try {
      const hog =
        'const keep = []; for (let i = 0; i < 150000; i++) keep.push({ a: i, b: i + 1, c: [i] }); ' +
        'const t = Date.now(); while (Date.now() - t < 150) {} return keep.length;';
      const limits = { limits: { memoryMb: 8 } };
      expect((await harness.run(hog, limits)).error?.code).toBe('MEMORY_LIMIT');
      // Runs past the memory-check interval, so its memory is measured while it runs.
      expect((await harness.run('const t = Date.now(); while (Date.now() - t < 70) {} return 1;')).value).toBe(1);
      expect((await harness.run(hog, limits)).error?.code).toBe('MEMORY_LIMIT');
      expect((await harness.run(hog, limits)).error?.code).toBe('MEMORY_LIMIT');
      expect(runtime.engineStats()?.freshRuns).toBe(0);
    } finally {
      await harness.close();
    }
  });

  it('notice host-side engine state created after the snapshot (a restore cannot roll it back)', async () => {
    const holder = new QuickJSModuleHolder();
    const sandbox = bootSandbox(holder, await holder.get(), true);
    if (sandbox === undefined) throw new Error('no sandbox');
    const booted = lazyHostState(sandbox);
    // quickjs-emscripten creates a hidden system context the first time memory usage is computed.
    sandbox.runtime.computeMemoryUsage().dispose();
    expect(lazyHostState(sandbox)).not.toBe(booted);
    // And caches a handle to the guest's Symbol the first time a well-known symbol is read.
    const afterSystemContext = lazyHostState(sandbox);
    sandbox.context.getWellKnownSymbol('iterator').dispose();
    expect(lazyHostState(sandbox)).not.toBe(afterSystemContext);
  });

  it('seed Math.random afresh for every script (a restored sandbox would otherwise replay one sequence)', async () => {
    const { runtime, harness } = await inlineHarness();
    try {
      const script = 'return [Math.random(), Math.random(), Math.random()];';
      const first = (await harness.run(script)).value as number[];
      const second = (await harness.run(script)).value as number[];
      expect(runtime.engineStats()?.warmRuns).toBe(2);
      expect(second).not.toEqual(first);
      for (const value of [...first, ...second]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(1);
      }
      // Spread over [0, 1): a generator stuck on a constant or a narrow range fails this.
      const many = (await harness.run('return Array.from({ length: 2000 }, () => Math.random());')).value as number[];
      const mean = many.reduce((sum, value) => sum + value, 0) / many.length;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
      expect(new Set(many.map((value) => Math.floor(value * 10))).size).toBe(10);
    } finally {
      await harness.close();
    }
  });

  it('boot a fresh runtime and context for scripts that find no warm sandbox idle', async () => {
    const { runtime, harness } = await inlineHarness(1);
    try {
      const results = await Promise.all(
        [1, 2, 3].map((value) => harness.run(`return await tools.echo({ value: ${value} });`)),
      );
      expect(results.map((result) => result.value)).toEqual([1, 2, 3]);
      expect(runtime.engineStats()).toMatchObject({ warmRuns: 1, freshRuns: 2, warmIdle: 1 });
    } finally {
      await harness.close();
    }
  });

  it('are replaced when their engine fails or their memory grew, and the next script runs warm again', async () => {
    const { runtime, harness } = await inlineHarness(1);
    try {
      // A native recursion that exhausts the thread's stack inside the engine: the instance is dropped.
      const deep = await harness.run(
        'let v = []; for (let i = 0; i < 1000000; i++) v = [v]; return JSON.stringify(v).length;',
      );
      expect(deep.ok).toBe(false);
      // Memory grown well past the snapshot's module size: kept pages would stay resident.
      const big = await harness.run(
        'const parts = []; for (let i = 0; i < 40; i++) parts.push(new Uint8Array(1 << 20)); return parts.length;',
      );
      expect(big.value).toBe(40);
      await expect.poll(() => runtime.engineStats()?.warmIdle).toBe(1);
      expect(runtime.engineStats()?.warmReplaced).toBeGreaterThanOrEqual(1);
      const before = runtime.engineStats()?.warmRuns ?? 0;
      expect((await harness.run('return 1 + 1;')).value).toBe(2);
      expect(runtime.engineStats()?.warmRuns).toBe(before + 1);
    } finally {
      await harness.close();
    }
  });

  it('can be turned off', async () => {
    const { runtime, harness } = await inlineHarness(0);
    try {
      expect((await harness.run('return 1;')).value).toBe(1);
      expect(runtime.engineStats()).toMatchObject({ warmRuns: 0, freshRuns: 1 });
    } finally {
      await harness.close();
    }
    await expect(createQuickJSRuntime({ mode: 'inline', warmSandboxes: -1 })).rejects.toThrow(/warmSandboxes/);
  });
});
