import type { Harness } from '@script-harness/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAIRunScriptTool } from './openai.ts';
import { createTestHarness } from './testing/harness.ts';
import { replayFetch } from './testing/replay-fetch.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await createTestHarness();
});
afterAll(() => harness.close());

const COMPARE = `const [oslo, rome] = await Promise.all([tools.weather({ city: 'Oslo' }), tools.weather({ city: 'Rome' })]);
return { warmer: oslo.celsius > rome.celsius ? oslo.city : rome.city };`;

const EXPECTED_PARAMETERS = {
  type: 'object',
  properties: { code: { type: 'string', minLength: 1, description: expect.any(String) } },
  required: ['code'],
  additionalProperties: false,
};

function completion(message: Record<string, unknown>, finishReason: string) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_767_225_600,
    model: 'gpt-4.1',
    choices: [{ index: 0, finish_reason: finishReason, logprobs: null, message: { refusal: null, ...message } }],
  };
}

describe('openAIRunScriptTool', () => {
  it('defines strict function tools for Chat Completions and the Responses API', () => {
    const runScript = openAIRunScriptTool(harness);
    expect(runScript.name).toBe('run_script');
    expect(runScript.chatTool).toMatchObject({
      type: 'function',
      function: { name: 'run_script', strict: true, parameters: EXPECTED_PARAMETERS },
    });
    expect(runScript.chatTool.function.description).toContain('weather(args: {');
    expect(runScript.responsesTool).toMatchObject({
      type: 'function',
      name: 'run_script',
      strict: true,
      parameters: EXPECTED_PARAMETERS,
    });
    expect(runScript.responsesTool.description).toBe(runScript.chatTool.function.description);
    expect(runScript.chatTool.$parseRaw(JSON.stringify({ code: 'return 1;' }))).toEqual({ code: 'return 1;' });
  });

  it('executes the arguments of a call (JSON text or parsed) into the text of the tool result', async () => {
    const runScript = openAIRunScriptTool(harness);
    const text = await runScript.execute(JSON.stringify({ code: COMPARE }));
    expect(JSON.parse(text)).toEqual({ ok: true, value: { warmer: 'Rome' } });
    expect(await runScript.execute({ code: COMPARE })).toBe(text);
    const failed = JSON.parse(await runScript.execute({ code: 'throw new Error("no");' }));
    expect(failed).toMatchObject({ ok: false, error: { code: 'GUEST_ERROR', message: 'Error: no' } });
  });

  it('is run by the SDK’s own runTools loop, and the model reads the script’s result', async () => {
    const replay = replayFetch([
      completion(
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'run_script', arguments: JSON.stringify({ code: COMPARE }) },
            },
          ],
        },
        'tool_calls',
      ),
      completion({ role: 'assistant', content: 'It is warmer in Rome.' }, 'stop'),
    ]);
    const client = new OpenAI({
      apiKey: 'test-key',
      baseURL: 'http://127.0.0.1:9/v1',
      fetch: replay.fetch,
      maxRetries: 0,
    });
    const runScript = openAIRunScriptTool(harness);
    const runner = client.chat.completions.runTools({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Is it warmer in Oslo or in Rome?' }],
      tools: [runScript.chatTool],
    });
    expect(await runner.finalContent()).toBe('It is warmer in Rome.');
    expect(replay.requests).toHaveLength(2);
    const messages = replay.requests[1]?.messages as { role: string; tool_call_id?: string; content?: string }[];
    const toolMessage = messages.find((message) => message.role === 'tool');
    expect(toolMessage?.tool_call_id).toBe('call_1');
    expect(JSON.parse(toolMessage?.content ?? 'null')).toEqual({ ok: true, value: { warmer: 'Rome' } });
  });
});
