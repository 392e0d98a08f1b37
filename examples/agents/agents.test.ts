/**
 * Runs every recorded agent loop of this directory through the real conversion functions and a
 * real harness, and checks what the model was sent as well as what came back.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AnthropicStreamEvent, ChatCompletion, Harness, OpenAIResponse } from '@script-harness/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiSdkLoop, recordedAiSdkModel } from './ai-sdk.ts';
import { anthropicLoop, type MessagesRequest } from './anthropic.ts';
import { type ChatRequest, chatLoop } from './openai-chat.ts';
import { type ResponsesRequest, responsesLoop } from './openai-responses.ts';
import { createExampleHarness, recordedModel } from './support.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await createExampleHarness();
});
afterAll(() => harness.close());

describe('examples/agents: recorded agent loops', () => {
  it('openai-responses.ts: script blocks, the result goes back as a run_script function call and its output', async () => {
    const model = await recordedModel<ResponsesRequest, OpenAIResponse>('openai-responses.json');
    const report = await responsesLoop(harness, model.call);

    expect(report.steps).toBe(2);
    expect(report.scripts).toHaveLength(1);
    expect(report.scripts[0]).toMatchObject({
      ok: true,
      output: {
        project: 'weather-digest@0.3.1',
        todos: [
          'src/app.ts:5 read the city list from a config file instead of hard-coding it',
          'src/app.ts:9 retry with backoff when the forecast service answers 429',
        ],
      },
    });
    expect(report.answer).toMatch(/^weather-digest is at 0\.3\.1 and has two TODOs/);

    const [first, second] = model.requests;
    expect(first?.instructions).toContain('<tool-calls>');
    expect(first?.instructions).toContain('grep(args: {');
    const input = second?.input ?? [];
    // The reasoning item goes back unchanged, before the script's call and its output.
    expect(input.map((item) => ('type' in item ? item.type : `${item.role} text`))).toEqual([
      'message',
      'reasoning',
      'assistant text',
      'function_call',
      'function_call_output',
    ]);
    const output = input.find((item) => 'type' in item && item.type === 'function_call_output') as { output: string };
    expect(JSON.parse(output.output)).toEqual({ ok: true, value: report.scripts[0]?.output });
  });

  it('openai-chat.ts: the run_script tool, answered with a tool message', async () => {
    const model = await recordedModel<ChatRequest, ChatCompletion>('openai-chat.json');
    const report = await chatLoop(harness, model.call);

    expect(report.steps).toBe(2);
    expect(report.scripts.map((script) => script.output)).toEqual([
      [
        { path: 'src/app.ts', lines: 17, todos: 2 },
        { path: 'src/digest.ts', lines: 15, todos: 0 },
      ],
    ]);
    expect(report.answer).toBe('src/app.ts has 17 lines and 2 TODOs; src/digest.ts has 15 lines and none.');

    const [first, second] = model.requests;
    expect(first?.tools).toEqual([
      expect.objectContaining({
        type: 'function',
        function: expect.objectContaining({ name: 'run_script', strict: true }),
      }),
    ]);
    const messages = second?.messages ?? [];
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(messages[2]).toMatchObject({
      content: "I'll measure every source file in one program.",
      tool_calls: [{ id: 'call_Vn4pR8sLq2', function: { name: 'run_script' } }],
    });
    const tool = messages[3] as { tool_call_id: string; content: string };
    expect(tool.tool_call_id).toBe('call_Vn4pR8sLq2');
    expect(JSON.parse(tool.content)).toEqual({ ok: true, value: report.scripts[0]?.output });
  });

  it('anthropic.ts: streamed events, the run_script tool, thinking kept with its signature', async () => {
    const model = await recordedModel<MessagesRequest, AnthropicStreamEvent[]>('anthropic.json');
    const report = await anthropicLoop(harness, model.call);

    expect(report.steps).toBe(2);
    expect(report.scripts.map((script) => script.output)).toEqual([
      { title: 'weather-digest', exported: ['Forecast', 'formatDigest'] },
    ]);
    expect(report.answer).toBe(
      'The project is weather-digest; src/digest.ts exports the Forecast interface and the formatDigest function.',
    );

    const [first, second] = model.requests;
    expect(first?.tools).toEqual([expect.objectContaining({ name: 'run_script' })]);
    const messages = second?.messages ?? [];
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[1]?.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(messages[1]?.content[0]).toMatchObject({
      signature: 'EqQBCkYIBhgCKkBleGFtcGxlLXJlY29yZGVkLXNpZ25hdHVyZQ==',
    });
    const result = messages[2]?.content[0] as { type: string; tool_use_id: string; content: string };
    expect(result).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_01Xk8RbVq4' });
    expect(JSON.parse(result.content)).toEqual({ ok: true, value: report.scripts[0]?.output });
  });

  it('ai-sdk.ts: generateText with runScriptTool and the SDK’s mock model', async () => {
    const model = await recordedAiSdkModel();
    const report = await aiSdkLoop(harness, model);

    expect(report.steps).toBe(2);
    expect(report.scripts.map((script) => script.output)).toEqual([
      { cities: ['Lisbon', 'Oslo', 'Nairobi'], variables: ['FORECAST_URL'] },
    ]);
    expect(report.answer).toBe(
      'The app reports on Lisbon, Oslo and Nairobi, and FORECAST_URL sets the forecast service.',
    );

    const offered = model.doGenerateCalls[0]?.tools ?? [];
    expect(offered.map((tool) => tool.name)).toEqual(['run_script']);
    const toolMessage = model.doGenerateCalls[1]?.prompt.find((message) => message.role === 'tool');
    expect(toolMessage?.content[0]).toMatchObject({
      type: 'tool-result',
      toolName: 'run_script',
      output: { type: 'json', value: { ok: true, value: report.scripts[0]?.output } },
    });
  });

  it('live-openai.ts says it is skipping and exits 0 without OPENAI_API_KEY', () => {
    const { OPENAI_API_KEY: _unused, ...env } = process.env;
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('./live-openai.ts', import.meta.url))], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('OPENAI_API_KEY is not set; skipping the live run');
  });
});
