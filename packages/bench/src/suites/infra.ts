/**
 * Infrastructure around the runs: concurrency, deadlines, the scheduler (core's job queue and its
 * retry rule), the boundary serialiser, telemetry (probed at run time, reported as not landed
 * until it exists) and the HTTP server.
 */
import {
  createHarness,
  createInProcessQueue,
  defineTool,
  type Harness,
  type HostBridge,
  isRetryableScriptFailure,
  type JobQueue,
  type RuntimeAdapter,
  retryDelayMs,
  type Telemetry,
  toPlainJson,
} from '@script-harness/core';
import { z } from 'zod';
import { measureHttp, startServerProcess } from '../http.ts';
import { measureTask, measureTasks } from '../measure.ts';
import { probeExport } from '../probe.ts';
import { defaultQuickJSRuntime, describeQuickJSRuntime, inlineQuickJSRuntime, rawQuickJSModule } from '../quickjs.ts';
import { type Measurement, notLanded } from '../report.ts';
import type { BenchRow, RunContext } from '../row.ts';
import { noopTool, ONE_TOOL_SCRIPT } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// concurrency.1000

const CONCURRENT_SCRIPTS = 1000;
const TOOL_DELAY_MS = 50;

/**
 * 1,000 `harness.run` started at once, each awaiting a tool that answers after 50 ms. `default` is
 * the runtime `createQuickJSRuntime()` gives with no options (the worker pool); `inline` runs every
 * script on this thread.
 */
async function concurrency(context: RunContext, mode: 'default' | 'inline'): Promise<Measurement> {
  const runtime = mode === 'default' ? await defaultQuickJSRuntime(context) : await inlineQuickJSRuntime(context);
  const how =
    mode === 'default'
      ? `QuickJS as createQuickJSRuntime() builds it by default: ${describeQuickJSRuntime(runtime)}`
      : 'QuickJS inline mode';
  const harness = createHarness({
    runtime,
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
    note: `${CONCURRENT_SCRIPTS} harness.run started at once (${how}), each awaiting a ${TOOL_DELAY_MS} ms tool; p50/p99 = wall time of the whole wave, ops/s = scripts/s; value = p50 wall ÷ ideal ${TOOL_DELAY_MS} ms`,
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
// The scheduler: core's job queue (priority, bounded concurrency overall and per tenant, retries
// with backoff), `createInProcessQueue`. Its jobs here are stand-ins that settle when told to, so
// the figures are the queue's own cost, not a script's.

const QUEUE_DEPTH = 10_000;
const ignore = () => {};

/**
 * A queue with one slot, a job parked in it and `depth` jobs waiting. `cycle()` is one push and one
 * pop: submit a job, let the running one finish, and wait until the queue has started the next.
 */
function queueCycler(depth: number): { cycle: () => Promise<void>; queue: JobQueue<number, void> } {
  let finishRunning: (() => void) | undefined;
  let onStart: (() => void) | undefined;
  const queue = createInProcessQueue<number, void>({
    concurrency: 1,
    maxQueued: depth + 1,
    run: () =>
      new Promise<void>((resolve) => {
        finishRunning = resolve;
        onStart?.();
      }),
  });
  const submit = (payload: number) => void queue.submit({ payload }).result.catch(ignore);
  for (let i = 0; i <= depth; i++) submit(i);
  const { queued, running } = queue.stats();
  if (queued !== depth || running !== 1) throw new Error(`queue holds ${queued} queued / ${running} running`);
  const cycle = async () => {
    const started = new Promise<void>((resolve) => (onStart = resolve));
    submit(0);
    finishRunning?.();
    await started;
  };
  return { cycle, queue };
}

/**
 * Closes queues, cancelling what they still hold. `close()` waits out its grace period on an
 * unref'd timer, so this keeps the event loop alive meanwhile: with nothing else pending, Node
 * would otherwise exit in the middle of the run.
 */
async function closeQueues(queues: readonly JobQueue<number, unknown>[]): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await Promise.all(queues.map((queue) => queue.close({ graceMs: 0 })));
  } finally {
    clearInterval(keepAlive);
  }
}

/** One push + one pop on core's queue holding 10,000 waiting jobs (µs); ratio vs the same on an empty queue. */
async function queueOps(context: RunContext): Promise<Measurement> {
  const deep = queueCycler(QUEUE_DEPTH);
  const empty = queueCycler(0);
  try {
    const figures = await measureTasks(context.profile, { deep: deep.cycle, empty: empty.cycle });
    if (deep.queue.stats().queued !== QUEUE_DEPTH) throw new Error('the queue did not stay 10,000 deep');
    return {
      p50Ms: figures.deep.p50Ms,
      p99Ms: figures.deep.p99Ms,
      opsPerSec: figures.deep.opsPerSec,
      unit: 'µs',
      value: figures.deep.p50Ms * 1000,
      ratio: figures.deep.p50Ms / figures.empty.p50Ms,
      note: `createInProcessQueue (core), concurrency 1, ${QUEUE_DEPTH.toLocaleString('en-US')} jobs waiting: submit one job, finish the running one, await the start of the next (one heap push + one pop, with the promise hops between them); value = p50 in µs; ratio vs the same cycle on an empty queue: p50 ${(figures.empty.p50Ms * 1000).toFixed(2)} µs`,
    };
  } finally {
    await closeQueues([deep.queue, empty.queue]);
  }
}

/**
 * What the scheduler adds to one run (µs): submit → result through core's queue, minus calling the
 * same job directly, for a job that resolves at once (both in one tinybench run).
 */
async function schedulerOverhead(context: RunContext): Promise<Measurement> {
  const job = async (payload: number) => payload + 1;
  const queue = createInProcessQueue<number, number>({ concurrency: 1, maxQueued: 1000, run: job });
  try {
    const figures = await measureTasks(context.profile, {
      queued: async () => {
        if ((await queue.submit({ payload: 1 }).result) !== 2)
          throw new Error('the queued job returned a wrong result');
      },
      direct: async () => {
        if ((await job(1)) !== 2) throw new Error('the job returned a wrong result');
      },
    });
    const overheadUs = (figures.queued.p50Ms - figures.direct.p50Ms) * 1000;
    return {
      p50Ms: figures.queued.p50Ms,
      p99Ms: figures.queued.p99Ms,
      opsPerSec: figures.queued.opsPerSec,
      unit: 'µs',
      value: overheadUs,
      note: `createInProcessQueue (core), concurrency 1: p50 of submit() → result for a job that resolves at once, minus p50 of calling the job directly (${(figures.direct.p50Ms * 1000).toFixed(3)} µs); p50/p99/ops/s are the queued side`,
    };
  } finally {
    await closeQueues([queue]);
  }
}

const RETRY_DECISIONS_PER_BATCH = 1000;

/**
 * One retry decision for a failed run, as the queue takes it with core's rule for scripts:
 * `isRetryableScriptFailure(result)` and, when it says yes, `retryDelayMs` (backoff with jitter).
 * A decision takes nanoseconds, so one sample is a batch of 1,000.
 */
async function retryDecision(context: RunContext): Promise<Measurement> {
  const failure = { ok: false, error: { code: 'INTERNAL', retryable: true }, calls: [] } as const;
  let sink = 0;
  const batch = () => {
    for (let i = 0; i < RETRY_DECISIONS_PER_BATCH; i++) {
      sink += isRetryableScriptFailure(failure) ? retryDelayMs(1 + (i & 1), 100, 5000, Math.random) : -1;
    }
  };
  const figures = await measureTask(context.profile, batch);
  if (!(sink > 0)) throw new Error('no retry was decided');
  return {
    opsPerSec: (RETRY_DECISIONS_PER_BATCH * 1000) / figures.meanMs,
    unit: 'ns',
    value: (figures.p50Ms * 1e6) / RETRY_DECISIONS_PER_BATCH,
    note: `isRetryableScriptFailure + retryDelayMs (core) on a retryable failure without tool calls, batches of ${RETRY_DECISIONS_PER_BATCH}; value = batch p50 ÷ ${RETRY_DECISIONS_PER_BATCH} in ns, ops/s = decisions/s; batch p50 ${(figures.p50Ms * 1000).toFixed(2)} µs, p99 ${(figures.p99Ms * 1000).toFixed(2)} µs`,
  };
}

// ---------------------------------------------------------------------------------------------
// telemetry.overhead: probed at run time, so the row says precisely what is missing until
// `@script-harness/telemetry` exports its factory.

/** The telemetry factory the row looks for: `@script-harness/telemetry` exporting exactly this name. */
export const TELEMETRY_EXPORT = 'createTelemetry';

/** What the row passes to the factory: metrics only (`tracing: false`: no spans; it writes no logs). */
export const TELEMETRY_OPTIONS = { runtimes: ['quickjs'], tracing: false } as const;

function isTelemetry(value: unknown): value is Telemetry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { startScript?: unknown }).startScript === 'function'
  );
}

/** The median of `samples` (sorted in place). */
function median(samples: number[]): number {
  samples.sort((a, b) => a - b);
  const middle = samples.length >> 1;
  return samples.length % 2 === 1 ? samples[middle]! : (samples[middle - 1]! + samples[middle]!) / 2;
}

/** The `q` quantile (0..1) of sorted samples, nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The one-tool script run inline with telemetry on (metrics only) and off, interleaved run by run
 * (the order flips every pair, so neither side always runs warm after the other): ratio = p50 on ÷
 * p50 off. Lights up when `@script-harness/telemetry` exports `createTelemetry`.
 */
async function telemetryOverhead(context: RunContext): Promise<Measurement> {
  const pattern = new RegExp(`^${TELEMETRY_EXPORT}$`);
  const probe = await probeExport('@script-harness/telemetry', pattern, TELEMETRY_EXPORT);
  if ('missing' in probe) return notLanded(`telemetry (${probe.missing})`);
  return measureTelemetryOverhead(context, probe.found.value as unknown as TelemetryFactory);
}

export type TelemetryFactory = (options: typeof TELEMETRY_OPTIONS) => unknown;

/** The measurement of `telemetry.overhead`, given the factory the probe found. */
export async function measureTelemetryOverhead(context: RunContext, factory: TelemetryFactory): Promise<Measurement> {
  const telemetry = await factory(TELEMETRY_OPTIONS);
  if (!isTelemetry(telemetry)) {
    throw new Error(`${TELEMETRY_EXPORT}(${JSON.stringify(TELEMETRY_OPTIONS)}) returned no Telemetry (no startScript)`);
  }
  try {
    const runtime = await inlineQuickJSRuntime(context);
    const on = createHarness({ runtime, tools: [noopTool], telemetry });
    const off = createHarness({ runtime, tools: [noopTool] });
    const runOnce = async (harness: Harness): Promise<number> => {
      const started = performance.now();
      const result = await harness.run(ONE_TOOL_SCRIPT);
      const elapsed = performance.now() - started;
      if (!result.ok || result.value !== 2) {
        throw new Error(
          `${ONE_TOOL_SCRIPT} failed: ${result.error?.code ?? `returned ${JSON.stringify(result.value)}`}`,
        );
      }
      return elapsed;
    };
    const runs = context.profile.telemetryRuns;
    const warmup = Math.max(1, Math.min(200, runs >> 3));
    for (let i = 0; i < warmup; i++) {
      await runOnce(on);
      await runOnce(off);
    }
    const withTelemetry: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        withTelemetry.push(await runOnce(on));
        without.push(await runOnce(off));
      } else {
        without.push(await runOnce(off));
        withTelemetry.push(await runOnce(on));
      }
    }
    const onP50 = median(withTelemetry);
    const offP50 = median(without);
    const ratio = onP50 / offP50;
    return {
      p50Ms: onP50,
      p99Ms: quantile(withTelemetry, 0.99),
      unit: '×',
      value: ratio,
      ratio,
      note: `@script-harness/telemetry ${TELEMETRY_EXPORT}(${JSON.stringify(TELEMETRY_OPTIONS)}); ${runs} inline runs of '${ONE_TOOL_SCRIPT}' with it on and ${runs} with it off, interleaved; p50/p99 = telemetry on; ratio = p50 on ÷ p50 off (off: p50 ${offP50.toFixed(3)} ms, p99 ${quantile(without, 0.99).toFixed(3)} ms)`,
    };
  } finally {
    const shutdown = (telemetry as { shutdown?: () => unknown }).shutdown;
    if (typeof shutdown === 'function') await shutdown.call(telemetry);
  }
}

// ---------------------------------------------------------------------------------------------
// server.http.trivial

const TRIVIAL_SCRIPT_BODY = JSON.stringify({ code: 'return 1+1' });
const JSON_HEADERS = { 'content-type': 'application/json' } as const;
/** Rounds of concurrent `return 1+1` requests before the load: every pool worker runs a script. */
const SERVER_WARMUP_ROUNDS = 20;
const SERVER_WARMUP_PARALLEL = 10;
const READY_TIMEOUT_MS = 30_000;

interface ReadyBody {
  readonly status?: string;
  readonly pool?: { readonly size?: number };
}

/** Polls `GET /ready` until the server answers 200 (pool started, queue open); its body. */
async function waitUntilReady(url: string): Promise<ReadyBody> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/ready`);
    const text = await response.text();
    if (response.status === 200) return JSON.parse(text) as ReadyBody;
    last = `${response.status} ${text}`;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server was not ready within ${READY_TIMEOUT_MS} ms: ${last.slice(0, 300)}`);
}

/** One `POST /v1/scripts` of `return 1+1`; throws unless the run succeeded with 2. */
async function runTrivialScript(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/scripts`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: TRIVIAL_SCRIPT_BODY,
  });
  const text = await response.text();
  const result = response.status === 200 ? (JSON.parse(text) as { ok?: unknown; value?: unknown }) : undefined;
  if (result?.ok !== true || result.value !== 2) {
    throw new Error(`POST /v1/scripts return 1+1 answered ${response.status} ${text.slice(0, 300)}`);
  }
}

interface ServerCounters {
  /** `harness_scripts_total` with outcome `ok`, and with any other outcome. */
  readonly ok: number;
  readonly failed: number;
  /** `harness_worker_restarts_total`: pool workers replaced, planned recycling included. */
  readonly workerRestarts: number;
}

/**
 * Counters of the server's `/metrics`. A script fault is a 200 with `ok: false`, which the load
 * generator cannot tell from a success; `harness_scripts_total` can.
 */
async function serverCounters(url: string): Promise<ServerCounters> {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  let ok = 0;
  let failed = 0;
  let workerRestarts = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const count = Number(match[3]);
    if (match[1] === 'harness_scripts_total') {
      if (match[2]!.includes('outcome="ok"')) ok += count;
      else failed += count;
    } else if (match[1] === 'harness_worker_restarts_total') {
      workerRestarts += count;
    }
  }
  return { ok, failed, workerRestarts };
}

/**
 * The HTTP server (`@script-harness/server`, `startServer` on its embedded defaults) in a child
 * process on 127.0.0.1, like the floor's fastify, driven with `POST /v1/scripts` of `return 1+1`
 * by the same bounded autocannon run as `floor.http.hello`. req/s and p99; ratio vs the floor.
 */
async function serverTrivial(context: RunContext): Promise<Measurement> {
  const server = await startServerProcess('./children/harness-server.ts');
  try {
    const ready = await waitUntilReady(server.url);
    for (let round = 0; round < SERVER_WARMUP_ROUNDS; round++) {
      await Promise.all(Array.from({ length: SERVER_WARMUP_PARALLEL }, () => runTrivialScript(server.url)));
    }
    const before = await serverCounters(server.url);
    const { measurement, requests } = await measureHttp({
      url: `${server.url}/v1/scripts`,
      seconds: context.profile.httpSeconds,
      method: 'POST',
      headers: JSON_HEADERS,
      body: TRIVIAL_SCRIPT_BODY,
    });
    const after = await serverCounters(server.url);
    if (after.failed > before.failed) {
      throw new Error(`${after.failed - before.failed} of the load's scripts failed (harness_scripts_total)`);
    }
    if (after.ok - before.ok < requests) {
      throw new Error(`${requests} responses but only ${after.ok - before.ok} scripts succeeded`);
    }
    const pool = ready.pool?.size === undefined ? 'a worker pool' : `a pool of ${ready.pool.size} workers`;
    return {
      ...measurement,
      note: `@script-harness/server (startServer, embedded defaults: QuickJS in ${pool}, the in-process queue, telemetry on) in a child process on 127.0.0.1 without API keys, logs off, rate limit and queue bound out of reach; POST /v1/scripts {"code":"return 1+1"}; autocannon in this process, 10 connections for ${context.profile.httpSeconds} s (${requests} requests, each checked ok through harness_scripts_total; ${after.workerRestarts - before.workerRestarts} pool worker restarts during the load, planned recycling included) after ${SERVER_WARMUP_ROUNDS * SERVER_WARMUP_PARALLEL} warm-up requests; p50/p99 over every response`,
    };
  } finally {
    await server.stop();
  }
}

export const infraRows: readonly BenchRow[] = [
  {
    id: 'concurrency.1000',
    suite: 'infra',
    title: '1,000 scripts in flight, QuickJS default (pool), each awaiting a 50 ms tool: wall ÷ ideal 50 ms',
    measure: (context) => concurrency(context, 'default'),
  },
  {
    id: 'concurrency.1000.inline',
    suite: 'infra',
    title: '1,000 scripts in flight, QuickJS inline, each awaiting a 50 ms tool: wall ÷ ideal 50 ms',
    measure: (context) => concurrency(context, 'inline'),
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
    title: "cost core's job queue (the scheduler) adds per run, µs",
    measure: schedulerOverhead,
  },
  {
    id: 'queue.ops.10k',
    suite: 'infra',
    title: "one push + one pop on core's job queue with 10,000 jobs waiting, µs",
    measure: queueOps,
  },
  {
    id: 'retry.decision',
    suite: 'infra',
    title: 'one retry decision for a failed run (retryable? + backoff delay), ns',
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
    title: 'one-tool run with telemetry on (metrics only) ÷ off, QuickJS inline, interleaved',
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
