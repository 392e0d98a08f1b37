import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { HarnessError } from '@script-harness/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkspaceRoot, type WorkspaceRoot } from './workspace.ts';

let base: string;
let rootDir: string;
let outsideDir: string;
let workspace: WorkspaceRoot;

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'script-harness-workspace-'));
  rootDir = path.join(base, 'root');
  outsideDir = path.join(base, 'outside');
  await fs.mkdir(rootDir);
  await fs.mkdir(outsideDir);
  await fs.writeFile(path.join(outsideDir, 'secret.txt'), 'outside secret\n');
  await fs.writeFile(path.join(rootDir, 'a.txt'), 'inside\n');
  await fs.mkdir(path.join(rootDir, 'sub'));
  await fs.writeFile(path.join(rootDir, 'sub', 'b.txt'), 'nested\n');
  workspace = createWorkspaceRoot(rootDir);
});

afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** Awaits a refusal and checks its code and that its message reveals no host path of the test. */
async function refusal(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HarnessError);
  const harnessError = error as HarnessError;
  expect(harnessError.code).toBe(code);
  expect(harnessError.message).not.toContain(base);
  expect(harnessError.message).not.toContain(await fs.realpath(base));
  return harnessError.message;
}

describe('createWorkspaceRoot', () => {
  it('resolves a relative path to a display path with forward slashes and a canonical absolute path', async () => {
    const resolved = await workspace.resolve('./sub//b.txt');
    expect(resolved.display).toBe('sub/b.txt');
    expect(resolved.requested).toBe('./sub//b.txt');
    expect(resolved.exists).toBe(true);
    expect(resolved.isSymlink).toBe(false);
    expect(resolved.absolute).toBe(path.join(await fs.realpath(rootDir), 'sub', 'b.txt'));
  });

  it('resolves dot-dot segments that stay inside the root', async () => {
    const resolved = await workspace.resolve('sub/../a.txt');
    expect(resolved.display).toBe('a.txt');
    expect(resolved.exists).toBe(true);
  });

  it('shows the root itself as "."', async () => {
    const resolved = await workspace.resolve('.');
    expect(resolved.display).toBe('.');
    expect(resolved.absolute).toBe(workspace.directory);
  });

  it('resolves a missing path below the nearest existing directory', async () => {
    const resolved = await workspace.resolve('sub/new/deeper/file.txt');
    expect(resolved.exists).toBe(false);
    expect(resolved.display).toBe('sub/new/deeper/file.txt');
    expect(resolved.absolute).toBe(path.join(workspace.directory, 'sub', 'new', 'deeper', 'file.txt'));
  });

  it('accepts a root reached through a symlink and canonicalises it', async () => {
    const linkedRoot = path.join(base, 'linked-root');
    await fs.symlink(rootDir, linkedRoot);
    const viaLink = createWorkspaceRoot(linkedRoot);
    expect(viaLink.directory).toBe(await fs.realpath(rootDir));
    expect((await viaLink.resolve('a.txt')).exists).toBe(true);
  });

  it('refuses a root that does not exist', () => {
    expect(() => createWorkspaceRoot(path.join(base, 'missing'))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('refuses a root that is a file', () => {
    expect(() => createWorkspaceRoot(path.join(rootDir, 'a.txt'))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('S41: a path that climbs out of the root with ../ is refused (threat 21)', async () => {
    const message = await refusal(workspace.resolve('../outside/secret.txt'), 'POLICY_DENIED');
    expect(message).toContain('"../outside/secret.txt"');
    await refusal(workspace.resolve('sub/../../outside/secret.txt'), 'POLICY_DENIED');
    await refusal(workspace.resolve('..'), 'POLICY_DENIED');
  });

  it('S41: an absolute path is refused, even one that names a file inside the root (threat 21)', async () => {
    await refusal(workspace.resolve('/etc/passwd'), 'POLICY_DENIED');
    const message = await refusal(workspace.resolve(path.join(rootDir, 'a.txt')), 'POLICY_DENIED');
    expect(message).toContain('absolute');
  });

  it('S41: a Windows-style absolute path is refused as well (threat 21)', async () => {
    await refusal(workspace.resolve('C:\\Windows\\system.ini'), 'POLICY_DENIED');
    await refusal(workspace.resolve('\\\\server\\share\\file'), 'POLICY_DENIED');
  });

  it('S41: a path with a NUL byte is refused (threat 21)', async () => {
    const message = await refusal(workspace.resolve('a.txt\0../../etc/passwd'), 'POLICY_DENIED');
    expect(message).toContain('NUL');
    // The NUL is shown escaped, so the message stays printable.
    expect(message).not.toContain('\0');
  });

  it('S41: percent-encoded dots are a literal file name inside the root (threat 21)', async () => {
    const resolved = await workspace.resolve('%2e%2e/%2e%2e/secret.txt');
    expect(resolved.display).toBe('%2e%2e/%2e%2e/secret.txt');
    expect(resolved.absolute.startsWith(workspace.directory + path.sep)).toBe(true);
    expect(resolved.exists).toBe(false);
  });

  it('S41: backslashes are part of a file name on POSIX, not separators (threat 21)', async () => {
    const resolved = await workspace.resolve('..\\outside\\secret.txt');
    expect(resolved.display).toBe('..\\outside\\secret.txt');
    expect(path.dirname(resolved.absolute)).toBe(workspace.directory);
  });

  it('S41: a symlink inside the workspace that points to a file outside is refused (threat 21)', async () => {
    await fs.symlink(path.join(outsideDir, 'secret.txt'), path.join(rootDir, 'leak.txt'));
    const message = await refusal(workspace.resolve('leak.txt'), 'POLICY_DENIED');
    expect(message).toContain('"leak.txt"');
    expect(message).toContain('outside the workspace');
  });

  it('S41: a symlink inside the workspace that points to a directory outside is refused (threat 21)', async () => {
    await fs.symlink(outsideDir, path.join(rootDir, 'out'));
    await refusal(workspace.resolve('out'), 'POLICY_DENIED');
    await refusal(workspace.resolve('out/secret.txt'), 'POLICY_DENIED');
    await refusal(workspace.resolve('out/not-yet-there.txt'), 'POLICY_DENIED');
  });

  it('S41: a relative symlink that climbs out of the root is refused (threat 21)', async () => {
    await fs.symlink('../../outside/secret.txt', path.join(rootDir, 'sub', 'climb.txt'));
    await refusal(workspace.resolve('sub/climb.txt'), 'POLICY_DENIED');
  });

  it('S41: a dangling symlink is refused, since its target cannot be checked (threat 21)', async () => {
    await fs.symlink(path.join(outsideDir, 'not-there.txt'), path.join(rootDir, 'dangling.txt'));
    await refusal(workspace.resolve('dangling.txt'), 'POLICY_DENIED');
  });

  it('S41: an in-root symlink to an in-root file is allowed and resolves to its target (threat 21)', async () => {
    await fs.symlink('sub/b.txt', path.join(rootDir, 'alias.txt'));
    const resolved = await workspace.resolve('alias.txt');
    expect(resolved.isSymlink).toBe(true);
    expect(resolved.display).toBe('alias.txt');
    expect(resolved.absolute).toBe(path.join(workspace.directory, 'sub', 'b.txt'));
    const handle = await workspace.openForRead(resolved);
    try {
      expect(await handle.readFile('utf8')).toBe('nested\n');
    } finally {
      await handle.close();
    }
  });

  it('S41: writing through an in-root symlink is refused (threat 21)', async () => {
    await fs.symlink('a.txt', path.join(rootDir, 'alias.txt'));
    const resolved = await workspace.resolve('alias.txt');
    await refusal(workspace.writeAtomically(resolved, 'changed'), 'POLICY_DENIED');
    expect(await fs.readFile(path.join(rootDir, 'a.txt'), 'utf8')).toBe('inside\n');
    expect((await fs.lstat(path.join(rootDir, 'alias.txt'))).isSymbolicLink()).toBe(true);
  });

  it('S41: a symlink swapped in for a checked file before it is opened is refused (threat 21)', async () => {
    const resolved = await workspace.resolve('a.txt');
    await fs.rm(path.join(rootDir, 'a.txt'));
    await fs.symlink(path.join(outsideDir, 'secret.txt'), path.join(rootDir, 'a.txt'));
    const message = await refusal(workspace.openForRead(resolved), 'POLICY_DENIED');
    // Refused by O_NOFOLLOW at open, before the opened-file comparison would have caught it.
    expect(message).toContain('symlink where a file was expected');
  });

  it('S41: a parent directory swapped for a symlink before the file is opened is refused (threat 21)', async () => {
    await fs.writeFile(path.join(outsideDir, 'b.txt'), 'outside twin\n');
    const resolved = await workspace.resolve('sub/b.txt');
    await fs.rename(path.join(rootDir, 'sub'), path.join(rootDir, 'sub-before'));
    await fs.symlink(outsideDir, path.join(rootDir, 'sub'));
    await refusal(workspace.openForRead(resolved), 'POLICY_DENIED');
  });

  it('S41: a symlink planted at a write target after the check is refused and nothing outside changes (threat 21)', async () => {
    const resolved = await workspace.resolve('planted.txt');
    expect(resolved.exists).toBe(false);
    await fs.symlink(path.join(outsideDir, 'secret.txt'), path.join(rootDir, 'planted.txt'));
    await refusal(workspace.writeAtomically(resolved, 'overwritten'), 'POLICY_DENIED');
    expect(await fs.readFile(path.join(outsideDir, 'secret.txt'), 'utf8')).toBe('outside secret\n');
    expect(await fs.readdir(rootDir)).toEqual(expect.arrayContaining(['a.txt', 'planted.txt', 'sub']));
    expect((await fs.readdir(rootDir)).some((name) => name.endsWith('.tmp'))).toBe(false);
  });

  it('S41: a parent directory swapped for a symlink before a write is refused (threat 21)', async () => {
    const resolved = await workspace.resolve('sub/new.txt');
    await fs.rename(path.join(rootDir, 'sub'), path.join(rootDir, 'sub-before'));
    await fs.symlink(outsideDir, path.join(rootDir, 'sub'));
    await refusal(workspace.writeAtomically(resolved, 'escaped'), 'POLICY_DENIED');
    expect(await fs.readdir(outsideDir)).toEqual(['secret.txt']);
  });

  it('S41: a directory swapped for a symlink before it is listed is refused (threat 21)', async () => {
    const resolved = await workspace.resolve('sub');
    await fs.rename(path.join(rootDir, 'sub'), path.join(rootDir, 'sub-before'));
    await fs.symlink(outsideDir, path.join(rootDir, 'sub'));
    await refusal(workspace.readDirectory(resolved), 'POLICY_DENIED');
  });

  it('writes atomically, creating missing parent directories one by one', async () => {
    const resolved = await workspace.resolve('made/of/parts.txt');
    const outcome = await workspace.writeAtomically(resolved, 'héllo');
    expect(outcome).toEqual({ bytes: 6, created: true });
    expect(await fs.readFile(path.join(rootDir, 'made', 'of', 'parts.txt'), 'utf8')).toBe('héllo');
    expect(await fs.readdir(path.join(rootDir, 'made', 'of'))).toEqual(['parts.txt']);
  });

  it('stops before any I/O when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(workspace.resolve('a.txt', { signal: controller.signal })).rejects.toThrow('stopped');
    const resolved = await workspace.resolve('fresh.txt');
    await expect(workspace.writeAtomically(resolved, 'x', { signal: controller.signal })).rejects.toThrow('stopped');
    await expect(fs.access(path.join(rootDir, 'fresh.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
