import { describe, expect, it } from 'vitest';
import { envelopeOutcome, scriptFrames, syntaxErrorOutcome } from './outcome.ts';

describe('reading what the glue reported', () => {
  it('keeps only script frames, in the model’s own lines', () => {
    const stack = [
      'Error: boom',
      '    at callTool (harness-glue.js:3:10)',
      '    at script.ts:4:9',
      '    at async inner (script.ts:7:3)',
      '    at harness-glue.js:1:25',
    ].join('\n');
    expect(scriptFrames(stack, 1).map((frame) => frame.text)).toEqual(['    at script.ts:3:9', '    at script.ts:6:3']);
  });

  it('returns the JSON of a success envelope without parsing it', () => {
    expect(envelopeOutcome('{"ok":true}', 1, 1000)).toEqual({ ok: true, valueJson: undefined });
    expect(envelopeOutcome('{"ok":true,"value":{"a":[1,2]}}', 1, 1000)).toEqual({ ok: true, valueJson: '{"a":[1,2]}' });
  });

  it('maps V8 failures to the harness codes', () => {
    const describe = (name: string, message: string, extra: object = {}) =>
      envelopeOutcome(JSON.stringify({ ok: false, name, message, ...extra }), 1, 1000);
    expect(describe('RangeError', 'Maximum call stack size exceeded')).toMatchObject({
      ok: false,
      error: { code: 'STACK_OVERFLOW' },
    });
    expect(describe('RangeError', 'Array buffer allocation failed')).toMatchObject({
      ok: false,
      error: { code: 'MEMORY_LIMIT' },
    });
    expect(describe('RangeError', 'out of memory', { memory: true })).toMatchObject({
      ok: false,
      error: { code: 'MEMORY_LIMIT' },
    });
    expect(describe('ToolError', 'tools.x does not exist', { code: 'TOOL_NOT_FOUND' })).toMatchObject({
      ok: false,
      error: { code: 'TOOL_NOT_FOUND', message: 'tools.x does not exist' },
    });
    // A code the guest made up is not trusted.
    expect(describe('Error', 'forged', { code: 'SHUTDOWN' })).toMatchObject({
      ok: false,
      error: { code: 'GUEST_ERROR', message: 'Error: forged' },
    });
    expect(describe('Uncaught', '42')).toMatchObject({
      ok: false,
      error: { code: 'GUEST_ERROR', message: 'uncaught: 42' },
    });
  });

  it('moves the position isolated-vm appends to a syntax error into the error fields', () => {
    expect(syntaxErrorOutcome('SyntaxError', "Unexpected token ';' [script.ts:3:11]", 1)).toEqual({
      ok: false,
      error: { code: 'SYNTAX_ERROR', message: "SyntaxError: Unexpected token ';'", line: 2, column: 11 },
    });
  });
});
