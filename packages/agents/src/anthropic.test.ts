import Anthropic from '@anthropic-ai/sdk';
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import type { Harness } from '@script-harness/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicRunScriptTool } from './anthropic.ts';
import { createTestHarness } from './testing/harness.ts';
import { replayFetch } from './testing/replay-fetch.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await createTestHarness();
});
afterAll(() => harness.close());

const COMPARE = `const [oslo, rome] = await Promise.all([tools.weather({ city: 'Oslo' }), tools.weather({ city: 'Rome' })]);
return { warmer: oslo.celsius > rome.celsius ? oslo.city : rome.city };`;

function message(content: unknown[], stopReason: string) {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 20 },
  };
}

describe('anthropicRunScriptTool', () => {
  it('defines a tool whose input schema is the runnable tool’s', () => {
    const runScript = anthropicRunScriptTool(harness);
    expect(runScript.definition).toMatchObject({
      name: 'run_script',
      input_schema: {
        type: 'object',
        properties: { code: { type: 'string', minLength: 1 } },
        required: ['code'],
      },
    });
    expect(runScript.definition.description).toContain('weather(args: {');
    expect(runScript.runnable).toMatchObject({
      type: 'custom',
      name: 'run_script',
      description: runScript.definition.description,
      input_schema: runScript.definition.input_schema,
    });
    expect(runScript.runnable.parse({ code: 'return 1;' })).toEqual({ code: 'return 1;' });
    expect(() => runScript.runnable.parse({ source: 'return 1;' })).toThrow();
  });

  it('answers a tool_use block with its tool_result, marking a failed script as an error', async () => {
    const runScript = anthropicRunScriptTool(harness);
    const ok = await runScript.toolResult({ id: 'toolu_1', input: { code: COMPARE } });
    expect(ok).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      content: JSON.stringify({ ok: true, value: { warmer: 'Rome' } }),
    });
    const failed = await runScript.toolResult({
      id: 'toolu_2',
      input: { code: `await tools.weather({ city: 'Mars' });` },
    });
    expect(failed).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_2', is_error: true });
    expect(JSON.parse(failed.content as string).error.code).toBe('TOOL_ERROR');
    expect(await runScript.execute({ code: COMPARE })).toBe(ok.content);
  });

  it('runs in the runnable form: a failed script throws the ToolError the runner reports as is_error', async () => {
    const runScript = anthropicRunScriptTool(harness);
    expect(JSON.parse((await runScript.runnable.run({ code: COMPARE })) as string)).toEqual({
      ok: true,
      value: { warmer: 'Rome' },
    });
    const failure = await Promise.resolve()
      .then(() => runScript.runnable.run({ code: 'return missing;' }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(ToolError);
    expect(JSON.parse((failure as ToolError).content as string).error.code).toBe('GUEST_ERROR');
  });

  it('is run by the SDK’s own tool runner, and the model reads the script’s result', async () => {
    const replay = replayFetch([
      message([{ type: 'tool_use', id: 'toolu_1', name: 'run_script', input: { code: COMPARE } }], 'tool_use'),
      message([{ type: 'text', text: 'It is warmer in Rome.' }], 'end_turn'),
    ]);
    const client = new Anthropic({
      apiKey: 'test-key',
      baseURL: 'http://127.0.0.1:9',
      fetch: replay.fetch,
      maxRetries: 0,
    });
    const runScript = anthropicRunScriptTool(harness);
    const final = await client.beta.messages.toolRunner({
      model: 'claude-sonnet-5',
      max_tokens: 1024,
      thread: false,
      messages: [{ role: 'user', content: 'Is it warmer in Oslo or in Rome?' }],
      tools: [runScript.runnable],
    });
    expect(final.content).toEqual([{ type: 'text', text: 'It is warmer in Rome.' }]);
    expect(replay.requests).toHaveLength(2);
    const sent = replay.requests[1]?.messages as { role: string; content: unknown }[];
    const results = sent.flatMap((entry) =>
      Array.isArray(entry.content)
        ? (entry.content as { type: string; tool_use_id?: string; content?: unknown }[]).filter(
            (block) => block.type === 'tool_result',
          )
        : [],
    );
    expect(results).toHaveLength(1);
    expect(results[0]?.tool_use_id).toBe('toolu_1');
    const content = results[0]?.content;
    const text =
      typeof content === 'string' ? content : (content as { text: string }[]).map((block) => block.text).join('');
    expect(JSON.parse(text)).toEqual({ ok: true, value: { warmer: 'Rome' } });
  });
});
