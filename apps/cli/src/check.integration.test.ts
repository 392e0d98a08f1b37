/**
 * `harness check` as a child process: findings with their code and line, exit codes, JSON, and
 * that nothing is run.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, parseSingleJson, type TemporaryDirectory, temporaryDirectory } from './test-support.ts';

let directory: TemporaryDirectory;

beforeAll(async () => {
  directory = await temporaryDirectory('check');
});

afterAll(async () => {
  await directory.remove();
});

async function script(name: string, source: string): Promise<string> {
  const path = join(directory.path, name);
  await writeFile(path, source);
  return path;
}

describe('harness check', () => {
  it('F18: a banned construct is reported with its code and line, exit 1', async () => {
    const file = await script(
      'f18.ts',
      'const list = await tools.listDir({});\nconst fs = require("fs");\nreturn list;\n',
    );
    const run = await harness(['check', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^BANNED_CONSTRUCT at line 2, column \d+: .*require.* Remedy: .+\n1 finding: the script would not run as it is\. Nothing was run\.\n$/,
    );

    const json = await harness(['check', file, '--json']);
    expect(json.code).toBe(1);
    expect(parseSingleJson(json.stdout)).toEqual({
      ok: false,
      findings: [
        {
          code: 'BANNED_CONSTRUCT',
          construct: 'require',
          message: expect.any(String),
          line: 2,
          column: expect.any(Number),
        },
      ],
      referencedTools: [],
    });
  });

  it('F18: a call of a tool that does not exist is reported at the line that makes it, with a suggestion', async () => {
    const file = await script(
      'unknown.ts',
      'const a = 1;\nconst text = await tools.readFil({ path: "x" });\nreturn text;\n',
    );
    const run = await harness(['check', file, '--json']);
    expect(run.code).toBe(1);
    expect(parseSingleJson(run.stdout)).toEqual({
      ok: false,
      findings: [
        { code: 'TOOL_NOT_FOUND', message: 'tools.readFil does not exist; did you mean tools.readFile?', line: 2 },
      ],
      referencedTools: ['readFil'],
    });
    const readable = await harness(['check', file]);
    expect(readable.stdout).toContain(
      'TOOL_NOT_FOUND at line 2: tools.readFil does not exist; did you mean tools.readFile?',
    );
  });

  it('F18: a syntax error is a finding with the line and column of the script as written', async () => {
    const file = await script('syntax.ts', 'interface P { x: number }\nconst p: P = { x: 1 };\nreturn p.x +;\n');
    const run = await harness(['check', file, '--json']);
    expect(run.code).toBe(1);
    expect((parseSingleJson(run.stdout).findings as unknown[])[0]).toMatchObject({ code: 'SYNTAX_ERROR', line: 3 });
  });

  it('a clean script: no findings, the tools it calls, exit 0 — and nothing ran', async () => {
    const file = await script(
      'clean.ts',
      'await tools.writeFile({ path: "should-not-exist.txt", content: "x" });\nreturn (await tools.listDir({})).entries.length;\n',
    );
    const run = await harness(['check', file, '--workspace', directory.path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'No findings: the script would run; it calls tools.writeFile, tools.listDir. Nothing was run.\n',
    );
    expect(existsSync(join(directory.path, 'should-not-exist.txt'))).toBe(false);
  });

  it('--tools decides which tools exist for the check', async () => {
    const file = await script('grep.ts', 'return await tools.grep({ pattern: "x" });\n');
    expect((await harness(['check', file])).code).toBe(0);
    const narrowed = await harness(['check', file, '--tools', 'files', '--json']);
    expect(narrowed.code).toBe(1);
    expect(parseSingleJson(narrowed.stdout).findings).toMatchObject([{ code: 'TOOL_NOT_FOUND', line: 1 }]);
  });

  it('reads stdin for "-"; a missing file is a usage error (exit 2)', async () => {
    const stdin = await harness(['check', '-', '--json'], { stdin: 'return eval("1")' });
    expect(stdin.code).toBe(1);
    expect(parseSingleJson(stdin.stdout).findings).toMatchObject([{ code: 'BANNED_CONSTRUCT', construct: 'eval' }]);

    const missing = await harness(['check', 'no-such-script.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('harness: cannot read script "no-such-script.ts": no such file or directory\n');
  });
});
