// A TypeScript consumer of the published packages: type-checked by the pack smoke test against
// the declarations in the tarballs (strict, module nodenext), never run. Each `@ts-expect-error`
// fails the check when a type has decayed to `any` (a declaration that no longer resolves).
import { systemPrompt } from '@script-harness/agents';
import { runScriptTool } from '@script-harness/agents/ai-sdk';
import { CLI_VERSION, main } from '@script-harness/cli';
import {
  createHarness,
  defineTool,
  type ErrorCode,
  executeMessage,
  type Harness,
  HarnessError,
  type HistoryItem,
  type RuntimeAdapter,
  type ScriptResult,
} from '@script-harness/core';
import { type ConformanceOptions, runtimeConformanceSuite } from '@script-harness/core/testing';
import { createRulePolicy } from '@script-harness/policy';
import { createBullMQQueue } from '@script-harness/queue-bullmq';
import { createIsolatedVMRuntime } from '@script-harness/runtime-ivm';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import { loadConfig, type ServerConfig, startServer } from '@script-harness/server';
import { createTelemetry } from '@script-harness/telemetry';
import { createFileTools } from '@script-harness/tools';
import { z } from 'zod';

const weather = defineTool({
  name: 'weather',
  description: 'Current temperature in °C for a city.',
  input: z.strictObject({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: city.length }),
});

// @ts-expect-error the input schema types the arguments: a city is a string
await weather.execute({ city: 42 }, { signal: AbortSignal.timeout(1_000) } as never);

const runtime: QuickJSRuntimeAdapter = await createQuickJSRuntime({ mode: 'inline' });
const adapter: RuntimeAdapter = runtime;
const harness: Harness = createHarness({
  runtime: adapter,
  tools: [weather, ...createFileTools({ root: '.' })],
  limits: { timeoutMs: 5_000, memoryMb: 64 },
  policy: createRulePolicy({ rules: [{ tool: 'writeFile', decision: 'deny', reason: 'read-only' }] }),
  telemetry: createTelemetry({ runtimes: [runtime.name] }),
});

// @ts-expect-error limits are numbers
createHarness({ runtime, limits: { timeoutMs: 'soon' } });

const result: ScriptResult = await harness.run('return (await tools.weather({ city: "Oslo" })).celsius;');
const code: ErrorCode | undefined = result.error?.code;
const turn = await executeMessage(harness, '<tool-calls>\nreturn 1;\n</tool-calls>');
const items: readonly HistoryItem[] = turn.items;
if (code !== undefined) throw new HarnessError(code, 'failed');

const prompt: string = systemPrompt(harness);
const tool = runScriptTool(harness);
const options: ConformanceOptions = { createRuntime: () => createQuickJSRuntime() };
const suite: (name: string, options: ConformanceOptions) => void = runtimeConformanceSuite;
const ivm: Promise<RuntimeAdapter> = createIsolatedVMRuntime({ size: 1 });
const config: ServerConfig = await loadConfig({ env: {} });
const start: typeof startServer = startServer;
const queue: typeof createBullMQQueue = createBullMQQueue;
const exitCode: Promise<number> = main(['node', 'harness', '--version']);
const version: string = CLI_VERSION;

export { config, exitCode, items, ivm, options, prompt, queue, start, suite, tool, version };
