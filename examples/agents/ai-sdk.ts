/**
 * An agent loop on the Vercel AI SDK: `generateText` with the harness as one tool,
 * `run_script: runScriptTool(harness)`, and `stopWhen` to let the model read the program's result
 * and answer. The model here is the SDK's own mock model replaying recorded provider results;
 * swap in any provider's model (`openai('gpt-5.1')`, `anthropic(...)`) and the loop is the same.
 *
 * Run: `node examples/agents/ai-sdk.ts` (results recorded from a model; no key needed).
 */
import { readFile } from 'node:fs/promises';
import { runScriptTool } from '@script-harness/agents/ai-sdk';
import type { Harness } from '@script-harness/core';
import { generateText, type LanguageModel, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { createExampleHarness, type LoopReport, MAX_STEPS, printReport } from './support.ts';

export const QUESTION =
  'Which cities does the app report on, and which environment variable sets the forecast service?';

export async function aiSdkLoop(
  harness: Harness,
  model: LanguageModel,
  options: { readonly question?: string } = {},
): Promise<LoopReport> {
  const question = options.question ?? QUESTION;
  const result = await generateText({
    model,
    system: 'You help with the weather-digest project in the workspace. Be brief.',
    prompt: question,
    tools: { run_script: runScriptTool(harness) },
    stopWhen: stepCountIs(MAX_STEPS),
  });
  const scripts = result.steps.flatMap((step) =>
    step.toolResults.map((toolResult) => {
      const output = toolResult.output as { ok: boolean; value?: unknown; error?: unknown };
      return {
        code: (toolResult.input as { code: string }).code,
        ok: output.ok,
        output: output.ok ? output.value : output.error,
      };
    }),
  );
  return { question, answer: result.text, scripts, steps: result.steps.length };
}

/** The SDK's mock model, answering each call with the next recorded result. */
export async function recordedAiSdkModel(): Promise<MockLanguageModelV4> {
  const recorded = JSON.parse(await readFile(new URL('./recorded/ai-sdk.json', import.meta.url), 'utf8'));
  return new MockLanguageModelV4({ provider: 'recorded', modelId: 'gpt-5.1', doGenerate: recorded });
}

if (import.meta.main) {
  const harness = await createExampleHarness();
  try {
    printReport(
      'Vercel AI SDK, run_script tool (recorded results)',
      await aiSdkLoop(harness, await recordedAiSdkModel()),
    );
  } finally {
    await harness.close();
  }
}
