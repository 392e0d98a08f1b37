import { errorData, type HistoryItem, type ScriptResult, type ToolCallRecord } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import {
  formatCallTable,
  formatConsoleLine,
  formatDemoReport,
  formatDuration,
  formatError,
  formatHeading,
  formatHistory,
  formatRunReport,
  formatSource,
  formatValue,
  inCallOrder,
  toJsonReport,
} from './format.ts';

function call(overrides: Partial<ToolCallRecord> & Pick<ToolCallRecord, 'callId' | 'tool'>): ToolCallRecord {
  return { args: {}, status: 'ok', startedAt: 1_000, durationMs: 2, ...overrides };
}

function result(overrides: Partial<ScriptResult> = {}): ScriptResult {
  const calls = overrides.calls ?? [];
  return {
    ok: true,
    calls,
    console: [],
    warnings: [],
    ...overrides,
    metadata: {
      scriptId: 'script-1',
      runtime: 'quickjs',
      durationMs: 12.3456,
      toolCalls: calls.length,
      consoleDropped: 0,
      ...overrides.metadata,
    },
  };
}

describe('formatConsoleLine', () => {
  it('prefixes log and info lines with [script]', () => {
    expect(formatConsoleLine('log', 'hello')).toBe('[script] hello');
    expect(formatConsoleLine('info', 'hello')).toBe('[script] hello');
  });

  it('names other levels and prefixes every line of a multi-line entry', () => {
    expect(formatConsoleLine('warn', 'first\nsecond')).toBe('[script] warn: first\n[script] warn: second');
    expect(formatConsoleLine('error', 'bad')).toBe('[script] error: bad');
  });
});

describe('formatError', () => {
  it('is one paragraph with the code, the position, the message and the remedy', () => {
    const text = formatError(errorData('SYNTAX_ERROR', 'syntax error: Expression expected', { line: 3, column: 21 }));
    expect(text).toBe(
      'SYNTAX_ERROR at line 3, column 21: syntax error: Expression expected. Remedy: Fix the syntax at the reported ' +
        'line and column; use plain types instead of enums and namespaces.',
    );
    expect(text).not.toContain('\n');
  });

  it('leaves out the position when there is none and keeps existing punctuation', () => {
    expect(formatError(errorData('TIMEOUT', 'the script ran past its deadline.'))).toMatch(
      /^TIMEOUT: the script ran past its deadline\. Remedy: Do less per script/,
    );
  });

  it('does not repeat a "line N:" prefix the message already carries', () => {
    const text = formatError(
      errorData('BANNED_CONSTRUCT', 'line 1: `require` is not available', { line: 1, column: 11 }),
    );
    expect(text).toMatch(/^BANNED_CONSTRUCT at line 1, column 11: `require` is not available\. Remedy:/);
  });

  it('adds the script stack and the details only when verbose', () => {
    const error = errorData('GUEST_ERROR', 'Error: boom', {
      line: 5,
      column: 16,
      stack: 'Error: boom\n    at script.ts:5:16',
      details: { hint: 'x' },
    });
    expect(formatError(error)).not.toContain('script.ts:5:16');
    const verbose = formatError(error, { verbose: true });
    expect(verbose.split('\n')[0]).toBe(formatError(error));
    expect(verbose).toContain('Script stack:\n  Error: boom\n      at script.ts:5:16');
    expect(verbose).toContain('Details:\n  {\n    "hint": "x"\n  }');
  });
});

describe('formatValue and formatDuration', () => {
  it('pretty-prints values and says when there is none', () => {
    expect(formatValue({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(formatValue(undefined)).toBe('(the script returned no value)');
    expect(formatValue(null)).toBe('null');
  });

  it('shows milliseconds, then seconds', () => {
    expect(formatDuration(0.2)).toBe('<1 ms');
    expect(formatDuration(12.6)).toBe('13 ms');
    expect(formatDuration(12_345)).toBe('12.3 s');
  });
});

describe('formatCallTable', () => {
  it('says so when there were no calls', () => {
    expect(formatCallTable([])).toBe('Tool calls: none');
  });

  it('aligns the columns, lists calls in call order and shows the error code of a failed call', () => {
    const calls = [
      call({ callId: '2', tool: 'listDir', durationMs: 14.4, startedAt: 1_001 }),
      call({ callId: '1', tool: 'readFile', args: { path: 'a.txt' }, durationMs: 3 }),
      call({
        callId: '3',
        tool: 'writeFile',
        args: { path: '../x', content: 'y' },
        status: 'error',
        error: errorData('POLICY_DENIED', 'outside'),
        durationMs: 0,
      }),
    ];
    expect(formatCallTable(calls)).toBe(
      [
        'Tool calls (3)',
        '  #  tool       status               ms  args',
        '  1  readFile   ok                    3  {"path":"a.txt"}',
        '  2  listDir    ok                   14  {}',
        '  3  writeFile  error POLICY_DENIED   0  {"path":"../x","content":"y"}',
      ].join('\n'),
    );
  });

  it('shortens long arguments', () => {
    const table = formatCallTable([call({ callId: '1', tool: 'writeFile', args: { content: 'x'.repeat(500) } })]);
    const last = table.split('\n').at(-1) ?? '';
    expect(last.endsWith('…')).toBe(true);
    expect(last.length).toBeLessThan(100);
  });
});

describe('inCallOrder', () => {
  it('sorts by the numeric call id, not as text', () => {
    const ids = inCallOrder([call({ callId: '10', tool: 'a' }), call({ callId: '9', tool: 'b' })]).map((c) => c.callId);
    expect(ids).toEqual(['9', '10']);
  });
});

describe('toJsonReport', () => {
  it('keeps the documented fields of a success and rounds durations', () => {
    const report = toJsonReport(
      result({
        value: { answer: 42 },
        calls: [
          call({ callId: '2', tool: 'listDir', durationMs: 1.23456, value: { entries: [] } }),
          call({ callId: '1', tool: 'readFile', durationMs: 2 }),
        ],
        console: [{ level: 'log', text: 'hi', atMs: 3 }],
      }),
    );
    expect(report).toEqual({
      ok: true,
      value: { answer: 42 },
      calls: [
        { callId: '1', tool: 'readFile', args: {}, status: 'ok', durationMs: 2 },
        { callId: '2', tool: 'listDir', args: {}, status: 'ok', durationMs: 1.23 },
      ],
      console: [{ level: 'log', text: 'hi' }],
      warnings: [],
      metadata: { durationMs: 12.35, toolCalls: 2, runtime: 'quickjs' },
    });
  });

  it('reduces an error to code, message, line and column (no stack, no details)', () => {
    const report = toJsonReport(
      result({
        ok: false,
        error: errorData('GUEST_ERROR', 'Error: boom', { line: 2, column: 7, stack: 'at script.ts:2:7', details: {} }),
      }),
    );
    expect(report.error).toEqual({ code: 'GUEST_ERROR', message: 'Error: boom', line: 2, column: 7 });
    expect('value' in report).toBe(false);
  });
});

describe('formatRunReport', () => {
  it('shows the headline, the value and the tool calls', () => {
    const text = formatRunReport(result({ value: 42, calls: [call({ callId: '1', tool: 'readFile' })] }));
    expect(text).toBe(
      [
        'Result: ok (12 ms, 1 tool call, quickjs)',
        '42',
        '',
        'Tool calls (1)',
        '  #  tool      status  ms  args',
        '  1  readFile  ok       2  {}',
        '',
      ].join('\n'),
    );
  });

  it('shows the error paragraph, warnings and dropped console lines of a failure', () => {
    const text = formatRunReport(
      result({
        ok: false,
        error: errorData('TIMEOUT', 'the script ran past its deadline'),
        warnings: [{ code: 'DETACHED_PROMISE', message: '1 tool call(s) were still running' }],
        metadata: { scriptId: 's', runtime: 'quickjs', durationMs: 301, toolCalls: 0, consoleDropped: 4 },
      }),
    );
    expect(text).toContain(
      'Result: failed (301 ms, 0 tool calls, quickjs)\nTIMEOUT: the script ran past its deadline.',
    );
    expect(text).toContain('Warning: DETACHED_PROMISE: 1 tool call(s) were still running.');
    expect(text).toContain('Note: 4 console line(s) were dropped');
    expect(text).toContain('Tool calls: none');
    expect(text).not.toContain('Script id');
  });

  it('adds the script id and memory when verbose', () => {
    const text = formatRunReport(
      result({
        value: 1,
        metadata: {
          scriptId: 'abc',
          runtime: 'quickjs',
          durationMs: 1,
          toolCalls: 0,
          consoleDropped: 0,
          memoryBytes: 2_097_152,
        },
      }),
      { verbose: true },
    );
    expect(text).toContain('Script id abc, memory 2.0 MiB');
  });
});

describe('formatHeading and formatSource', () => {
  it('draws a rule of constant width', () => {
    expect(formatHeading('text')).toHaveLength(72);
    expect(formatHeading('text').startsWith('── text ─')).toBe(true);
  });

  it('numbers source lines with aligned numbers and no trailing spaces', () => {
    const source = Array.from({ length: 10 }, (_, index) => (index === 1 ? '' : `line${index + 1}`)).join('\n');
    const lines = formatSource(source).split('\n');
    expect(lines[0]).toBe(' 1 | line1');
    expect(lines[1]).toBe(' 2 |');
    expect(lines[9]).toBe('10 | line10');
  });
});

describe('formatHistory', () => {
  const run = result({
    value: { files: 2 },
    calls: [call({ callId: '1', tool: 'listDir' })],
    metadata: { scriptId: 'run-1', runtime: 'quickjs', durationMs: 5, toolCalls: 1, consoleDropped: 0 },
  });
  const items: HistoryItem[] = [
    { type: 'reasoning', text: '\nI should list the files.\n' },
    { type: 'text', text: 'Listing the files.\n\n' },
    { type: 'script_tool_call', id: 'sc_1', callId: 'call_1', language: 'ts', source: 'return 1', sha256: 'x' },
    {
      type: 'script_tool_call_output',
      callId: 'call_1',
      ok: true,
      value: { files: 2 },
      console: [{ level: 'log', text: 'found 2' }],
      metadata: run.metadata,
    },
    { type: 'text', text: 'Done.' },
  ];

  it('prints every item in message order, with the tool calls before the output', () => {
    const text = formatHistory(items, [run]);
    const order = [
      '── reasoning',
      'I should list the files.',
      '── text',
      'Listing the files.',
      '── script (ts, call_1)',
      '1 | return 1',
      '── tool calls',
      '  1  listDir',
      '── script output (ok, 5 ms)',
      '[script] found 2',
      '"files": 2',
      '── text',
      'Done.',
    ];
    let from = 0;
    for (const fragment of order) {
      const at = text.indexOf(fragment, from);
      expect(at, fragment).toBeGreaterThanOrEqual(from);
      from = at + fragment.length;
    }
  });

  it('shows a failed block with its error and no table when it never ran', () => {
    const text = formatHistory(
      [
        { type: 'script_tool_call', id: 'sc_2', callId: 'call_2', language: 'ts', source: 'x', sha256: 'y' },
        {
          type: 'script_tool_call_output',
          callId: 'call_2',
          ok: false,
          error: errorData('DETECTION_ERROR', '<tool-calls> is never closed with </tool-calls>'),
        },
      ],
      [],
    );
    expect(text).toContain('── script output (failed) ');
    expect(text).toContain('DETECTION_ERROR: <tool-calls> is never closed with </tool-calls>. Remedy:');
    expect(text).not.toContain('── tool calls');
  });
});

describe('formatDemoReport', () => {
  it('ends with the files the script wrote and a one-line summary', () => {
    const text = formatDemoReport({
      execution: { items: [], results: [result({ calls: [call({ callId: '1', tool: 'writeFile' })] })] },
      written: [{ path: 'SUMMARY.md', content: '# Summary\n' }],
      ok: true,
    });
    expect(text).toContain('── file written by the script: SUMMARY.md ');
    expect(text).toContain('# Summary');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      '1 script succeeded with 1 tool call; the temporary workspace was removed.',
    );
  });
});
