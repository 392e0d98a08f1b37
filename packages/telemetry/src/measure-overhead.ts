/**
 * Measures what telemetry adds to a trivial script run (one tool call, inline QuickJS): no
 * telemetry, metrics only, metrics with tracing (batch processor, an exporter that drops spans),
 * and metrics with script logging (to a stream that drops lines). The variants run interleaved in
 * rounds within one process, so drift (JIT warm-up, GC, CPU frequency) hits all of them alike.
 *
 *   node packages/telemetry/src/measure-overhead.ts [runsPerVariant=2000] [rounds=10]
 *
 * Prints the median per-run time of each variant and its ratio to the run without telemetry.
 */
import { Writable } from 'node:stream';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { createHarness, defineTool, type Harness, type ScriptResult, type Telemetry } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { z } from 'zod';
import { createLogger, withScriptLogging } from './logging.ts';
import { createTelemetry } from './telemetry.ts';

/** Accepts and drops spans, as a fast collector would. */
class DroppingSpanExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    this.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

const runsPerVariant = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 10);
const perRound = Math.max(1, Math.floor(runsPerVariant / rounds));
const SCRIPT = 'return await tools.noop({})';

const runtime = await createQuickJSRuntime({ mode: 'inline' });
const noop = defineTool({ name: 'noop', description: 'Does nothing.', input: z.strictObject({}), execute: () => null });
const spans = new DroppingSpanExporter();
const droppedLines = new Writable({ write: (_chunk, _encoding, callback) => callback() });

const metricsOnly = createTelemetry({ runtimes: ['quickjs'], tracing: false });
const traced = createTelemetry({ runtimes: ['quickjs'], tracing: { exporter: spans } });
const logged = withScriptLogging(
  createTelemetry({ runtimes: ['quickjs'], tracing: false }),
  createLogger({ level: 'info', destination: droppedLines }),
);
const variants: { name: string; harness: Harness; samples: number[] }[] = [
  { name: 'telemetry off', telemetry: undefined },
  { name: 'metrics (tracing off)', telemetry: metricsOnly },
  { name: 'metrics + tracing', telemetry: traced },
  { name: 'metrics + logging', telemetry: logged },
].map(({ name, telemetry }: { name: string; telemetry: Telemetry | undefined }) => ({
  name,
  harness: createHarness({ runtime, tools: [noop], ...(telemetry === undefined ? {} : { telemetry }) }),
  samples: [],
}));

async function runBatch(harness: Harness, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const result = await harness.run(SCRIPT);
    if (!result.ok) throw new Error(`the measured script failed: ${result.error?.code}`);
  }
  return (performance.now() - started) / count;
}

// Warm-up: JIT and QuickJS module caches, for every variant.
for (const variant of variants) await runBatch(variant.harness, 200);

for (let round = 0; round < rounds; round++) {
  // Rotate the order each round so no variant always runs first or last.
  for (let i = 0; i < variants.length; i++) {
    const variant = variants[(round + i) % variants.length]!;
    variant.samples.push(await runBatch(variant.harness, perRound));
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const baseline = median(variants[0]!.samples);
console.log(`${perRound * rounds} runs per variant, ${rounds} interleaved rounds, script: ${SCRIPT}`);
for (const variant of variants) {
  const perRun = median(variant.samples);
  console.log(
    `${variant.name.padEnd(24)} ${(perRun * 1000).toFixed(1).padStart(8)} µs/run   ratio ${(perRun / baseline).toFixed(3)}`,
  );
}
// The hooks alone, without QuickJS: what one script with one tool call costs each variant.
const result = (await variants[0]!.harness.run(SCRIPT)) satisfies ScriptResult;
const hookTelemetry: { name: string; telemetry: Telemetry }[] = [
  { name: 'metrics (tracing off)', telemetry: metricsOnly },
  { name: 'metrics + tracing', telemetry: traced },
  { name: 'metrics + logging', telemetry: logged },
];
const hookRuns = 100_000;
const hookSamples = new Map<string, number[]>(hookTelemetry.map(({ name }) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < hookTelemetry.length; i++) {
    const { name, telemetry } = hookTelemetry[(round + i) % hookTelemetry.length]!;
    const started = performance.now();
    for (let run = 0; run < hookRuns / rounds; run++) {
      const script = telemetry.startScript({ scriptId: 'measured', runtime: 'quickjs' });
      script.startToolCall({ tool: 'noop', callId: '1' }).end({ status: 'ok', durationMs: 0.1 });
      script.end(result);
    }
    hookSamples.get(name)!.push(((performance.now() - started) / (hookRuns / rounds)) * 1000);
  }
}
console.log(`hooks alone (startScript, one tool call, end), ${hookRuns} per variant:`);
for (const [name, samples] of hookSamples) {
  console.log(`${name.padEnd(24)} ${median(samples).toFixed(2).padStart(8)} µs/script`);
}
await traced.forceFlush();
console.log(`spans exported: ${spans.exported}`);
await Promise.all([metricsOnly.shutdown(), traced.shutdown(), runtime.close()]);
