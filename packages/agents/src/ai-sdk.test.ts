import type { Harness } from '@script-harness/core';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunScriptToolOutput, runScriptTool } from './ai-sdk.ts';
import { createTestHarness } from './testing/harness.ts';

type CallOptions = Parameters<MockLanguageModelV4['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;

let harness: Harness;
beforeAll(async () => {
  harness = await createTestHarness();
});
afterAll(() => harness.close());

const USAGE: GenerateResult['usage'] = {
  inputTokens: { total: 100, noCache: 100, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 20, text: 20, reasoning: 0 },
};

function toolCallTurn(code: string): GenerateResult {
  return {
    content: [
      { type: 'text', text: 'Checking both cities in one program.' },
      { type: 'tool-call', toolCallId: 'call_1', toolName: 'run_script', input: JSON.stringify({ code }) },
    ],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage: USAGE,
    warnings: [],
  };
}

/** The output of the `run_script` call in the prompt of a model call, as the model receives it. */
function scriptOutputIn(options: CallOptions): unknown {
  for (const message of options.prompt) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'tool-result' && part.toolName === 'run_script' && part.output.type === 'json') {
        return part.output.value;
      }
    }
  }
  return undefined;
}

/**
 * A model that calls run_script with `code` first, then answers from the result it was given:
 * the second turn is computed from the prompt, not scripted.
 */
function scriptingModel(code: string): MockLanguageModelV4 {
  let turn = 0;
  return new MockLanguageModelV4({
    doGenerate: async (options) => {
      turn++;
      if (turn === 1) return toolCallTurn(code);
      const output = scriptOutputIn(options) as RunScriptToolOutput | undefined;
      const text = output?.ok
        ? `It is warmer in ${(output.value as { warmer: string }).warmer}.`
        : `The program failed: ${output?.error?.code}.`;
      return {
        content: [{ type: 'text', text }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: USAGE,
        warnings: [],
      };
    },
  });
}

describe('runScriptTool (Vercel AI SDK)', () => {
  it('I11: the AI SDK path runs a two-step loop with the mock model', async () => {
    const model = scriptingModel(`
      const [oslo, rome] = await Promise.all([tools.weather({ city: 'Oslo' }), tools.weather({ city: 'Rome' })]);
      return { warmer: oslo.celsius > rome.celsius ? oslo.city : rome.city };
    `);
    const result = await generateText({
      model,
      tools: { run_script: runScriptTool(harness) },
      stopWhen: stepCountIs(5),
      prompt: 'Is it warmer in Oslo or in Rome?',
    });

    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolCalls.map((call) => call.toolName)).toEqual(['run_script']);
    expect(result.steps[0]?.toolResults[0]?.output).toEqual({ ok: true, value: { warmer: 'Rome' } });
    expect(result.text).toBe('It is warmer in Rome.');

    // What the model was offered: one tool, described with the declarations of the harness's tools.
    const [first, second] = model.doGenerateCalls;
    const offered = first?.tools ?? [];
    expect(offered.map((tool) => tool.name)).toEqual(['run_script']);
    const runScript = offered[0] as { description?: string; inputSchema: Record<string, unknown> };
    expect(runScript.description).toContain('weather(args: {');
    expect(runScript.inputSchema).toMatchObject({
      type: 'object',
      properties: { code: { type: 'string' } },
      required: ['code'],
    });
    // The second request carried the script's result back to the model.
    expect(second === undefined ? undefined : scriptOutputIn(second)).toEqual({ ok: true, value: { warmer: 'Rome' } });
  });

  it('gives a failing program back to the model as a result, not as an exception', async () => {
    const model = scriptingModel(`return await tools.weather({ city: 'Atlantis' });`);
    const result = await generateText({
      model,
      tools: { run_script: runScriptTool(harness) },
      stopWhen: stepCountIs(5),
      prompt: 'How warm is it in Atlantis?',
    });
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({
      ok: false,
      error: { code: 'TOOL_ERROR', message: expect.stringContaining('Atlantis') },
    });
    expect(result.text).toBe('The program failed: TOOL_ERROR.');
  });

  it('runs under the tool options: allowlist in the description and in the run, limits, own description', async () => {
    const restricted = runScriptTool(harness, { tools: ['units.fahrenheit'], limits: { timeoutMs: 3000 } });
    expect(restricted.description).toContain('fahrenheit(');
    expect(restricted.description).not.toContain('weather(');
    expect(restricted.description).toContain('Limits per program: 3 s');
    const output = await restricted.execute?.(
      { code: `try { await tools.weather({ city: 'Oslo' }); return 'called'; } catch (error) { return error.code; }` },
      { toolCallId: 'call_2', messages: [], context: {} },
    );
    expect(output).toEqual({ ok: true, value: 'TOOL_NOT_FOUND' });

    expect(runScriptTool(harness, { description: 'Runs code.' }).description).toBe('Runs code.');
  });
});
