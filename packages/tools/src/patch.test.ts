import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AnyTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyHunks, createPatchTool, type PatchHunk, parsePatch } from './patch.ts';
import { type TemporaryWorkspace, temporaryWorkspace, toolContext } from './testing/tool-test-support.ts';

let workspace: TemporaryWorkspace;
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  workspace = await temporaryWorkspace('patch', { 'secret.txt': 'outside secret\n' });
  ({ base, root, outside } = workspace);
});

afterEach(() => workspace.remove());

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('patch-test', overrides);

/** Calls the tool the way the harness does: input parsed, output checked against the schema. */
async function call(tool: AnyTool, args: unknown, callContext: ToolExecuteContext = context()): Promise<unknown> {
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

function read(relative: string): Promise<string> {
  return fs.readFile(path.join(root, relative), 'utf8');
}

async function exists(relative: string): Promise<boolean> {
  return fs.lstat(path.join(root, relative)).then(
    () => true,
    () => false,
  );
}

/** Every file under the root with its content: the whole observable state of the workspace. */
async function snapshot(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(root, full).split(path.sep).join('/');
    if (entry.isSymbolicLink()) files[relative] = `-> ${await fs.readlink(full)}`;
    else if (entry.isFile()) files[relative] = await fs.readFile(full, 'utf8');
  }
  return files;
}

function patchOf(...lines: string[]): string {
  return ['*** Begin Patch', ...lines, '*** End Patch'].join('\n');
}

function hunk(oldLines: string[], newLines: string[], anchor?: string, atEndOfFile = false): PatchHunk {
  return { anchor, oldLines, newLines, atEndOfFile };
}

describe('parsePatch', () => {
  it('reads add, delete, update and move sections', () => {
    const operations = parsePatch(
      patchOf(
        '*** Add File: docs/new.md',
        '+# New',
        '+',
        '+text',
        '*** Delete File: old.txt',
        '*** Update File: src/a.ts',
        '*** Move to: src/b.ts',
        '@@ function main() {',
        ' const a = 1;',
        '-const b = 2;',
        '+const b = 3;',
        '@@',
        ' last',
        '+appended',
        '*** End of File',
      ),
    );
    expect(operations).toEqual([
      { kind: 'add', path: 'docs/new.md', lines: ['# New', '', 'text'] },
      { kind: 'delete', path: 'old.txt' },
      {
        kind: 'update',
        path: 'src/a.ts',
        moveTo: 'src/b.ts',
        hunks: [
          hunk(['const a = 1;', 'const b = 2;'], ['const a = 1;', 'const b = 3;'], 'function main() {'),
          hunk(['last'], ['last', 'appended'], undefined, true),
        ],
      },
    ]);
  });

  it('accepts CRLF, blank lines between sections, a first hunk without @@ and a unified-diff range header', () => {
    const operations = parsePatch(
      [
        '',
        '*** Begin Patch',
        '*** Update File: a.txt',
        ' one',
        '-two',
        '+TWO',
        '',
        '*** Update File: b.txt',
        '@@ -10,3 +10,3 @@ function name',
        ' x',
        '',
        ' y',
        '*** End Patch',
        '',
      ].join('\r\n'),
    );
    expect(operations).toEqual([
      { kind: 'update', path: 'a.txt', moveTo: undefined, hunks: [hunk(['one', 'two'], ['one', 'TWO'])] },
      // The blank line inside the hunk is an empty context line; the range header anchors nothing.
      { kind: 'update', path: 'b.txt', moveTo: undefined, hunks: [hunk(['x', '', 'y'], ['x', '', 'y'])] },
    ]);
  });

  it.each([
    ['no begin marker', '*** Update File: a.txt\n@@\n-a\n+b\n*** End Patch', 'line 1: the patch must start with'],
    ['no end marker', '*** Begin Patch\n*** Delete File: a.txt', 'line 2: the patch must end with'],
    ['nothing in it', '*** Begin Patch\n*** End Patch', 'the patch changes no files'],
    ['an unknown section', patchOf('*** Rename File: a.txt'), 'line 2: expected "*** Add File:"'],
    ['an added line without +', patchOf('*** Add File: a.txt', '+one', 'two'), 'line 4: every line of an added file'],
    ['an update without hunks', patchOf('*** Update File: a.txt'), 'line 2: "*** Update File: a.txt" has no hunks'],
    ['an empty hunk', patchOf('*** Update File: a.txt', '@@', '@@', '-a'), 'hunk 1 of a.txt has no lines'],
    ['a stray line in a hunk', patchOf('*** Update File: a.txt', '@@', '-a', 'b'), 'line 5: expected a hunk line'],
    ['a section without a path', patchOf('*** Delete File:   '), 'line 2: "*** Delete File:" needs a path'],
  ])('refuses a patch with %s as TOOL_VALIDATION naming the line', (_, text, expected) => {
    let thrown: unknown;
    try {
      parsePatch(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HarnessError);
    expect((thrown as HarnessError).code).toBe('TOOL_VALIDATION');
    expect((thrown as HarnessError).message).toContain(expected);
  });
});

describe('applyHunks', () => {
  it('applies several hunks in order, each after the previous one', () => {
    const original = 'a\nx\nb\nx\nc\n';
    // Both hunks expect "x"; the second must take the second one.
    const result = applyHunks(original, [hunk(['x'], ['X1']), hunk(['x'], ['X2'])], 'f.txt');
    expect(result).toBe('a\nX1\nb\nX2\nc\n');
  });

  it('searches after the @@ anchor line', () => {
    const original = 'function a() {\n  return 1;\n}\nfunction b() {\n  return 1;\n}\n';
    const result = applyHunks(original, [hunk(['  return 1;'], ['  return 2;'], 'function b() {')], 'f.ts');
    expect(result).toBe('function a() {\n  return 1;\n}\nfunction b() {\n  return 2;\n}\n');
  });

  it('matches ignoring trailing whitespace, then ignoring surrounding whitespace', () => {
    expect(applyHunks('one  \ntwo\t\n', [hunk(['one', 'two'], ['ONE', 'TWO'])], 'f')).toBe('ONE\nTWO\n');
    expect(applyHunks('    indented\n', [hunk(['indented'], ['    changed'])], 'f')).toBe('    changed\n');
  });

  it('prefers an exact match later in the file over a loose match earlier', () => {
    const original = 'value = 1 \nvalue = 1\n';
    expect(applyHunks(original, [hunk(['value = 1'], ['value = 2'])], 'f')).toBe('value = 1 \nvalue = 2\n');
  });

  it('keeps CRLF line endings, a missing final newline and a byte-order mark', () => {
    expect(applyHunks('a\r\nb\r\n', [hunk(['b'], ['B', 'c'])], 'f')).toBe('a\r\nB\r\nc\r\n');
    expect(applyHunks('a\nb', [hunk(['b'], ['B'])], 'f')).toBe('a\nB');
    expect(applyHunks('\uFEFFa\nb\n', [hunk(['a'], ['A'])], 'f')).toBe('\uFEFFA\nb\n');
  });

  it('anchors an End of File hunk at the end and appends a hunk with no old lines', () => {
    const original = 'end\nmiddle\nend\n';
    expect(applyHunks(original, [hunk(['end'], ['END'], undefined, true)], 'f')).toBe('end\nmiddle\nEND\n');
    expect(applyHunks('a\nb\n', [hunk([], ['c'])], 'f')).toBe('a\nb\nc\n');
    expect(applyHunks('a\nb\n', [hunk([], ['after a'], 'a')], 'f')).toBe('a\nafter a\nb\n');
    expect(applyHunks('', [hunk([], ['first'])], 'f')).toBe('first\n');
  });

  it('tolerates a trailing blank context line the file does not have', () => {
    expect(applyHunks('a\nb\n', [hunk(['b', ''], ['B', ''])], 'f')).toBe('a\nB\n');
  });

  it('names the file, the hunk and the missing context when a hunk does not apply', () => {
    expect(() => applyHunks('a\nb\n', [hunk(['a'], ['A']), hunk(['zzz', 'b'], ['b'])], 'src/a.ts')).toThrow(
      'hunk 2 of src/a.ts did not apply: context "zzz" (2 lines) not found after line 1',
    );
    expect(() => applyHunks('a\nb\n', [hunk(['b'], ['B'], 'missing anchor')], 'f')).toThrow(
      'hunk 1 of f did not apply: context "missing anchor" not found',
    );
    // Out of order: the second hunk's context sits before the first one's.
    expect(() => applyHunks('a\nb\n', [hunk(['b'], ['B']), hunk(['a'], ['A'])], 'f')).toThrow(
      'hunks must be in file order',
    );
  });
});

describe('applyPatch', () => {
  it('is one tool named applyPatch with an output schema, not needing approval by default', () => {
    const tool = createPatchTool({ root });
    expect(tool.name).toBe('applyPatch');
    expect(tool.output).toBeDefined();
    expect(tool.requiresApproval).toBeUndefined();
    expect(createPatchTool({ root, requiresApproval: true }).requiresApproval).toBe(true);
    expect(() => createPatchTool({ root, maxFileBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('adds a file, creating its parent directories', async () => {
    const result = await call(createPatchTool({ root }), {
      patch: patchOf('*** Add File: docs/guide/intro.md', '+# Intro', '+', '+Hello.'),
    });
    expect(result).toEqual({ changes: [{ path: 'docs/guide/intro.md', kind: 'add' }] });
    expect(await read('docs/guide/intro.md')).toBe('# Intro\n\nHello.\n');
  });

  it('deletes a file', async () => {
    await write('old.txt', 'bye\n');
    const result = await call(createPatchTool({ root }), { patch: patchOf('*** Delete File: old.txt') });
    expect(result).toEqual({ changes: [{ path: 'old.txt', kind: 'delete' }] });
    expect(await snapshot()).toEqual({});
  });

  it('updates a file with several hunks', async () => {
    await write(
      'src/a.ts',
      ['import x from "x";', '', 'const a = 1;', 'const b = 2;', '', 'export { a, b };', ''].join('\n'),
    );
    const result = await call(createPatchTool({ root }), {
      patch: patchOf(
        '*** Update File: src/a.ts',
        '@@',
        '-import x from "x";',
        '+import x from "y";',
        '@@ const a = 1;',
        '-const b = 2;',
        '+const b = 3;',
        '+const c = 4;',
        '@@',
        '-export { a, b };',
        '+export { a, b, c };',
      ),
    });
    expect(result).toEqual({ changes: [{ path: 'src/a.ts', kind: 'update' }] });
    expect(await read('src/a.ts')).toBe(
      ['import x from "y";', '', 'const a = 1;', 'const b = 3;', 'const c = 4;', '', 'export { a, b, c };', ''].join(
        '\n',
      ),
    );
  });

  it('applies a hunk whose context differs from the file only in whitespace', async () => {
    await write('a.py', 'def f():\n    return 1   \n');
    await call(createPatchTool({ root }), {
      patch: patchOf('*** Update File: a.py', '@@', ' def f():', '-  return 1', '+    return 2'),
    });
    expect(await read('a.py')).toBe('def f():\n    return 2\n');
  });

  it('moves a file, changing it on the way and keeping its permission bits', async () => {
    await write('bin/run.sh', '#!/bin/sh\necho old\n');
    await fs.chmod(path.join(root, 'bin/run.sh'), 0o755);
    const result = await call(createPatchTool({ root }), {
      patch: patchOf('*** Update File: bin/run.sh', '*** Move to: scripts/run.sh', '@@', '-echo old', '+echo new'),
    });
    expect(result).toEqual({ changes: [{ path: 'scripts/run.sh', kind: 'move', from: 'bin/run.sh' }] });
    expect(await snapshot()).toEqual({ 'scripts/run.sh': '#!/bin/sh\necho new\n' });
    expect((await fs.stat(path.join(root, 'scripts/run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('moves a file without hunks', async () => {
    await write('a.txt', 'same\n');
    await call(createPatchTool({ root }), { patch: patchOf('*** Update File: a.txt', '*** Move to: b.txt') });
    expect(await snapshot()).toEqual({ 'b.txt': 'same\n' });
  });

  it('changes several files in one call and reports them in patch order', async () => {
    await write('keep.txt', 'v1\n');
    await write('gone.txt', 'x\n');
    const result = await call(createPatchTool({ root }), {
      patch: patchOf(
        '*** Add File: new.txt',
        '+new',
        '*** Update File: keep.txt',
        '@@',
        '-v1',
        '+v2',
        '*** Delete File: gone.txt',
      ),
    });
    expect(result).toEqual({
      changes: [
        { path: 'new.txt', kind: 'add' },
        { path: 'keep.txt', kind: 'update' },
        { path: 'gone.txt', kind: 'delete' },
      ],
    });
    expect(await snapshot()).toEqual({ 'keep.txt': 'v2\n', 'new.txt': 'new\n' });
  });

  it('writes nothing when the second hunk fails, and says which hunk of which file', async () => {
    await write('src/a.ts', 'one\ntwo\nthree\n');
    await write('b.txt', 'b\n');
    await write('c.txt', 'c\n');
    const before = await snapshot();
    const message = await failure(
      call(createPatchTool({ root }), {
        patch: patchOf(
          '*** Add File: added.txt',
          '+added',
          '*** Update File: b.txt',
          '@@',
          '-b',
          '+B',
          '*** Delete File: c.txt',
          '*** Update File: src/a.ts',
          '@@',
          '-one',
          '+ONE',
          '@@',
          ' two',
          '-four',
          '+FOUR',
        ),
      }),
      'TOOL_ERROR',
    );
    expect(message).toContain('hunk 2 of src/a.ts did not apply: context "two" (2 lines) not found after line 1');
    expect(await snapshot()).toEqual(before);
  });

  it('undoes the writes already made when a later write fails, leaving no temporary files', async () => {
    await write('keep.txt', 'v1\n');
    await write('gone.txt', 'x\n');
    const before = await snapshot();
    // "a" is planned as a new file and as the parent directory of "a/b.txt": only writing finds out.
    const message = await failure(
      call(createPatchTool({ root }), {
        patch: patchOf(
          '*** Update File: keep.txt',
          '@@',
          '-v1',
          '+v2',
          '*** Add File: a',
          '+file',
          '*** Add File: a/b.txt',
          '+nested',
          '*** Delete File: gone.txt',
        ),
      }),
      'TOOL_ERROR',
    );
    expect(message).toContain('"a/b.txt"');
    expect(await snapshot()).toEqual(before);
    expect(await fs.readdir(root)).toEqual(['gone.txt', 'keep.txt']);
  });

  it('refuses to add an existing file, to change a missing one, and to name a file twice', async () => {
    await write('a.txt', 'a\n');
    const tool = createPatchTool({ root });
    expect(await failure(call(tool, { patch: patchOf('*** Add File: a.txt', '+x') }), 'TOOL_ERROR')).toContain(
      'cannot add "a.txt": it already exists; use "*** Update File: a.txt"',
    );
    expect(await failure(call(tool, { patch: patchOf('*** Delete File: missing.txt') }), 'TOOL_ERROR')).toContain(
      'path "missing.txt" does not exist',
    );
    expect(
      await failure(
        call(tool, { patch: patchOf('*** Update File: a.txt', '@@', '-a', '+b', '*** Delete File: ./a.txt') }),
        'TOOL_ERROR',
      ),
    ).toContain('appears more than once');
    await write('b.txt', 'b\n');
    expect(
      await failure(call(tool, { patch: patchOf('*** Update File: a.txt', '*** Move to: b.txt') }), 'TOOL_ERROR'),
    ).toContain('the destination already exists');
    expect(await failure(call(tool, { patch: patchOf('*** Delete File: .') }), 'TOOL_ERROR')).toContain(
      'workspace root',
    );
    expect(await read('a.txt')).toBe('a\n');
  });

  it('refuses to update a binary file, a directory or a file over the size limit', async () => {
    await write('image.bin', Buffer.from([0x89, 0x50, 0x00, 0x0a]));
    await write('dir/inner.txt', 'x\n');
    await write('big.txt', 'x'.repeat(200));
    const tool = createPatchTool({ root, maxFileBytes: 100 });
    expect(
      await failure(call(tool, { patch: patchOf('*** Update File: image.bin', '@@', '+x') }), 'TOOL_ERROR'),
    ).toContain('not UTF-8 text');
    expect(await failure(call(tool, { patch: patchOf('*** Delete File: dir') }), 'TOOL_ERROR')).toContain(
      'is a directory',
    );
    expect(
      await failure(call(tool, { patch: patchOf('*** Update File: big.txt', '@@', '+x') }), 'TOOL_ERROR'),
    ).toContain('too large to patch');
    // Deleting a binary file is fine: only updates need text.
    await call(tool, { patch: patchOf('*** Delete File: image.bin') });
    expect(await exists('image.bin')).toBe(false);
  });

  it('refuses malformed patch text as TOOL_VALIDATION and unknown argument keys before running', async () => {
    const tool = createPatchTool({ root });
    expect(await failure(call(tool, { patch: 'diff --git a/x b/x' }), 'TOOL_VALIDATION')).toContain(
      'invalid patch, line 1',
    );
    expect(tool.input.safeParse({ patch: patchOf('*** Delete File: a'), dryRun: true }).success).toBe(false);
  });

  it('refuses a change list larger than the tool result limit without writing', async () => {
    const sections = Array.from({ length: 40 }, (_, index) => [`*** Add File: file-${index}.txt`, '+x']).flat();
    const message = await failure(
      call(createPatchTool({ root }), { patch: patchOf(...sections) }, context({ maxOutputBytes: 1024 })),
      'TOOL_ERROR',
    );
    expect(message).toContain('Split it into smaller patches');
    expect(await snapshot()).toEqual({});
  });

  it('stops with the abort reason and writes nothing when the call is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new HarnessError('CANCELLED', 'stop'));
    await expect(
      call(
        createPatchTool({ root }),
        { patch: patchOf('*** Add File: a.txt', '+x') },
        context({ signal: controller.signal }),
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await snapshot()).toEqual({});
  });

  it('S41: refuses paths that leave the workspace, in every kind of section (threat 21)', async () => {
    await write('inside.txt', 'inside\n');
    await fs.symlink(outside, path.join(root, 'out'));
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(root, 'leak.txt'));
    await fs.symlink('inside.txt', path.join(root, 'alias.txt'));
    const tool = createPatchTool({ root });
    const attempts = [
      patchOf('*** Add File: ../outside/planted.txt', '+x'),
      patchOf('*** Add File: /tmp/planted.txt', '+x'),
      patchOf('*** Add File: out/planted.txt', '+x'),
      patchOf('*** Delete File: ../outside/secret.txt'),
      patchOf('*** Delete File: leak.txt'),
      patchOf('*** Update File: out/secret.txt', '@@', '-outside secret', '+changed'),
      patchOf('*** Update File: inside.txt', '*** Move to: ../outside/moved.txt'),
      patchOf('*** Update File: inside.txt', '*** Move to: out/moved.txt'),
      // A symlink inside the workspace is not patched through either: the model should name the target.
      patchOf('*** Update File: alias.txt', '@@', '-inside', '+changed'),
    ];
    for (const patch of attempts) {
      const message = await failure(call(tool, { patch }), 'POLICY_DENIED');
      expect(message).not.toContain('/tmp/planted.txt');
    }
    expect(await fs.readdir(outside)).toEqual(['secret.txt']);
    expect(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('outside secret\n');
    expect(await read('inside.txt')).toBe('inside\n');
  });

  it('S44: __proto__ and constructor keys in the arguments are refused (threat 24)', () => {
    const tool = createPatchTool({ root });
    for (const raw of ['{"patch":"x","__proto__":{"polluted":true}}', '{"patch":"x","constructor":{"prototype":{}}}']) {
      const parsed = tool.input.safeParse(JSON.parse(raw));
      expect(parsed.success).toBe(false);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
