/**
 * End-to-end turns from recorded provider responses (no network): each turn is read from the
 * provider's own format, its script blocks run on the runtime under test, and the history is
 * written back in the provider's shape. Part of the runtime conformance suite.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HistoryItem } from '../message.ts';
import { executeTurn } from '../message.ts';
import {
  type AnthropicMessage,
  type AnthropicStreamEvent,
  type ChatCompletion,
  collectAnthropicStream,
  fromAnthropicMessage,
  fromChatCompletion,
  fromOpenAIResponse,
  type OpenAIResponse,
  SCRIPT_TOOL_NAME,
  toAnthropicMessages,
  toChatMessages,
  toOpenAIResponseInput,
} from '../providers.ts';
import type { RuntimeAdapter } from '../runtime.ts';
import { createConformanceHarness } from './fixtures.ts';

function recorded<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./recorded/${name}`, import.meta.url), 'utf8')) as T;
}

const GENERATED_ID = /^(?:call_|sc_)[0-9a-f]+$|^\d+$|^[0-9a-f]{8}-[0-9a-f]{4}-/;

/** History with the fields that differ between runs (ids, timings, hashes of ids) replaced. */
export function stableHistory(items: readonly HistoryItem[]): unknown {
  const ids = new Map<string, string>();
  const id = (value: string) => {
    if (!ids.has(value)) ids.set(value, `id${ids.size + 1}`);
    return ids.get(value);
  };
  return JSON.parse(
    JSON.stringify(items, (key, value) => {
      // Only ids the harness generates vary between runs; the provider's own ids are part of the record.
      if (
        (key === 'callId' || key === 'id' || key === 'scriptId') &&
        typeof value === 'string' &&
        GENERATED_ID.test(value)
      ) {
        return id(value);
      }
      if (key === 'durationMs' || key === 'startedAt' || key === 'atMs' || key === 'memoryBytes') return 0;
      return value;
    }),
  );
}

export function providerIntegrationSuite(getRuntime: () => RuntimeAdapter): void {
  describe('provider turns (recorded fixtures)', () => {
    it('I1: OpenAI Responses: reasoning + text + script + text end to end', async () => {
      const { harness } = createConformanceHarness(getRuntime());
      const turn = await executeTurn(harness, fromOpenAIResponse(recorded<OpenAIResponse>('openai-responses.json')));
      expect(turn.items.map((item) => item.type)).toEqual([
        'reasoning',
        'text',
        'script_tool_call',
        'script_tool_call_output',
        'text',
      ]);
      expect(turn.items[3]).toMatchObject({ ok: true, value: { a: 5, b: 30, total: 35 } });
      const next = toOpenAIResponseInput(turn.items);
      expect(next.map((item) => ('type' in item ? item.type : item.role))).toEqual([
        'reasoning',
        'assistant',
        'function_call',
        'function_call_output',
        'assistant',
      ]);
      expect(next[0]).toMatchObject({ id: 'rs_0c4e1f2a9b7d4e31', encrypted_content: expect.any(String) });
      expect(next[2]).toMatchObject({ name: SCRIPT_TOOL_NAME });
      expect(JSON.parse((next[3] as { output: string }).output)).toEqual({
        ok: true,
        value: { a: 5, b: 30, total: 35 },
      });
    });

    it('I2: OpenAI Chat Completions: the block is found in the assistant content and run', async () => {
      const { harness } = createConformanceHarness(getRuntime());
      const turn = await executeTurn(harness, fromChatCompletion(recorded<ChatCompletion>('openai-chat.json')));
      expect(turn.results.map((result) => result.value)).toEqual([42]);
      const messages = toChatMessages(turn.items);
      // The script's call and result come first; the ordinary call follows for the agent loop to answer.
      expect(messages).toMatchObject([
        {
          role: 'assistant',
          content: expect.stringContaining('Checking the weather'),
          tool_calls: [{ type: 'function', function: { name: SCRIPT_TOOL_NAME } }],
        },
        { role: 'tool', content: '{"ok":true,"value":42}' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_Kx81pQe3', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
        },
      ]);
    });

    it('I3: Anthropic Messages: thinking blocks + script, streamed', async () => {
      const { harness } = createConformanceHarness(getRuntime());
      const message = collectAnthropicStream(recorded<AnthropicStreamEvent[]>('anthropic-stream.json'));
      expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text']);
      const turn = await executeTurn(harness, fromAnthropicMessage(message));
      expect(turn.items.map((item) => item.type)).toEqual([
        'reasoning',
        'text',
        'script_tool_call',
        'script_tool_call_output',
        'text',
      ]);
      expect(turn.results[0]?.value).toBe(42);
      const next = toAnthropicMessages(turn.items);
      expect(next.map((m) => [m.role, m.content.map((block) => block.type)])).toEqual([
        ['assistant', ['thinking', 'text', 'tool_use']],
        ['user', ['tool_result']],
        ['assistant', ['text']],
      ]);
      expect(next[0]?.content[0]).toMatchObject({ signature: 'EqQBCkYIBRgCKkBsaWduYXR1cmUtcmVjb3JkZWQ=' });
    });

    it('I4: a turn with both ordinary structured tool calls and a script block', async () => {
      const { harness } = createConformanceHarness(getRuntime());
      const turn = await executeTurn(harness, fromChatCompletion(recorded<ChatCompletion>('openai-chat.json')));
      expect(turn.items.map((item) => item.type)).toEqual([
        'text',
        'script_tool_call',
        'script_tool_call_output',
        'tool_call',
      ]);
      expect(turn.items[3]).toMatchObject({
        type: 'tool_call',
        id: 'call_Kx81pQe3',
        name: 'get_weather',
        arguments: { city: 'Oslo' },
      });
    });

    it('I6: a timeout surfaces in the history as an error item with partial results', async () => {
      const { harness, observations } = createConformanceHarness(getRuntime(), { limits: { timeoutMs: 300 } });
      const turn = await executeTurn(
        harness,
        fromAnthropicMessage(recorded<AnthropicMessage>('anthropic-tool-use.json')),
      );
      const output = turn.items.find((item) => item.type === 'script_tool_call_output');
      expect(output).toMatchObject({ ok: false, error: { code: 'TIMEOUT' }, partial: [{ tool: 'add', value: 3 }] });
      expect(observations.aborted).toEqual(['stuck']);
      const next = toAnthropicMessages(turn.items);
      const result = next.flatMap((m) => m.content).find((block) => block.type === 'tool_result');
      expect(result).toMatchObject({ is_error: true });
      expect(JSON.parse((result as { content: string }).content)).toMatchObject({
        ok: false,
        error: { code: 'TIMEOUT' },
        partialResults: [{ tool: 'add', value: 3 }],
      });
      expect(turn.items.at(-1)).toMatchObject({ type: 'tool_call', name: 'calendar_lookup' });
    });

    it('I10: a full turn’s history is stable and ordered', async () => {
      const run = async () => {
        const { harness } = createConformanceHarness(getRuntime());
        return stableHistory(
          (await executeTurn(harness, fromOpenAIResponse(recorded<OpenAIResponse>('openai-responses.json')))).items,
        );
      };
      const first = await run();
      expect(await run()).toEqual(first);
      expect(first).toMatchObject([
        { type: 'reasoning', text: 'Two independent lookups: run them together in one script.' },
        { type: 'text', text: "I'll add both pairs at once.\n" },
        {
          type: 'script_tool_call',
          id: 'id1',
          callId: 'id2',
          language: 'ts',
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        {
          type: 'script_tool_call_output',
          callId: 'id2',
          ok: true,
          value: { a: 5, b: 30, total: 35 },
          calls: [
            { callId: 'id3', tool: 'add', args: { a: 2, b: 3 }, status: 'ok', value: 5, durationMs: 0 },
            { callId: 'id4', tool: 'add', args: { a: 10, b: 20 }, status: 'ok', value: 30, durationMs: 0 },
          ],
        },
        { type: 'text', text: '\nThe totals are above.' },
      ]);
    });
  });
}
