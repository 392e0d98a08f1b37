import { describe, expect, it } from 'vitest';
import { applyRunEvent, endedRun, type RunState, startedRun } from './run-state.ts';
import type { ScriptResult } from './types.ts';

function result(overrides: Partial<ScriptResult> = {}): ScriptResult {
  return {
    ok: true,
    value: 3,
    calls: [],
    console: [],
    warnings: [],
    metadata: { scriptId: 's1', runtime: 'quickjs', durationMs: 12, toolCalls: 0, consoleDropped: 0 },
    ...overrides,
  };
}

function fold(events: { event: string; data: unknown }[]): RunState {
  return events.reduce(applyRunEvent, startedRun());
}

describe('applyRunEvent', () => {
  it('keeps console lines, progress, tool calls and approvals in the order they came', () => {
    const state = fold([
      { event: 'script_started', data: { scriptId: 's1' } },
      { event: 'console', data: { scriptId: 's1', level: 'log', text: 'hello' } },
      { event: 'tool_call', data: { scriptId: 's1', callId: '1', tool: 'echo', args: { text: 'x' } } },
      { event: 'progress', data: { scriptId: 's1', message: 'half way' } },
      { event: 'approval_requested', data: { id: 'a1', scriptId: 's1', callId: '2', tool: 'writeFile' } },
      { event: 'tool_result', data: { scriptId: 's1', callId: '1', tool: 'echo', status: 'ok', durationMs: 4 } },
    ]);
    expect(state.phase).toBe('running');
    expect(state.scriptId).toBe('s1');
    expect(state.entries.map((entry) => entry.kind)).toEqual(['console', 'tool', 'progress', 'approval']);
    expect(state.entries[1]).toEqual({
      kind: 'tool',
      callId: '1',
      tool: 'echo',
      args: { text: 'x' },
      status: 'ok',
      durationMs: 4,
    });
  });

  it('ends with the final result and fills in the values of the calls', () => {
    const state = fold([
      { event: 'tool_call', data: { callId: '1', tool: 'echo', args: { text: 'x' } } },
      {
        event: 'script_completed',
        data: {
          scriptId: 's1',
          result: result({
            calls: [
              {
                callId: '1',
                tool: 'echo',
                args: { text: 'x' },
                status: 'ok',
                value: { text: 'x' },
                startedAt: 0,
                durationMs: 2,
              },
              { callId: '2', tool: 'echo', args: { text: 'y' }, status: 'error', startedAt: 2, durationMs: 1 },
            ],
          }),
        },
      },
    ]);
    expect(state.phase).toBe('done');
    expect(state.result?.value).toBe(3);
    expect(state.entries).toMatchObject([
      { kind: 'tool', callId: '1', value: { text: 'x' }, status: 'ok' },
      { kind: 'tool', callId: '2', status: 'error' },
    ]);
  });

  it('keeps a script error as the result, and ignores unknown events', () => {
    const failed = result({
      ok: false,
      error: { code: 'GUEST_ERROR', message: 'boom', retryable: false, phase: 'execute', line: 2 },
    });
    const state = fold([
      { event: 'something_new', data: {} },
      { event: 'script_error', data: { scriptId: 's1', result: failed } },
    ]);
    expect(state.result?.error?.line).toBe(2);
    expect(state.entries).toEqual([]);
  });

  it('reports a stream that ended without a result', () => {
    expect(endedRun(startedRun()).failure?.code).toBe('STREAM_ENDED');
    const done = fold([{ event: 'script_completed', data: { result: result() } }]);
    expect(endedRun(done)).toBe(done);
  });
});
