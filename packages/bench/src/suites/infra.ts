/**
 * Infrastructure around the runs: concurrency, deadlines, the boundary serialiser, and the parts
 * that have not landed everywhere (scheduler, queue, retry, telemetry, server), which are probed
 * at run time and reported as not landed until they exist.
 */
import { createHarness, defineTool, type HostBridge, type RuntimeAdapter, toPlainJson } from '@script-harness/core';
import { z } from 'zod';
import { measureTask, measureTasks } from '../measure.ts';
import { probeExport } from '../probe.ts';
import { inlineQuickJSRuntime, rawQuickJSModule } from '../quickjs.ts';
import { type Measurement, notLanded } from '../report.ts';
import type { BenchRow, RunContext } from '../row.ts';

// ---------------------------------------------------------------------------------------------
// concurrency.1000

const CONCURRENT_SCRIPTS = 1000;
const TOOL_DELAY_MS = 50;

async function concurrency(context: RunContext): Promise<Measurement> {
  const harness = createHarness({
    runtime: await inlineQuickJSRuntime(context),
    tools: [
      defineTool({
        name: 'wait',
        description: `Answers after ${TOOL_DELAY_MS} ms.`,
        input: z.object({}),
        execute: () => new Promise<null>((resolve) => setTimeout(() => resolve(null), TOOL_DELAY_MS)),
      }),
    ],
  });
  const source = 'await tools.wait({}); return 1;';
  const wave = async () => {
    const results = await Promise.all(Array.from({ length: CONCURRENT_SCRIPTS }, () => harness.run(source)));
    const failed = results.find((result) => !result.ok);
    if (failed !== undefined)
      throw new Error(`a concurrent script failed: ${failed.error?.code} ${failed.error?.message}`);
  };
  const figures = await measureTask(context.profile, wave, {
    time: 1,
    iterations: context.profile.slowIterations,
    warmupTime: 1,
    warmupIterations: 1,
  });
  const overIdeal = figures.p50Ms / TOOL_DELAY_MS;
  return {
    p50Ms: figures.p50Ms,
    p99Ms: figures.p99Ms,
    opsPerSec: (CONCURRENT_SCRIPTS * 1000) / figures.meanMs,
    unit: '× ideal',
    value: overIdeal,
    ratio: overIdeal,
    note: `${CONCURRENT_SCRIPTS} harness.run started at once (QuickJS inline), each awaiting a ${TOOL_DELAY_MS} ms tool; p50/p99 = wall time of the whole wave, ops/s = scripts/s; value = p50 wall ÷ ideal ${TOOL_DELAY_MS} ms`,
  };
}

// ---------------------------------------------------------------------------------------------
// timeout.latencyMs

const DEADLINE_MS = 50;

/** Wall-clock epoch milliseconds with sub-millisecond precision (deadlines are epoch ms). */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Passes every run through unchanged, noting the deadline the runtime arms when it starts the
 * script (`HostBridge.started`, where the runtime contract has it).
 */
function observeDeadlines(runtime: RuntimeAdapter, onDeadline: (deadline: number) => void): RuntimeAdapter {
  return {
    specificationVersion: runtime.specificationVersion,
    name: runtime.name,
    async createSandbox(limits) {
      const sandbox = await runtime.createSandbox(limits);
      return {
        run(request, bridge, signal) {
          const observed = bridge as HostBridge & { started?: (deadline: number) => void };
          const started = observed.started;
          if (typeof started !== 'function') return sandbox.run(request, bridge, signal);
          const wrapped: HostBridge & { started(deadline: number): void } = {
            ...bridge,
            started(deadline: number) {
              onDeadline(deadline);
              started.call(bridge, deadline);
            },
          };
          return sandbox.run(request, wrapped, signal);
        },
        dispose: () => sandbox.dispose(),
      };
    },
  };
}

/**
 * From the run's deadline to `harness.run` resolving with TIMEOUT for `while(true){}`. The deadline
 * is the one the runtime arms when it starts the script; with a runtime that does not report it,
 * `script_started` time + timeout (the engine set the deadline right after that event). Baseline:
 * raw QuickJS with an interrupt handler on a deadline set the same way, measured the same way.
 */
async function timeoutLatency(context: RunContext): Promise<Measurement> {
  let armed: number | undefined;
  const runtime = observeDeadlines(await inlineQuickJSRuntime(context), (deadline) => {
    armed = deadline;
  });
  const harness = createHarness({ runtime, limits: { timeoutMs: DEADLINE_MS } });
  const module = await rawQuickJSModule(context);
  const ours = async () => {
    armed = undefined;
    let fallback = 0;
    const result = await harness.run('while (true) {}', {
      onEvent: (event) => {
        if (event.type === 'script_started') fallback = Date.now() + DEADLINE_MS;
      },
    });
    const ended = epochNow();
    if (result.error?.code !== 'TIMEOUT') throw new Error(`expected TIMEOUT, got ${result.error?.code ?? 'success'}`);
    return { overriddenDuration: Math.max(0, ended - (armed ?? fallback)) };
  };
  const raw = () => {
    const deadline = Date.now() + DEADLINE_MS;
    const runtime = module.newRuntime();
    runtime.setInterruptHandler(() => Date.now() > deadline);
    const context = runtime.newContext();
    const result = context.evalCode('while (true) {}');
    const ended = epochNow();
    if (result.error === undefined) throw new Error('raw QuickJS loop ended without an interrupt');
    result.error.dispose();
    context.dispose();
    runtime.dispose();
    return { overriddenDuration: Math.max(0, ended - deadline) };
  };
  const iterations = context.profile.slowIterations * 5;
  const figures = await measureTasks(
    context.profile,
    { ours, raw },
    { time: 1, iterations, warmupTime: 1, warmupIterations: 2 },
  );
  return {
    p50Ms: figures.ours.p50Ms,
    p99Ms: figures.ours.p99Ms,
    unit: 'ms',
    value: figures.ours.p50Ms,
    ratio: figures.raw.p50Ms > 0 ? figures.ours.p50Ms / figures.raw.p50Ms : undefined,
    note: `deadline (${DEADLINE_MS} ms timeout) to run() resolving with TIMEOUT for while(true){}, QuickJS inline, ${iterations} runs; baseline raw QuickJS interrupt handler on its deadline: p50 ${figures.raw.p50Ms.toFixed(3)} ms, p99 ${figures.raw.p99Ms.toFixed(3)} ms (deadlines are whole epoch ms, and an interrupt fires once Date.now() passes one, so ~1 ms is the resolution floor)`,
  };
}

// ---------------------------------------------------------------------------------------------
// serialize.128kb

/** About 128 KB of JSON: records shaped like a typical tool result. */
export function payload(bytes = 128 * 1024): unknown[] {
  const rows: unknown[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const row = {
      id: i,
      name: `item-${i}`,
      active: i % 2 === 0,
      score: i * 1.5,
      tags: ['alpha', 'beta', 'gamma'],
      owner: { id: i % 17, name: `owner-${i % 17}`, createdAt: '2024-01-01T00:00:00.000Z' },
    };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return rows;
}

async function serialize(context: RunContext): Promise<Measurement> {
  const data = payload();
  const expected = JSON.stringify(data);
  if (toPlainJson(data) !== expected) throw new Error('toPlainJson and JSON.stringify disagree');
  const figures = await measureTasks(context.profile, {
    toPlainJson: () => toPlainJson(data),
    stringify: () => JSON.stringify(data),
  });
  return {
    p50Ms: figures.toPlainJson.p50Ms,
    p99Ms: figures.toPlainJson.p99Ms,
    opsPerSec: figures.toPlainJson.opsPerSec,
    ratio: figures.toPlainJson.p50Ms / figures.stringify.p50Ms,
    note: `toPlainJson (core) on ${(expected.length / 1024).toFixed(0)} KB of JSON; ratio vs JSON.stringify of the same object, same run: p50 ${figures.stringify.p50Ms.toFixed(3)} ms`,
  };
}

// ---------------------------------------------------------------------------------------------
// Features probed at run time. Each row's `measure…` function is where the measurement goes when
// the feature lands; until then the probe says precisely what is missing. A probe that succeeds
// while its row has no measurement yet fails loudly rather than skipping quietly.

function unwired(what: string): never {
  throw new Error(`${what} is available now; this row needs its measurement written against it`);
}

/** Where a scheduler, run queue or retry policy may be exported from. */
const SCHEDULING_PACKAGES = ['@script-harness/core', '@script-harness/server'] as const;

/** The first of `specifiers` exporting a function named like `pattern`, as `package name`. */
async function findFeature(specifiers: readonly string[], pattern: RegExp): Promise<string | undefined> {
  for (const specifier of specifiers) {
    const probe = await probeExport(specifier, pattern, 'feature');
    if ('found' in probe) return `${specifier} ${probe.found.name}`;
  }
  return undefined;
}

/** Cost the scheduler adds to starting a run (µs), vs starting it directly. */
async function schedulerOverhead(): Promise<Measurement> {
  const found = await findFeature(SCHEDULING_PACKAGES, /^create\w*Scheduler$/);
  if (found === undefined)
    return notLanded(`run scheduler (no create…Scheduler export in ${SCHEDULING_PACKAGES.join(' or ')})`);
  return unwired(found);
}

/** One push + one pop on a queue already holding 10,000 items (µs). */
async function queueOps(): Promise<Measurement> {
  const found = await findFeature(SCHEDULING_PACKAGES, /^create\w*Queue$/);
  if (found === undefined)
    return notLanded(`in-process run queue (no create…Queue export in ${SCHEDULING_PACKAGES.join(' or ')})`);
  return unwired(found);
}

/** One retry decision (retry or give up, and the delay) for a failed run. */
async function retryDecision(): Promise<Measurement> {
  const found = await findFeature(SCHEDULING_PACKAGES, /^(create\w*Retry\w*|decide\w*Retry\w*)$/);
  if (found === undefined)
    return notLanded(`retry policy (no create…Retry…/decide…Retry… export in ${SCHEDULING_PACKAGES.join(' or ')})`);
  return unwired(found);
}

/** p50 of harness.quickjs.trivial with telemetry on ÷ the same with it off, same run. */
async function telemetryOverhead(): Promise<Measurement> {
  const probe = await probeExport('@script-harness/telemetry', /^create\w*Telemetry\w*$/, 'telemetry factory');
  if ('missing' in probe) return notLanded(`telemetry (${probe.missing})`);
  return unwired(`@script-harness/telemetry ${probe.found.name}`);
}

/** The HTTP server running `return 1+1` per request: req/s and p99, vs floor.http.hello. */
async function serverTrivial(): Promise<Measurement> {
  for (const specifier of SERVER_PACKAGES) {
    const probe = await probeExport(specifier, /^create\w*(Server|App)$/, 'server factory');
    if ('found' in probe) return unwired(`${specifier} ${probe.found.name}`);
  }
  return notLanded(`HTTP server (${SERVER_PACKAGES.join(' / ')} exports no create…Server/App)`);
}

/** The server app (apps/harness-server). */
const SERVER_PACKAGES = ['@script-harness/server'] as const;

export const infraRows: readonly BenchRow[] = [
  {
    id: 'concurrency.1000',
    suite: 'infra',
    title: '1,000 scripts in flight, each awaiting a 50 ms tool: wall time ÷ ideal 50 ms',
    measure: concurrency,
  },
  {
    id: 'timeout.latencyMs',
    suite: 'infra',
    title: 'deadline to termination of `while(true){}`, ms (ratio vs raw QuickJS interrupt)',
    measure: timeoutLatency,
  },
  {
    id: 'scheduler.overhead',
    suite: 'infra',
    title: 'cost the run scheduler adds per run, µs',
    measure: schedulerOverhead,
  },
  {
    id: 'queue.ops.10k',
    suite: 'infra',
    title: 'one push + one pop with 10,000 runs queued, µs',
    measure: queueOps,
  },
  {
    id: 'retry.decision',
    suite: 'infra',
    title: 'one retry decision for a failed run',
    measure: retryDecision,
  },
  {
    id: 'serialize.128kb',
    suite: 'infra',
    title: 'toPlainJson on a 128 KB object (ratio vs JSON.stringify)',
    measure: serialize,
  },
  {
    id: 'telemetry.overhead',
    suite: 'infra',
    title: 'trivial run with telemetry on ÷ off',
    measure: telemetryOverhead,
  },
  {
    id: 'server.http.trivial',
    suite: 'infra',
    title: 'HTTP server running `return 1+1` per request: req/s, p99',
    baselineId: 'floor.http.hello',
    compareBy: 'opsPerSec',
    measure: serverTrivial,
  },
];
