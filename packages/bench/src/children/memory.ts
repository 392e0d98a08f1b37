/**
 * Child process of the memory rows, started with `--expose-gc` in a fresh process so nothing else
 * of the run is in the figure. Holds `count` live sandboxes at once and reports how much the
 * resident set grew (after a full GC before and after), divided by `count`.
 *
 * - `quickjs-raw` / `ivm-raw`: raw runtime + context pairs (QuickJS) or Isolate + context pairs
 *   (isolated-vm), held.
 * - `quickjs-harness` / `ivm-harness`: `count` scripts in flight through the public API
 *   (`harness.run`), each parked on a tool call that answers only once all of them are running,
 *   so every sandbox (engine, context, glue, host-side run state) is alive when measured.
 *
 * The isolated-vm modes need `--no-node-snapshot` as well.
 *
 * WebAssembly memory grows and is never returned, so only the first round in a process is a fair
 * figure: the process measures once and exits.
 */
import releaseSyncVariant from '@jitl/quickjs-wasmfile-release-sync';
import { createHarness, defineTool, type RuntimeAdapter } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import type IsolatedVM from 'isolated-vm';
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
} from 'quickjs-emscripten-core';
import { z } from 'zod';
import { createIvmRuntime } from '../ivm.ts';
import { childInput, childOutput } from '../measure.ts';

export interface MemoryInput {
  readonly mode: 'quickjs-raw' | 'quickjs-harness' | 'ivm-raw' | 'ivm-harness';
  readonly count: number;
}

export type MemoryOutput = { readonly perSandboxKB: number; readonly count: number } | { readonly missing: string };

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('start with --expose-gc');

function residentBytes(): number {
  collect!();
  collect!();
  return process.memoryUsage().rss;
}

const { mode, count } = childInput<MemoryInput>();

async function rawQuickJS(): Promise<number> {
  // The package's types describe its CommonJS build; under ESM its default export is the variant itself.
  const module = await newQuickJSWASMModuleFromVariant(releaseSyncVariant as unknown as QuickJSSyncVariant);
  for (let i = 0; i < 10; i++) module.newRuntime().dispose();
  const before = residentBytes();
  const held: [QuickJSRuntime, QuickJSContext][] = [];
  for (let i = 0; i < count; i++) {
    const runtime = module.newRuntime();
    held.push([runtime, runtime.newContext()]);
  }
  const after = residentBytes();
  for (const [runtime, context] of held) {
    context.dispose();
    runtime.dispose();
  }
  return after - before;
}

async function rawIvm(): Promise<number> {
  // Loaded only here: the QuickJS modes run without --no-node-snapshot.
  const { default: ivm } = await import('isolated-vm');
  for (let i = 0; i < 10; i++) new ivm.Isolate({ memoryLimit: 96 }).dispose();
  const before = residentBytes();
  const held: [IsolatedVM.Isolate, IsolatedVM.Context][] = [];
  for (let i = 0; i < count; i++) {
    const isolate = new ivm.Isolate({ memoryLimit: 96 });
    held.push([isolate, isolate.createContextSync()]);
  }
  const after = residentBytes();
  for (const [isolate, context] of held) {
    context.release();
    isolate.dispose();
  }
  return after - before;
}

async function harnessed(runtime: RuntimeAdapter): Promise<number> {
  let parked = 0;
  let allParked: () => void = () => {};
  const everyoneParked = new Promise<void>((resolve) => (allParked = resolve));
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const harness = createHarness({
    runtime,
    tools: [
      defineTool({
        name: 'hold',
        description: 'Answers once every script of the measurement is running.',
        input: z.object({}),
        execute: async () => {
          if (++parked === count) allParked();
          await released;
          return null;
        },
      }),
    ],
  });
  const source = 'await tools.hold({}); return 1;';
  // Warm the host code paths and the lazily compiled glue before the first reading.
  const warm = await Promise.all(Array.from({ length: 10 }, () => harness.run('return 1;')));
  if (!warm.every((result) => result.ok)) throw new Error('warm-up scripts failed');
  const before = residentBytes();
  const runs = Array.from({ length: count }, () => harness.run(source));
  await everyoneParked;
  const after = residentBytes();
  release();
  const results = await Promise.all(runs);
  const failed = results.find((result) => !result.ok);
  if (failed !== undefined) throw new Error(`a held script failed: ${failed.error?.code} ${failed.error?.message}`);
  await harness.close();
  return after - before;
}

async function measure(): Promise<MemoryOutput> {
  let grown: number;
  switch (mode) {
    case 'quickjs-raw':
      grown = await rawQuickJS();
      break;
    case 'quickjs-harness':
      grown = await harnessed(await createQuickJSRuntime({ mode: 'inline' }));
      break;
    case 'ivm-raw':
      grown = await rawIvm();
      break;
    case 'ivm-harness': {
      const probe = await createIvmRuntime();
      if ('missing' in probe) return probe;
      grown = await harnessed(probe.found);
      break;
    }
  }
  return { perSandboxKB: grown / count / 1024, count };
}

childOutput(await measure());
