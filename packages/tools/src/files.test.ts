import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AnyTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileTools, MAX_LIST_ENTRIES } from './files.ts';
import { type TemporaryWorkspace, temporaryWorkspace, toolContext } from './testing/tool-test-support.ts';

let workspace: TemporaryWorkspace;
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  workspace = await temporaryWorkspace('files', { 'secret.txt': 'outside secret\n' });
  ({ base, root, outside } = workspace);
});

afterEach(() => workspace.remove());

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('files-test', overrides);

/** Calls a tool the way the harness does: input parsed, output checked against the schema. */
async function call(
  tools: AnyTool[],
  name: string,
  args: unknown,
  callContext: ToolExecuteContext = context(),
): Promise<unknown> {
  const tool = tools.find((candidate) => candidate.name === name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  const output = await tool.execute(tool.input.parse(args), callContext);
  return tool.output === undefined ? output : tool.output.parse(output);
}

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

async function write(relative: string, content: string | Uint8Array): Promise<void> {
  const target = path.join(root, relative);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.writeFile(target, content);
}

describe('createFileTools', () => {
  it('returns readFile, writeFile and listDir with descriptions and schemas', () => {
    const tools = createFileTools({ root });
    expect(tools.map((tool) => tool.name)).toEqual(['readFile', 'writeFile', 'listDir']);
    for (const tool of tools) {
      expect(tool.description.length).toBeGreaterThan(40);
      expect(tool.output).toBeDefined();
    }
  });

  it('refuses a maxReadBytes that is not a positive integer', () => {
    expect(() => createFileTools({ root, maxReadBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    expect(() => createFileTools({ root, maxReadBytes: 1.5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('refuses unknown argument keys in every input schema', () => {
    const [readFile, writeFile, listDir] = createFileTools({ root });
    expect(readFile?.input.safeParse({ path: 'a.txt', encoding: 'utf8' }).success).toBe(false);
    expect(writeFile?.input.safeParse({ path: 'a.txt', content: '', append: true }).success).toBe(false);
    expect(listDir?.input.safeParse({ recursive: true }).success).toBe(false);
    expect(listDir?.input.safeParse({ depth: 6 }).success).toBe(false);
    expect(readFile?.input.safeParse({ path: 'a.txt', startLine: 3, endLine: 2 }).success).toBe(false);
    expect(readFile?.input.safeParse({ path: 'a.txt', startLine: 0 }).success).toBe(false);
  });
});

describe('readFile', () => {
  it('reads a whole text file', async () => {
    await write('notes/todo.md', 'one\ntwo\nthree\n');
    const tools = createFileTools({ root });
    expect(await call(tools, 'readFile', { path: 'notes/todo.md' })).toEqual({
      path: 'notes/todo.md',
      content: 'one\ntwo\nthree\n',
      totalLines: 3,
      truncated: false,
    });
  });

  it('returns an inclusive 1-based line range and still counts every line', async () => {
    await write('lines.txt', 'l1\nl2\nl3\nl4\nl5');
    const tools = createFileTools({ root });
    expect(await call(tools, 'readFile', { path: 'lines.txt', startLine: 2, endLine: 4 })).toEqual({
      path: 'lines.txt',
      content: 'l2\nl3\nl4\n',
      totalLines: 5,
      truncated: false,
    });
    expect(await call(tools, 'readFile', { path: 'lines.txt', startLine: 4 })).toMatchObject({ content: 'l4\nl5' });
    expect(await call(tools, 'readFile', { path: 'lines.txt', endLine: 1 })).toMatchObject({ content: 'l1\n' });
    expect(await call(tools, 'readFile', { path: 'lines.txt', startLine: 5, endLine: 99 })).toMatchObject({
      content: 'l5',
    });
    expect(await call(tools, 'readFile', { path: 'lines.txt', startLine: 9 })).toMatchObject({
      content: '',
      totalLines: 5,
      truncated: false,
    });
  });

  it('keeps CRLF line endings and counts an empty file as zero lines', async () => {
    await write('crlf.txt', 'a\r\nb\r\n');
    await write('empty.txt', '');
    const tools = createFileTools({ root });
    expect(await call(tools, 'readFile', { path: 'crlf.txt', startLine: 2 })).toMatchObject({
      content: 'b\r\n',
      totalLines: 2,
    });
    expect(await call(tools, 'readFile', { path: 'empty.txt' })).toMatchObject({ content: '', totalLines: 0 });
  });

  it('finds lines across read chunks in a file larger than one chunk', async () => {
    const lines = Array.from({ length: 20_000 }, (_, index) => `line ${index + 1}`);
    await write('big.txt', `${lines.join('\n')}\n`);
    const tools = createFileTools({ root });
    expect(await call(tools, 'readFile', { path: 'big.txt', startLine: 15_000, endLine: 15_002 })).toEqual({
      path: 'big.txt',
      content: 'line 15000\nline 15001\nline 15002\n',
      totalLines: 20_000,
      truncated: false,
    });
  });

  it('truncates at maxReadBytes, ending on a whole line', async () => {
    await write('long.txt', 'aaaa\nbbbb\ncccc\ndddd\n');
    const tools = createFileTools({ root, maxReadBytes: 12 });
    expect(await call(tools, 'readFile', { path: 'long.txt' })).toEqual({
      path: 'long.txt',
      content: 'aaaa\nbbbb\n',
      totalLines: 4,
      truncated: true,
    });
    expect(await call(tools, 'readFile', { path: 'long.txt', startLine: 3 })).toMatchObject({
      content: 'cccc\ndddd\n',
      truncated: false,
    });
  });

  it('never splits a multi-byte character when one long line is cut', async () => {
    await write('accents.txt', 'é'.repeat(100));
    const tools = createFileTools({ root, maxReadBytes: 11 });
    const result = (await call(tools, 'readFile', { path: 'accents.txt' })) as { content: string; truncated: boolean };
    expect(result.truncated).toBe(true);
    expect(result.content).toBe('é'.repeat(5));
  });

  it('keeps the JSON of the result within the tool output cap, escapes included', async () => {
    const line = `${'"'.repeat(60)}\n`;
    await write('quotes.txt', line.repeat(200));
    const tools = createFileTools({ root });
    const maxOutputBytes = 4096;
    const result = (await call(tools, 'readFile', { path: 'quotes.txt' }, context({ maxOutputBytes }))) as {
      content: string;
      truncated: boolean;
    };
    expect(result.truncated).toBe(true);
    expect(result.content.endsWith('\n')).toBe(true);
    expect(result.content.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(maxOutputBytes);
  });

  it('refuses a directory, a binary file and a missing file', async () => {
    await write('dir/inner.txt', 'x');
    await write('image.bin', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
    const tools = createFileTools({ root });
    expect(await failure(call(tools, 'readFile', { path: 'dir' }), 'TOOL_ERROR')).toContain('listDir');
    expect(await failure(call(tools, 'readFile', { path: 'image.bin' }), 'TOOL_ERROR')).toContain('binary');
    expect(await failure(call(tools, 'readFile', { path: 'nope.txt' }), 'TOOL_ERROR')).toContain('"nope.txt"');
    await failure(call(tools, 'readFile', { path: 'dir/inner.txt/more' }), 'TOOL_ERROR');
  });

  it('S41: readFile refuses ../ traversal, absolute paths and NUL bytes (threat 21)', async () => {
    const tools = createFileTools({ root });
    await failure(call(tools, 'readFile', { path: '../outside/secret.txt' }), 'POLICY_DENIED');
    await failure(call(tools, 'readFile', { path: path.join(outside, 'secret.txt') }), 'POLICY_DENIED');
    await failure(call(tools, 'readFile', { path: 'a.txt\0' }), 'POLICY_DENIED');
  });

  it('S41: readFile refuses a symlink inside the workspace that points outside (file and directory) (threat 21)', async () => {
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    await fs.symlink(outside, path.join(root, 'out'));
    const tools = createFileTools({ root });
    await failure(call(tools, 'readFile', { path: 'leak.txt' }), 'POLICY_DENIED');
    await failure(call(tools, 'readFile', { path: 'out/secret.txt' }), 'POLICY_DENIED');
  });

  it('S41: readFile follows an in-root symlink to an in-root file (threat 21)', async () => {
    await write('real/config.json', '{"a":1}\n');
    await fs.symlink('real/config.json', path.join(root, 'config.json'));
    const tools = createFileTools({ root });
    expect(await call(tools, 'readFile', { path: 'config.json' })).toEqual({
      path: 'config.json',
      content: '{"a":1}\n',
      totalLines: 1,
      truncated: false,
    });
  });

  it('stops when the call is aborted', async () => {
    await write('a.txt', 'a\n');
    const tools = createFileTools({ root });
    const controller = new AbortController();
    controller.abort(new HarnessError('CANCELLED', 'cancelled by the caller'));
    await failure(call(tools, 'readFile', { path: 'a.txt' }, context({ signal: controller.signal })), 'CANCELLED');
  });
});

describe('writeFile', () => {
  it('creates a file and its missing parent directories', async () => {
    const tools = createFileTools({ root });
    expect(await call(tools, 'writeFile', { path: 'out/deep/result.txt', content: 'done ✓\n' })).toEqual({
      path: 'out/deep/result.txt',
      bytes: Buffer.byteLength('done ✓\n'),
      created: true,
    });
    expect(await fs.readFile(path.join(root, 'out', 'deep', 'result.txt'), 'utf8')).toBe('done ✓\n');
  });

  it('replaces an existing file, keeps its permissions and leaves no temporary file', async () => {
    await write('script.sh', 'echo old\n');
    await fs.chmod(path.join(root, 'script.sh'), 0o750);
    const tools = createFileTools({ root });
    expect(await call(tools, 'writeFile', { path: 'script.sh', content: 'echo new\n' })).toEqual({
      path: 'script.sh',
      bytes: 9,
      created: false,
    });
    expect(await fs.readFile(path.join(root, 'script.sh'), 'utf8')).toBe('echo new\n');
    expect((await fs.stat(path.join(root, 'script.sh'))).mode & 0o777).toBe(0o750);
    expect(await fs.readdir(root)).toEqual(['script.sh']);
  });

  it('refuses to replace a directory or the root', async () => {
    await fs.mkdir(path.join(root, 'dir'));
    const tools = createFileTools({ root });
    await failure(call(tools, 'writeFile', { path: 'dir', content: 'x' }), 'TOOL_ERROR');
    await failure(call(tools, 'writeFile', { path: '.', content: 'x' }), 'TOOL_ERROR');
  });

  it('refuses a parent that is a file', async () => {
    await write('plain.txt', 'x');
    const tools = createFileTools({ root });
    await failure(call(tools, 'writeFile', { path: 'plain.txt/child.txt', content: 'x' }), 'TOOL_ERROR');
  });

  it('S41: writeFile refuses ../ traversal, absolute paths and NUL bytes, and writes nothing outside (threat 21)', async () => {
    const tools = createFileTools({ root });
    await failure(call(tools, 'writeFile', { path: '../outside/new.txt', content: 'x' }), 'POLICY_DENIED');
    await failure(call(tools, 'writeFile', { path: path.join(outside, 'new.txt'), content: 'x' }), 'POLICY_DENIED');
    await failure(call(tools, 'writeFile', { path: 'new\0.txt', content: 'x' }), 'POLICY_DENIED');
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
  });

  it('S41: writeFile refuses a symlink that points outside, for the file and for a parent directory (threat 21)', async () => {
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    await fs.symlink(outside, path.join(root, 'out'));
    const tools = createFileTools({ root });
    await failure(call(tools, 'writeFile', { path: 'leak.txt', content: 'x' }), 'POLICY_DENIED');
    await failure(call(tools, 'writeFile', { path: 'out/new.txt', content: 'x' }), 'POLICY_DENIED');
    await failure(call(tools, 'writeFile', { path: 'out/deeper/new.txt', content: 'x' }), 'POLICY_DENIED');
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
    expect(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
  });

  it('S41: percent-encoded dots create a literal directory inside the workspace (threat 21)', async () => {
    const tools = createFileTools({ root });
    expect(await call(tools, 'writeFile', { path: '%2e%2e/x.txt', content: 'x' })).toMatchObject({
      path: '%2e%2e/x.txt',
    });
    expect(await fs.readFile(path.join(root, '%2e%2e', 'x.txt'), 'utf8')).toBe('x');
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
  });

  it('writes through an in-root directory symlink into its in-root target', async () => {
    await fs.mkdir(path.join(root, 'real'));
    await fs.symlink('real', path.join(root, 'alias'));
    const tools = createFileTools({ root });
    expect(await call(tools, 'writeFile', { path: 'alias/file.txt', content: 'x' })).toMatchObject({
      path: 'alias/file.txt',
      created: true,
    });
    expect(await fs.readFile(path.join(root, 'real', 'file.txt'), 'utf8')).toBe('x');
  });

  it('writes nothing when the call is already aborted', async () => {
    const tools = createFileTools({ root });
    const controller = new AbortController();
    controller.abort(new HarnessError('TIMEOUT', 'deadline passed'));
    await failure(
      call(tools, 'writeFile', { path: 'late.txt', content: 'x' }, context({ signal: controller.signal })),
      'TIMEOUT',
    );
    expect(await fs.readdir(root)).toEqual([]);
  });
});

describe('listDir', () => {
  beforeEach(async () => {
    await write('README.md', '# hi\n');
    await write('src/index.ts', 'export {};\n');
    await write('src/lib/util.ts', 'export const x = 1;\n');
    await write('.git/HEAD', 'ref: refs/heads/main\n');
    await write('node_modules/dep/index.js', '');
  });

  it('lists the direct entries of the root by default, sorted, with types and sizes', async () => {
    const tools = createFileTools({ root });
    expect(await call(tools, 'listDir', {})).toEqual({
      entries: [
        { path: '.git', type: 'directory', size: 0 },
        { path: 'README.md', type: 'file', size: 5 },
        { path: 'node_modules', type: 'directory', size: 0 },
        { path: 'src', type: 'directory', size: 0 },
      ],
      truncated: false,
    });
  });

  it('goes deeper with depth, shallow entries first, without entering .git or node_modules', async () => {
    const tools = createFileTools({ root });
    const result = (await call(tools, 'listDir', { depth: 3 })) as { entries: { path: string }[] };
    expect(result.entries.map((entry) => entry.path)).toEqual([
      '.git',
      'README.md',
      'node_modules',
      'src',
      'src/index.ts',
      'src/lib',
      'src/lib/util.ts',
    ]);
  });

  it('lists a subdirectory with paths relative to the root', async () => {
    const tools = createFileTools({ root });
    expect(await call(tools, 'listDir', { path: 'src', depth: 2 })).toEqual({
      entries: [
        { path: 'src/index.ts', type: 'file', size: 11 },
        { path: 'src/lib', type: 'directory', size: 0 },
        { path: 'src/lib/util.ts', type: 'file', size: 20 },
      ],
      truncated: false,
    });
  });

  it('shows symlinks as symlinks and does not follow them', async () => {
    await fs.symlink(outside, path.join(root, 'src', 'out'));
    await fs.symlink('index.ts', path.join(root, 'src', 'alias.ts'));
    const tools = createFileTools({ root });
    const result = (await call(tools, 'listDir', { path: 'src', depth: 5 })) as { entries: { path: string }[] };
    expect(result.entries).toContainEqual({ path: 'src/out', type: 'symlink', size: 0 });
    expect(result.entries).toContainEqual({ path: 'src/alias.ts', type: 'symlink', size: 0 });
    expect(result.entries.some((entry) => entry.path.includes('secret'))).toBe(false);
  });

  it(`stops at ${MAX_LIST_ENTRIES} entries and says so`, async () => {
    await Promise.all(
      Array.from({ length: MAX_LIST_ENTRIES + 5 }, (_, index) =>
        fs.writeFile(path.join(root, 'src', `file-${String(index).padStart(4, '0')}.ts`), ''),
      ),
    );
    const tools = createFileTools({ root });
    const result = (await call(tools, 'listDir', { path: 'src' })) as { entries: unknown[]; truncated: boolean };
    expect(result.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(result.truncated).toBe(true);
  });

  it('keeps the JSON of the listing within the tool output cap', async () => {
    const tools = createFileTools({ root });
    const maxOutputBytes = 1024 + 80;
    const result = await call(tools, 'listDir', { depth: 3 }, context({ maxOutputBytes }));
    expect((result as { truncated: boolean }).truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(maxOutputBytes);
  });

  it('refuses a file and a missing path', async () => {
    const tools = createFileTools({ root });
    await failure(call(tools, 'listDir', { path: 'README.md' }), 'TOOL_ERROR');
    await failure(call(tools, 'listDir', { path: 'missing' }), 'TOOL_ERROR');
  });

  it('S41: listDir refuses ../ traversal, absolute paths and a directory symlink that points outside (threat 21)', async () => {
    await fs.symlink(outside, path.join(root, 'out'));
    const tools = createFileTools({ root });
    await failure(call(tools, 'listDir', { path: '..' }), 'POLICY_DENIED');
    await failure(call(tools, 'listDir', { path: outside }), 'POLICY_DENIED');
    await failure(call(tools, 'listDir', { path: 'out' }), 'POLICY_DENIED');
  });
});
