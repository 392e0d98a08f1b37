import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectScripts } from './detect.ts';

const kinds = (text: string) => detectScripts(text).map((segment) => segment.type);

describe('detectScripts', () => {
  it('finds a tag block and keeps the text around it in order', () => {
    const segments = detectScripts('Before.\n<tool-calls>\nreturn 1;\n</tool-calls>\nAfter.');
    expect(segments.map((s) => s.type)).toEqual(['text', 'script', 'text']);
    expect(segments[1]).toMatchObject({ type: 'script', source: 'return 1;', language: 'ts', form: 'tag' });
  });

  it('F19: finds fenced ```ts tool-calls and ```js tool-calls blocks', () => {
    const segments = detectScripts(
      'a\n```ts tool-calls\nconst x: number = 1;\n```\nb\n```js tool-calls\nreturn 2\n```\n',
    );
    const scripts = segments.filter((s) => s.type === 'script');
    expect(scripts).toMatchObject([
      { source: 'const x: number = 1;', language: 'ts', form: 'fence' },
      { source: 'return 2', language: 'js', form: 'fence' },
    ]);
  });

  it('ignores look-alikes inside other fenced code', () => {
    const text = 'Example:\n```html\n<tool-calls>return 1</tool-calls>\n```\n```ts\n// ```ts tool-calls\n```\nend';
    expect(kinds(text)).toEqual(['text']);
  });

  it('keeps <thinking> as reasoning and never runs blocks inside it', () => {
    const segments = detectScripts('<thinking>maybe <tool-calls>x</tool-calls></thinking>Answer');
    expect(segments).toMatchObject([
      { type: 'reasoning', text: 'maybe <tool-calls>x</tool-calls>' },
      { type: 'text', text: 'Answer' },
    ]);
  });

  it('unwraps a fence inside a tag block and takes its language', () => {
    const segments = detectScripts('<tool-calls>\n```js\nreturn 1\n```\n</tool-calls>');
    expect(segments).toMatchObject([{ type: 'script', source: 'return 1', language: 'js' }]);
  });

  it('reports nested, unclosed and stray tags as malformed with a clear message', () => {
    expect(detectScripts('<tool-calls> a <tool-calls> b </tool-calls> c </tool-calls> tail')).toMatchObject([
      { type: 'malformed', message: expect.stringContaining('nested') },
      { type: 'text', text: ' tail' },
    ]);
    expect(detectScripts('x <tool-calls> never closed')).toMatchObject([
      { type: 'text', text: 'x ' },
      { type: 'malformed', message: expect.stringContaining('never closed') },
    ]);
    expect(detectScripts('oops </tool-calls> more')).toMatchObject([
      { type: 'text', text: 'oops ' },
      { type: 'malformed', message: expect.stringContaining('without a matching') },
      { type: 'text', text: ' more' },
    ]);
    expect(detectScripts('```ts tool-calls\nreturn 1\n')).toMatchObject([{ type: 'malformed' }]);
  });

  it('F20: several blocks come out in order with positions', () => {
    const text = '<tool-calls>return 1</tool-calls> and <tool-calls>return 2</tool-calls>';
    const segments = detectScripts(text);
    expect(segments.map((s) => s.type)).toEqual(['script', 'text', 'script']);
    for (const segment of segments) expect(text.slice(segment.start, segment.end).length).toBeGreaterThan(0);
  });

  it('property: never throws, covers the input in order, and is deterministic for any text', () => {
    const pieces = fc.oneof(
      fc.constantFrom(
        '<tool-calls>',
        '</tool-calls>',
        '<thinking>',
        '</thinking>',
        '```',
        '```ts tool-calls',
        '```js tool-calls',
        '~~~',
        '\n',
        ' ',
        'return 1;',
      ),
      fc.string(),
      fc.string({ unit: 'binary' }),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const segments = detectScripts(text);
        let last = 0;
        for (const segment of segments) {
          expect(segment.start).toBeGreaterThanOrEqual(last);
          expect(segment.end).toBeGreaterThanOrEqual(segment.start);
          expect(segment.end).toBeLessThanOrEqual(text.length);
          last = segment.end;
        }
        expect(detectScripts(text)).toEqual(segments);
      }),
      { numRuns: 2_000 },
    );
  });

  it('handles a multi-megabyte single line without blowing up', () => {
    const text = `${'a'.repeat(2_000_000)}<tool-calls>return 1</tool-calls>`;
    expect(kinds(text)).toEqual(['text', 'script']);
  });

  it('a fence after an unclosed nested block does not overlap the malformed region (found by the fuzzer)', () => {
    const text = '<tool-calls>a<tool-calls>\n```js tool-calls';
    const segments = detectScripts(text);
    let last = 0;
    for (const segment of segments) {
      expect(segment.start).toBeGreaterThanOrEqual(last);
      last = segment.end;
    }
    expect(segments.map((segment) => segment.type)).toEqual(['malformed']);
  });
});
