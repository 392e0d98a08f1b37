/**
 * The product through its public API: `createHarness({ runtime, tools })` and `harness.run(source)`,
 * a fresh sandbox per script. Each figure is read against its floor.
 */
import { type AnyTool, createHarness, defineTool, type Harness, type RuntimeAdapter } from '@script-harness/core';
import { createQuickJSRuntime, type QuickJSRuntimeOptions } from '@script-harness/runtime-quickjs';
import { z } from 'zod';
import type { MemoryOutput } from '../children/memory.ts';
import {
  type LatencyFigures,
  latencyMeasurement,
  measureTask,
  type Profile,
  runChild,
  throughputMeasurement,
} from '../measure.ts';
import type { Probe } from '../probe.ts';
import { inlineQuickJSRuntime } from '../quickjs.ts';
import { type Measurement, notLanded } from '../report.ts';
import type { BenchRow, RunContext } from '../row.ts';

export const TRIVIAL_SCRIPT = 'return 1+1';
export const ONE_TOOL_SCRIPT = 'await tools.noop({}); return 1+1';
export const TEN_TOOLS_SCRIPT = `${Array.from({ length: 10 }, () => 'await tools.noop({});').join(' ')} return 1+1`;

export const noopTool = defineTool({
  name: 'noop',
  description: 'Does nothing and returns nothing.',
  input: z.object({}),
  execute: async () => undefined,
});

/** Runs `source` once to prove it works, then measures it; a failing run fails the row. */
async function measureRuns(
  profile: Profile,
  harness: Harness,
  source: string,
  expected: unknown,
): Promise<LatencyFigures> {
  const first = await harness.run(source);
  if (!first.ok || first.value !== expected) {
    throw new Error(`${source} failed: ${first.error?.code ?? `returned ${JSON.stringify(first.value)}`}`);
  }
  return measureTask(profile, async () => {
    const result = await harness.run(source);
    if (!result.ok) throw new Error(`${source} failed: ${result.error?.code} ${result.error?.message}`);
  });
}

interface SandboxStarts {
  readonly warm: number;
  readonly fresh: number;
}

/**
 * How many scripts so far ran in a warm sandbox (restored from its snapshot) and in one booted for
 * them, from the runtime's own counters (`engineStats()` inline, `stats()` in pool mode);
 * undefined for a build that does not count them.
 */
function sandboxStarts(runtime: unknown): SandboxStarts | undefined {
  const counters = runtime as { engineStats?: () => unknown; stats?: () => unknown };
  for (const read of [counters.engineStats, counters.stats]) {
    if (typeof read !== 'function') continue;
    const figures = read.call(runtime) as { warmRuns?: unknown; freshRuns?: unknown } | undefined;
    if (typeof figures?.warmRuns === 'number' && typeof figures.freshRuns === 'number') {
      return { warm: figures.warmRuns, fresh: figures.freshRuns };
    }
  }
  return undefined;
}

/** Runs `measure` and says in which sandboxes its scripts ran, so a note never claims what was not measured. */
async function withSandboxStarts<T>(
  runtime: unknown,
  measure: () => Promise<T>,
): Promise<{ result: T; starts: string }> {
  const before = sandboxStarts(runtime);
  const result = await measure();
  const after = sandboxStarts(runtime);
  if (before === undefined || after === undefined) return { result, starts: '' };
  const warm = after.warm - before.warm;
  const fresh = after.fresh - before.fresh;
  return {
    result,
    starts: `; sandboxes: ${warm.toLocaleString('en-US')} restored from their snapshot, ${fresh.toLocaleString('en-US')} booted for the script`,
  };
}

async function quickjsRun(context: RunContext, source: string, tools: readonly AnyTool[] = []): Promise<Measurement> {
  const runtime = await inlineQuickJSRuntime(context);
  const harness = createHarness({ runtime, tools });
  const { result, starts } = await withSandboxStarts(runtime, () => measureRuns(context.profile, harness, source, 2));
  return latencyMeasurement(result, `inline mode${starts}`);
}

// ---------------------------------------------------------------------------------------------
// Pool mode

/** Two workers: what the throughput row compares with two raw worker threads. */
const POOL_OPTIONS: QuickJSRuntimeOptions = { mode: 'pool', pool: { size: 2 } };

/**
 * A QuickJS runtime in pool mode, when the build has one. Accepting the option is not enough: a
 * build that ignores it and runs scripts inline is caught by running a CPU-bound script and
 * checking that this thread kept ticking meanwhile.
 */
function poolQuickJSRuntime(context: RunContext): Promise<Probe<RuntimeAdapter>> {
  return context.shared(
    'quickjs.pool-runtime',
    async (): Promise<Probe<RuntimeAdapter>> => {
      let runtime: RuntimeAdapter;
      try {
        runtime = await createQuickJSRuntime(POOL_OPTIONS);
      } catch (error) {
        return { missing: `pool mode (createQuickJSRuntime({ mode: 'pool' }) throws: ${(error as Error).message})` };
      }
      const offThread = await runsOffThread(runtime);
      if (offThread !== true) {
        await runtime.close?.();
        return { missing: `pool mode (createQuickJSRuntime({ mode: 'pool' }) ${offThread})` };
      }
      return { found: runtime };
    },
    (probe) => ('found' in probe ? probe.found.close?.() : undefined),
  );
}

/**
 * Runs `while (true) {}` under a 200 ms deadline. Inline, the loop holds this thread until the
 * deadline, so no timer of this thread can fire before the run resolves; off-thread, they tick.
 * Returns true, or what went wrong.
 */
async function runsOffThread(runtime: RuntimeAdapter): Promise<true | string> {
  const harness = createHarness({ runtime, limits: { timeoutMs: 200 } });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    const result = await harness.run('while (true) {}');
    if (result.error?.code !== 'TIMEOUT') {
      return `did not stop a CPU-bound script with TIMEOUT (got ${result.error?.code ?? 'success'})`;
    }
    return ticks > 0 ? true : 'still runs scripts on the calling thread';
  } finally {
    clearInterval(timer);
  }
}

async function poolTrivial(context: RunContext): Promise<Measurement> {
  const pool = await poolQuickJSRuntime(context);
  if ('missing' in pool) return notLanded(pool.missing);
  const harness = createHarness({ runtime: pool.found });
  const { result, starts } = await withSandboxStarts(pool.found, () =>
    measureRuns(context.profile, harness, TRIVIAL_SCRIPT, 2),
  );
  return latencyMeasurement(result, `pool mode (2 workers), one script at a time${starts}`);
}

async function poolOneTool(context: RunContext): Promise<Measurement> {
  const pool = await poolQuickJSRuntime(context);
  if ('missing' in pool) return notLanded(pool.missing);
  const harness = createHarness({ runtime: pool.found, tools: [noopTool] });
  const { result, starts } = await withSandboxStarts(pool.found, () =>
    measureRuns(context.profile, harness, ONE_TOOL_SCRIPT, 2),
  );
  return latencyMeasurement(
    result,
    `pool mode (2 workers), one script at a time; the tool call crosses from the worker to this thread and back${starts}`,
  );
}

async function poolThroughput(context: RunContext): Promise<Measurement> {
  const pool = await poolQuickJSRuntime(context);
  if ('missing' in pool) return notLanded(pool.missing);
  const harness = createHarness({ runtime: pool.found });
  const perBatch = 2 * context.profile.scriptsPerWorkerBatch;
  const { result: figures, starts } = await withSandboxStarts(pool.found, () =>
    measureTask(
      context.profile,
      async () => {
        const results = await Promise.all(Array.from({ length: perBatch }, () => harness.run(TRIVIAL_SCRIPT)));
        const failed = results.find((result) => !result.ok);
        if (failed !== undefined) throw new Error(`a pooled script failed: ${failed.error?.code}`);
      },
      { iterations: Math.min(context.profile.iterations, 32) },
    ),
  );
  return throughputMeasurement(
    figures,
    perBatch,
    `${perBatch} concurrent harness.run('${TRIVIAL_SCRIPT}') per batch, pool of 2 workers${starts}`,
  );
}

// ---------------------------------------------------------------------------------------------
// isolated-vm (child processes: the engine needs --no-node-snapshot)

async function ivmTrivial(context: RunContext): Promise<Measurement> {
  const outcome = await runChild<Probe<LatencyFigures>>('./children/ivm-harness.ts', ['--no-node-snapshot'], {
    profile: context.profile,
  });
  if ('missing' in outcome) return notLanded(`isolated-vm runtime (${outcome.missing})`);
  return latencyMeasurement(outcome.found, 'measured in a child process started with --no-node-snapshot');
}

// ---------------------------------------------------------------------------------------------
// Memory

const MEMORY_METHOD =
  'resident-set growth (process.memoryUsage().rss, after full GCs) while N sandboxes are alive at once, ÷ N; ' +
  'each side in its own fresh child process';

async function memoryRow(
  context: RunContext,
  engine: 'quickjs' | 'ivm',
  flags: readonly string[],
): Promise<Measurement> {
  const count = context.profile.memorySandboxes;
  const ours = await runChild<MemoryOutput>('./children/memory.ts', flags, { mode: `${engine}-harness`, count });
  if ('missing' in ours) return notLanded(`isolated-vm runtime (${ours.missing})`);
  const raw = await runChild<MemoryOutput>('./children/memory.ts', flags, { mode: `${engine}-raw`, count });
  if ('missing' in raw) throw new Error(raw.missing);
  const rawWhat = engine === 'quickjs' ? 'raw QuickJS runtime + context' : 'raw isolated-vm Isolate + context';
  return {
    unit: 'KB',
    value: ours.perSandboxKB,
    ratio: ours.perSandboxKB / raw.perSandboxKB,
    note: `${MEMORY_METHOD}; N = ${count} scripts in flight through harness.run, each awaiting a tool; ratio vs ${rawWhat} held the same way: ${raw.perSandboxKB.toFixed(1)} KB`,
  };
}

export const harnessRows: readonly BenchRow[] = [
  {
    id: 'harness.quickjs.trivial',
    suite: 'harness',
    title: "public API, QuickJS inline: harness.run('return 1+1') in a fresh sandbox",
    baselineId: 'floor.quickjs.fresh',
    measure: (context) => quickjsRun(context, TRIVIAL_SCRIPT),
  },
  {
    id: 'harness.quickjs.pool.trivial',
    suite: 'harness',
    title: "public API, QuickJS pool mode: harness.run('return 1+1'), one at a time",
    baselineId: 'floor.quickjs.fresh',
    measure: poolTrivial,
  },
  {
    id: 'harness.quickjs.onetool',
    suite: 'harness',
    title: 'public API, QuickJS inline: one awaited no-op tool call, then return',
    baselineId: 'floor.quickjs.fresh',
    measure: (context) => quickjsRun(context, ONE_TOOL_SCRIPT, [noopTool]),
  },
  {
    id: 'harness.quickjs.pool.onetool',
    suite: 'harness',
    title: 'public API, QuickJS pool mode: one awaited no-op tool call, then return, one at a time',
    baselineId: 'floor.quickjs.fresh',
    measure: poolOneTool,
  },
  {
    id: 'harness.quickjs.tentools',
    suite: 'harness',
    title: 'public API, QuickJS inline: 10 sequential awaited no-op tool calls, then return',
    baselineId: 'floor.quickjs.fresh',
    measure: (context) => quickjsRun(context, TEN_TOOLS_SCRIPT, [noopTool]),
  },
  {
    id: 'harness.ivm.trivial',
    suite: 'harness',
    title: "public API, isolated-vm runtime: harness.run('return 1+1') (child process)",
    baselineId: 'floor.ivm.fresh',
    measure: ivmTrivial,
  },
  {
    id: 'throughput.quickjs.pool2',
    suite: 'harness',
    title: 'public API, QuickJS pool of 2 workers: concurrent trivial scripts, scripts/s',
    baselineId: 'floor.throughput.raw2',
    compareBy: 'opsPerSec',
    measure: poolThroughput,
  },
  {
    id: 'memory.quickjs.perSandboxKB',
    suite: 'harness',
    title: 'memory per live QuickJS sandbox held through the public API, KB (ratio vs raw runtime + context)',
    measure: (context) => memoryRow(context, 'quickjs', ['--expose-gc']),
  },
  {
    id: 'memory.ivm.perSandboxKB',
    suite: 'harness',
    title: 'memory per live isolated-vm sandbox held through the public API, KB (ratio vs raw Isolate + context)',
    measure: (context) => memoryRow(context, 'ivm', ['--expose-gc', '--no-node-snapshot']),
  },
];
