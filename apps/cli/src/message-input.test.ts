import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTurn } from './message-input.ts';
import { UsageError } from './options.ts';
import { REPO_ROOT } from './test-support.ts';

const RECORDED = join(REPO_ROOT, 'packages', 'core', 'src', 'testing', 'recorded');

describe('parseTurn', () => {
  it.each([
    ['openai-responses.json', 'openai-responses'],
    ['openai-chat.json', 'openai-chat'],
    ['anthropic-tool-use.json', 'anthropic'],
    ['anthropic-stream.json', 'anthropic-stream'],
  ])('recognises the recorded %s as %s', async (file, format) => {
    const turn = parseTurn(await readFile(join(RECORDED, file), 'utf8'));
    expect(turn.format).toBe(format);
    expect(turn.parts.some((part) => part.kind === 'text' && part.text.includes('tool-calls'))).toBe(true);
  });

  it('takes anything that is not JSON as plain text, braces included', () => {
    expect(parseTurn('Hello <tool-calls>return 1</tool-calls>')).toEqual({
      format: 'text',
      parts: [{ kind: 'text', text: 'Hello <tool-calls>return 1</tool-calls>' }],
    });
    expect(parseTurn('{ this is prose }').format).toBe('text');
    expect(parseTurn('"a JSON string"').format).toBe('text');
  });

  it('recognises a bare Chat Completions assistant message', () => {
    const turn = parseTurn(JSON.stringify({ role: 'assistant', content: 'Sure.', reasoning_content: 'Think.' }));
    expect(turn).toEqual({
      format: 'openai-chat',
      parts: [
        { kind: 'reasoning', text: 'Think.' },
        { kind: 'text', text: 'Sure.' },
      ],
    });
  });

  it('refuses JSON of an unknown shape, and a named format the content does not have', () => {
    expect(() => parseTurn('{"hello":"world"}')).toThrow(UsageError);
    expect(() => parseTurn('[1, 2]')).toThrow(/pass --format/);
    expect(() => parseTurn('{"output": []}', 'anthropic')).toThrow(/does not look like an Anthropic message/);
    expect(() => parseTurn('plain', 'openai-chat')).toThrow(/not valid JSON for --format openai-chat/);
  });

  it('--format text keeps JSON as the text it is', () => {
    expect(parseTurn('{"output": []}', 'text')).toEqual({
      format: 'text',
      parts: [{ kind: 'text', text: '{"output": []}' }],
    });
  });
});
