import { describe, expect, it } from 'vitest';
import type { HistoryItem } from './message.ts';
import {
  collectAnthropicStream,
  fromChatCompletion,
  fromOpenAIResponse,
  SCRIPT_TOOL_NAME,
  scriptOutputText,
  toAnthropicMessages,
  toChatMessages,
  toOpenAIResponseInput,
} from './providers.ts';

const history: HistoryItem[] = [
  { type: 'text', text: 'Before. ' },
  { type: 'script_tool_call', id: 'sc_1', callId: 'call_1', language: 'ts', source: 'return 1;', sha256: 'x' },
  { type: 'script_tool_call_output', callId: 'call_1', ok: true, value: 1 },
  { type: 'text', text: 'After.' },
];

describe('provider formats', () => {
  it('reads function calls with malformed arguments as raw text for the agent loop to handle', () => {
    const parts = fromOpenAIResponse({
      output: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":' }],
    });
    expect(parts).toEqual([{ kind: 'tool_call', id: 'c1', name: 'f', arguments: '{"a":' }]);
  });

  it('reads chat messages given directly or as a completion, content parts included', () => {
    expect(fromChatCompletion({ role: 'assistant', content: [{ type: 'text', text: 'hi' }] })).toEqual([
      { kind: 'text', text: 'hi' },
    ]);
    expect(fromChatCompletion({ choices: [] })).toEqual([]);
  });

  it('folds streamed tool_use input from partial JSON', () => {
    const message = collectAnthropicStream([
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't1', name: 'lookup', input: {} },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"day":' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '"mon"}' } },
      { type: 'content_block_stop', index: 0 },
    ]);
    expect(message.content).toEqual([{ type: 'tool_use', id: 't1', name: 'lookup', input: { day: 'mon' } }]);
  });

  it('writes a script as the provider’s tool call and tool result, in order', () => {
    expect(toOpenAIResponseInput(history)).toEqual([
      { role: 'assistant', content: 'Before. ' },
      {
        type: 'function_call',
        call_id: 'call_1',
        name: SCRIPT_TOOL_NAME,
        arguments: '{"code":"return 1;","language":"ts"}',
      },
      { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true,"value":1}' },
      { role: 'assistant', content: 'After.' },
    ]);
    expect(toChatMessages(history)).toEqual([
      {
        role: 'assistant',
        content: 'Before. ',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: SCRIPT_TOOL_NAME, arguments: '{"code":"return 1;","language":"ts"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true,"value":1}' },
      { role: 'assistant', content: 'After.' },
    ]);
    expect(toAnthropicMessages(history)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Before. ' },
          { type: 'tool_use', id: 'call_1', name: SCRIPT_TOOL_NAME, input: { code: 'return 1;', language: 'ts' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '{"ok":true,"value":1}' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'After.' }] },
    ]);
  });

  it('tells the model about failures with what completed, and about dry runs', () => {
    expect(
      JSON.parse(
        scriptOutputText({
          type: 'script_tool_call_output',
          callId: 'c',
          ok: false,
          error: { code: 'TIMEOUT', message: 'late', retryable: false, phase: 'execute' },
          partial: [{ callId: '1', tool: 'add', args: {}, status: 'ok', value: 3, startedAt: 0, durationMs: 1 }],
          console: [{ level: 'log', text: 'hello' }],
        }),
      ),
    ).toEqual({
      ok: false,
      error: { code: 'TIMEOUT', message: 'late', retryable: false, phase: 'execute' },
      partialResults: [{ tool: 'add', value: 3 }],
      console: ['hello'],
    });
    expect(
      JSON.parse(
        scriptOutputText({
          type: 'script_tool_call_output',
          callId: 'c',
          ok: true,
          report: { ok: true, findings: [], referencedTools: [] },
        }),
      ),
    ).toEqual({ dryRun: true, ok: true, findings: [] });
  });
});
