import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareScript } from './prepare.ts';

const prepare = (source: string | Uint8Array, language: 'ts' | 'js' = 'ts') =>
  prepareScript(source, { language, maxSourceBytes: 20 * 1024 });

describe('prepareScript', () => {
  it('strips types while keeping every line and column in place', () => {
    const result = prepare('interface A { x: number }\nconst a: A = { x: 1 };\nreturn a.x as number;');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const lines = result.script.code.split('\n');
    expect(lines).toHaveLength(5); // wrapper line + 3 script lines + closing line
    expect(lines[2]).toMatch(/^const a {4}= \{ x: 1 \};$/);
  });

  it('F29: reports a syntax error at the model’s own line and column', () => {
    expect(prepare('const a = 1;\nconst b = ;')).toMatchObject({
      ok: false,
      error: { code: 'SYNTAX_ERROR', line: 2, column: 11 },
    });
    expect(prepare('let x = (;', 'js')).toMatchObject({ ok: false, error: { code: 'SYNTAX_ERROR', line: 1 } });
  });

  it('explains that enums and namespaces are not erasable', () => {
    const result = prepare('enum Color { Red }');
    expect(result).toMatchObject({ ok: false, error: { code: 'SYNTAX_ERROR' } });
    expect(result.ok ? '' : result.error.message).toContain('union types');
  });

  it('S3, S4: finds banned constructs in the AST, not in strings or comments', () => {
    const banned = prepare('const fs = require("fs");\nconst m = await import("x");\n\neval("1");\nnew Function("x");');
    expect(banned.ok).toBe(false);
    if (banned.ok) return;
    expect(banned.findings.map((f) => [f.construct, f.line])).toEqual([
      ['require', 1],
      ['import', 2],
      ['eval', 4],
      ['Function', 5],
    ]);
    expect(prepare('// require("fs")\nconst s = "import x from y; eval(1)";\nreturn s;').ok).toBe(true);
    expect(prepare('const x = \\u0065val("1");').ok).toBe(false);
    // Scripts are strict: `with` cannot even be parsed.
    expect(prepare('with (Math) {}', 'js')).toMatchObject({ ok: false, error: { code: 'SYNTAX_ERROR', line: 1 } });
  });

  it('refuses oversized, non-UTF-8 and NUL-containing sources', () => {
    expect(prepare('x'.repeat(20 * 1024 + 1))).toMatchObject({ ok: false, error: { code: 'SOURCE_TOO_LARGE' } });
    expect(prepare('é'.repeat(10 * 1024 + 1))).toMatchObject({ ok: false, error: { code: 'SOURCE_TOO_LARGE' } });
    expect(prepare(new Uint8Array([0xc3, 0x28]))).toMatchObject({ ok: false, error: { code: 'INVALID_ENCODING' } });
    expect(prepare('return "\0";'.replace('\\0', '\0'))).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ENCODING' },
    });
    expect(prepare('\ud800')).toMatchObject({ ok: false, error: { code: 'INVALID_ENCODING' } });
  });

  it('strips a byte order mark', () => {
    expect(prepare('\ufeffreturn 1;').ok).toBe(true);
    expect(prepare(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('return 1;')])).ok).toBe(true);
  });

  it('property: never throws on arbitrary text or bytes, always a result or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 200 })), (input) => {
        const result = prepare(input);
        if (!result.ok)
          expect(['SYNTAX_ERROR', 'BANNED_CONSTRUCT', 'INVALID_ENCODING', 'SOURCE_TOO_LARGE']).toContain(
            result.error.code,
          );
      }),
      { numRuns: 1_000 },
    );
  });

  it('S58: a bracket bomb is refused as SYNTAX_ERROR before any parser recurses, and preparing goes on working (threat 38)', () => {
    const bomb = `return ${'('.repeat(5000)}1${')'.repeat(5000)};`;
    expect(prepare(bomb)).toMatchObject({ ok: false, error: { code: 'SYNTAX_ERROR' } });
    expect(prepare(`return ${'['.repeat(400)}${']'.repeat(400)};`).ok).toBe(true);
    expect(prepare('const x: number = 1; return x;').ok).toBe(true);
  });
});
