import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AnyTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSearchTools,
  type FileSearchResult,
  fuzzyScore,
  type GrepResult,
  MAX_GREP_FILE_BYTES,
  MAX_MATCH_TEXT_CHARS,
  matchesPathGlob,
  type SearchToolsOptions,
} from './search.ts';
import { type TemporaryWorkspace, temporaryWorkspace, toolContext } from './testing/tool-test-support.ts';

let workspace: TemporaryWorkspace;
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  workspace = await temporaryWorkspace('search', { 'secret.ts': 'const secret = "TODO outside";\n' });
  ({ base, root, outside } = workspace);
});

afterEach(() => workspace.remove());

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('search-test', overrides);

function tools(options: Partial<SearchToolsOptions> = {}): { fileSearch: AnyTool; grep: AnyTool } {
  const [fileSearch, grep] = createSearchTools({ root, ...options }) as [AnyTool, AnyTool];
  return { fileSearch, grep };
}

/** Calls a tool the way the harness does: input parsed, output checked against the schema. */
async function call<T>(tool: AnyTool, args: unknown, callContext: ToolExecuteContext = context()): Promise<T> {
  const output = await tool.execute(tool.input.parse(args), callContext);
  return (tool.output === undefined ? output : tool.output.parse(output)) as T;
}

const findFiles = (args: unknown, options?: Partial<SearchToolsOptions>) =>
  call<FileSearchResult>(tools(options).fileSearch, args);
const grep = (args: unknown, options?: Partial<SearchToolsOptions>, callContext?: ToolExecuteContext) =>
  call<GrepResult>(tools(options).grep, args, callContext);

async function failure(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HarnessError);
  expect((error as HarnessError).code).toBe(code);
  const message = (error as HarnessError).message;
  expect(message).not.toContain(base);
  expect(message).not.toContain(await fs.realpath(base));
  return message;
}

async function write(relative: string, content: string | Uint8Array = ''): Promise<void> {
  const target = path.join(root, relative);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, content);
}

describe('createSearchTools', () => {
  it('returns fileSearch and grep with output schemas', () => {
    const created = createSearchTools({ root });
    expect(created.map((tool) => tool.name)).toEqual(['fileSearch', 'grep']);
    for (const tool of created) {
      expect(tool.output).toBeDefined();
      expect(tool.requiresApproval).toBeUndefined();
    }
  });

  it('refuses limits that are not positive integers', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_REQUEST' });
    expect(() => createSearchTools({ root, maxWalkEntries: 0 })).toThrow(invalid);
    expect(() => createSearchTools({ root, regexTimeoutMs: -1 })).toThrow(invalid);
    expect(() => createSearchTools({ root, grepTimeBudgetMs: 0.5 })).toThrow(invalid);
  });
});

describe('fuzzyScore and matchesPathGlob', () => {
  it('matches letters in order, case-insensitively, and nothing else', () => {
    expect(fuzzyScore('hrns', 'src/Harness.ts')).toBeTypeOf('number');
    expect(fuzzyScore('snrh', 'src/harness.ts')).toBeUndefined();
    expect(fuzzyScore('harnesses', 'src/harness.ts')).toBeUndefined();
  });

  it('prefers consecutive letters, word starts and camelCase humps', () => {
    const score = (query: string, candidate: string) => fuzzyScore(query, candidate) as number;
    expect(score('harness', 'src/harness.ts')).toBeGreaterThan(score('harness', 'src/h-a-r-n-e-s-s.ts'));
    expect(score('as', 'src/array-sort.ts')).toBeGreaterThan(score('as', 'src/class.ts'));
    expect(score('uc', 'src/UserController.ts')).toBeGreaterThan(score('uc', 'src/luck.ts'));
    expect(score('tool', 'src/tool.ts')).toBeGreaterThan(score('tool', 'tools/readme.md'));
  });

  it('matches a glob without a slash against the file name at any depth', () => {
    expect(matchesPathGlob('a/b/c.ts', '*.ts')).toBe(true);
    expect(matchesPathGlob('a/b/c.ts', 'a/*.ts')).toBe(false);
    expect(matchesPathGlob('a/b/c.ts', 'a/**/*.ts')).toBe(true);
    expect(matchesPathGlob('a/b/c.ts', './a/b/?.ts')).toBe(true);
    expect(matchesPathGlob('a/b/c.md', '*.ts')).toBe(false);
  });
});

describe('fileSearch', () => {
  beforeEach(async () => {
    for (const file of [
      'src/harness.ts',
      'src/harness.test.ts',
      'packages/core/src/harness.ts',
      'src/array-sort.ts',
      'src/class.ts',
      'src/UserController.ts',
      'docs/guide.md',
      'README.md',
      'node_modules/harness/index.js',
      '.git/harness',
    ]) {
      await write(file);
    }
  });

  it('ranks fuzzy matches best first and skips .git and node_modules', async () => {
    const result = await findFiles({ pattern: 'harness' });
    expect(result.matches.map((match) => match.path)).toEqual([
      'src/harness.ts',
      'packages/core/src/harness.ts',
      'src/harness.test.ts',
    ]);
    expect(result.truncated).toBe(false);
    const scores = result.matches.map((match) => match.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect((await findFiles({ pattern: 'usrctl' })).matches[0]?.path).toBe('src/UserController.ts');
    expect((await findFiles({ pattern: 'zzz' })).matches).toEqual([]);
  });

  it('matches a glob in path order', async () => {
    expect((await findFiles({ pattern: '*.md' })).matches).toEqual([
      { path: 'README.md', score: 1 },
      { path: 'docs/guide.md', score: 1 },
    ]);
    expect((await findFiles({ pattern: 'src/**/*.ts' })).matches.map((match) => match.path)).toEqual([
      'src/UserController.ts',
      'src/array-sort.ts',
      'src/class.ts',
      'src/harness.test.ts',
      'src/harness.ts',
    ]);
    expect((await findFiles({ pattern: '**/index.js' })).matches).toEqual([]);
  });

  it('returns at most limit matches and says when more exist', async () => {
    const result = await findFiles({ pattern: '*.ts', limit: 2 });
    expect(result.matches).toHaveLength(2);
    expect(result.truncated).toBe(true);
    expect(tools().fileSearch.input.safeParse({ pattern: 'x', limit: 501 }).success).toBe(false);
  });

  it('stops after the entry limit with truncated: true', async () => {
    const result = await findFiles({ pattern: '*' }, { maxWalkEntries: 3 });
    expect(result.truncated).toBe(true);
    expect(result.matches.length).toBeLessThanOrEqual(3);
  });

  it('fits the matches into the tool result limit', async () => {
    for (let index = 0; index < 100; index++) await write(`many/file-${String(index).padStart(3, '0')}.txt`);
    const result = await call<FileSearchResult>(
      tools().fileSearch,
      { pattern: '*.txt', limit: 500 },
      context({ maxOutputBytes: 2048 }),
    );
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(2048);
  });
});

describe('grep', () => {
  beforeEach(async () => {
    await write('src/a.ts', 'const a = 1; // TODO tidy\nconst b = 2;\n// todo lower\n');
    await write('src/b.ts', 'export {};\r\n// FIXME later\r\n');
    await write('docs/notes.md', '# Notes\nTODO: write docs\n');
    await write('node_modules/dep/index.js', '// TODO in a dependency\n');
    await write('.git/config', 'TODO in git\n');
  });

  it('finds lines matching a regular expression, in path and line order', async () => {
    const result = await grep({ pattern: 'TODO|FIXME' });
    expect(result).toEqual({
      matches: [
        { path: 'docs/notes.md', line: 2, text: 'TODO: write docs' },
        { path: 'src/a.ts', line: 1, text: 'const a = 1; // TODO tidy' },
        { path: 'src/b.ts', line: 2, text: '// FIXME later' },
      ],
      truncated: false,
    });
  });

  it('ignores case on request', async () => {
    const result = await grep({ pattern: 'todo', ignoreCase: true, path: 'src' });
    expect(result.matches.map((match) => `${match.path}:${match.line}`)).toEqual(['src/a.ts:1', 'src/a.ts:3']);
    expect((await grep({ pattern: '^const [ab]', path: 'src/a.ts' })).matches).toHaveLength(2);
  });

  it('filters files with a glob', async () => {
    const result = await grep({ pattern: 'TODO', glob: '*.md' });
    expect(result.matches).toEqual([{ path: 'docs/notes.md', line: 2, text: 'TODO: write docs' }]);
    expect((await grep({ pattern: 'TODO', glob: 'src/**' })).matches.map((match) => match.path)).toEqual(['src/a.ts']);
  });

  it('skips binary files and files over the size limit in a walk, and refuses them when named', async () => {
    await write('image.bin', Buffer.concat([Buffer.from('TODO binary\n'), Buffer.from([0, 1, 2])]));
    await write('huge.log', `TODO huge\n${'x'.repeat(MAX_GREP_FILE_BYTES)}`);
    const result = await grep({ pattern: 'TODO (binary|huge)' });
    expect(result).toEqual({ matches: [], truncated: false });
    expect(await failure(grep({ pattern: 'TODO', path: 'image.bin' }), 'TOOL_ERROR')).toContain('binary');
    expect(await failure(grep({ pattern: 'TODO', path: 'huge.log' }), 'TOOL_ERROR')).toContain('larger than');
  });

  it('cuts long lines around the match', async () => {
    await write('long.txt', `${'a'.repeat(3000)}NEEDLE${'b'.repeat(3000)}\n`);
    const [match] = (await grep({ pattern: 'NEEDLE', path: 'long.txt' })).matches;
    expect(match?.text.length).toBeLessThanOrEqual(MAX_MATCH_TEXT_CHARS);
    expect(match?.text).toContain('NEEDLE');
    expect(match?.text.startsWith('\u2026')).toBe(true);
    expect(match?.text.endsWith('\u2026')).toBe(true);
  });

  it('returns at most limit matches and says when more exist', async () => {
    await write('many.txt', 'hit\n'.repeat(50));
    const limited = await grep({ pattern: 'hit', path: 'many.txt', limit: 10 });
    expect(limited.matches).toHaveLength(10);
    expect(limited.truncated).toBe(true);
    const exact = await grep({ pattern: 'hit', path: 'many.txt', limit: 50 });
    expect(exact.matches).toHaveLength(50);
    expect(exact.truncated).toBe(false);
    const capped = await grep({ pattern: 'hit', path: 'many.txt', limit: 1000 }, {}, context({ maxOutputBytes: 2048 }));
    expect(capped.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThanOrEqual(2048);
  });

  it('refuses an invalid or overlong pattern as TOOL_VALIDATION', async () => {
    expect(await failure(grep({ pattern: '(unclosed' }), 'TOOL_VALIDATION')).toContain('invalid regular expression');
    expect(tools().grep.input.safeParse({ pattern: 'a'.repeat(1001) }).success).toBe(false);
  });

  it('stops a catastrophically backtracking pattern at the time limit', async () => {
    await write('evil.txt', `${'a'.repeat(40)}!\n`);
    const started = Date.now();
    const message = await failure(
      grep({ pattern: '^(a+)+$', path: 'evil.txt' }, { regexTimeoutMs: 300 }),
      'TOOL_ERROR',
    );
    expect(message).toContain('catastrophic backtracking');
    expect(message).toContain('"evil.txt"');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops with the abort reason when the call is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new HarnessError('CANCELLED', 'stop'));
    await expect(grep({ pattern: 'TODO' }, {}, context({ signal: controller.signal }))).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('refuses a path that does not exist', async () => {
    expect(await failure(grep({ pattern: 'x', path: 'missing' }), 'TOOL_ERROR')).toContain('"missing" does not exist');
  });
});

describe('search confinement', () => {
  it('S41: fileSearch and grep never reach outside the workspace (threat 21)', async () => {
    await write('inside.ts', 'const inside = "TODO inside";\n');
    await fs.symlink(outside, path.join(root, 'out'));
    await fs.symlink(path.join(outside, 'secret.ts'), path.join(root, 'leak.ts'));
    // Symlinks are not followed in a walk, whether they point out or not.
    expect((await findFiles({ pattern: 'secret' })).matches).toEqual([]);
    expect((await findFiles({ pattern: '**/*.ts' })).matches.map((match) => match.path)).toEqual(['inside.ts']);
    expect((await grep({ pattern: 'TODO' })).matches.map((match) => match.path)).toEqual(['inside.ts']);
    for (const target of ['../outside', '/etc', 'out', 'leak.ts', 'out/secret.ts', 'a/../../outside/secret.ts']) {
      const message = await failure(grep({ pattern: 'TODO', path: target }), 'POLICY_DENIED');
      expect(message).not.toContain('/etc');
    }
  });

  it('S44: __proto__ and constructor keys in search arguments are refused (threat 24)', () => {
    const { fileSearch, grep: grepTool } = tools();
    for (const tool of [fileSearch, grepTool]) {
      for (const raw of ['{"pattern":"x","__proto__":{"limit":1}}', '{"pattern":"x","constructor":{"prototype":{}}}']) {
        expect(tool.input.safeParse(JSON.parse(raw)).success).toBe(false);
      }
    }
    expect(({} as Record<string, unknown>).limit).toBeUndefined();
  });
});
