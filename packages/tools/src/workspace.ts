/**
 * Confinement of model-supplied paths to one workspace directory (THREATS item 21).
 *
 * A path is checked twice. At resolution it is refused when it is absolute, holds a NUL byte,
 * normalises to somewhere above the root, or crosses a symlink whose real target lies outside the
 * root; what remains is canonicalised (symlinks resolved). At use, files are opened with
 * `O_NOFOLLOW` on the canonical path, so a symlink swapped in after the check is refused, and the
 * opened file is compared with what the canonical path now names, which catches a parent
 * directory swapped for a symlink. Every refusal names the path the way the model wrote it (an
 * absolute path is not repeated); host paths never appear in a message.
 */
import { randomBytes } from 'node:crypto';
import { constants, type Dirent, realpathSync, type Stats, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HarnessError } from '@script-harness/core';

/** A model-supplied path after resolution inside the workspace. */
export interface WorkspacePath {
  /** The path exactly as the model wrote it. */
  readonly requested: string;
  /** Normalised path relative to the root with `/` separators; `.` is the root itself. */
  readonly display: string;
  /**
   * Canonical absolute host path: symlinks resolved along the existing part, the missing part
   * appended. For the tools' own use only — never shown to the model.
   */
  readonly absolute: string;
  /** Whether something exists at the path. */
  readonly exists: boolean;
  /** Whether the last component as written is a symlink (its target lies inside the root). */
  readonly isSymlink: boolean;
}

export interface AbortOptions {
  /** Checked before and between file-system steps; an aborted call stops with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface WriteOutcome {
  /** UTF-8 size of what was written. */
  readonly bytes: number;
  /** True when the file did not exist before. */
  readonly created: boolean;
}

export interface DirectoryEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

export interface WorkspaceRoot {
  /** Canonical absolute path of the root directory (host-side only). */
  readonly directory: string;
  /** Resolves a model-supplied relative path inside the root, or throws POLICY_DENIED / TOOL_ERROR. */
  resolve(requested: string, options?: AbortOptions): Promise<WorkspacePath>;
  /** Opens a resolved file for reading, refusing a symlink swapped in since resolution. */
  openForRead(target: WorkspacePath): Promise<fs.FileHandle>;
  /**
   * Writes a file atomically (temporary file in the same directory, then rename), creating missing
   * parent directories inside the root. Refuses to write through a symlink.
   */
  writeAtomically(target: WorkspacePath, content: string, options?: AbortOptions): Promise<WriteOutcome>;
  /** Lists one resolved directory, refusing a symlink swapped in since resolution. */
  readDirectory(target: WorkspacePath, options?: AbortOptions): Promise<DirectoryEntry[]>;
  /** The path of an entry of a listed directory, without resolving it again. */
  child(parent: WorkspacePath, name: string, type: DirectoryEntry['type']): WorkspacePath;
}

// O_NOFOLLOW does not exist on Windows; there the lstat made just before opening is the only
// at-use check of the last component.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A FIFO opened for reading blocks until a writer appears, holding a thread-pool thread; opening
// non-blocking lets the regular-file check refuse it instead.
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const LONGEST_QUOTED_PATH = 200;

/**
 * Creates the confinement helper for one workspace directory. The directory must exist; it is
 * canonicalised once here, so a root reached through a symlink works.
 */
export function createWorkspaceRoot(rootDir: string): WorkspaceRoot {
  let directory: string;
  try {
    directory = realpathSync(path.resolve(rootDir));
  } catch (error) {
    throw new HarnessError('INVALID_REQUEST', 'the workspace root directory does not exist or cannot be read', {
      cause: error,
    });
  }
  if (!statSync(directory).isDirectory()) {
    throw new HarnessError('INVALID_REQUEST', 'the workspace root is not a directory');
  }

  const isInside = (candidate: string): boolean => {
    if (candidate === directory) return true;
    const prefix = directory.endsWith(path.sep) ? directory : directory + path.sep;
    return candidate.startsWith(prefix);
  };

  async function resolve(requested: string, options: AbortOptions = {}): Promise<WorkspacePath> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (typeof requested !== 'string') throw denied('the path must be a string');
    if (requested.includes('\0')) throw denied(`path ${quote(requested)} contains a NUL byte`);
    if (path.isAbsolute(requested) || path.win32.isAbsolute(requested)) {
      // Not echoed: an absolute path may be a host path, and messages never carry host paths.
      throw denied('absolute paths are not allowed; use a path relative to the workspace root');
    }
    // Lexical normalisation first: `a/../../b` is refused before the file system is consulted.
    // Percent-encoded dots are ordinary characters here, so `%2e%2e` stays a literal file name.
    const relative = path.relative(directory, path.resolve(directory, requested));
    if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw denied(`path ${quote(requested)} leads outside the workspace`);
    }
    const display = relative === '' ? '.' : relative.split(path.sep).join('/');
    const components = relative === '' ? [] : relative.split(path.sep);

    // Walk the existing part one component at a time so a symlink anywhere along the path is seen
    // and its real target checked, including a dangling link where the missing part starts.
    let current = directory;
    let isSymlink = false;
    for (let index = 0; index < components.length; index++) {
      signal?.throwIfAborted();
      const next = path.join(current, components[index] as string);
      let stats: Stats;
      try {
        stats = await fs.lstat(next);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') {
          const absolute = path.join(next, ...components.slice(index + 1));
          return { requested, display, absolute, exists: false, isSymlink: false };
        }
        throw fileSystemFailure(error, requested, 'resolve');
      }
      isSymlink = stats.isSymbolicLink();
      if (isSymlink) {
        let target: string;
        try {
          target = await fs.realpath(next);
        } catch (error) {
          const code = errorCode(error);
          if (code === 'ENOENT' || code === 'ELOOP') {
            throw denied(`path ${quote(requested)} goes through a symlink whose target does not exist`);
          }
          throw fileSystemFailure(error, requested, 'resolve');
        }
        if (!isInside(target)) {
          throw denied(`path ${quote(requested)} goes through a symlink that points outside the workspace`);
        }
        current = target;
      } else {
        if (index < components.length - 1 && !stats.isDirectory()) {
          throw new HarnessError(
            'TOOL_ERROR',
            `path ${quote(requested)} continues past something that is not a directory`,
          );
        }
        current = next;
      }
    }
    return { requested, display, absolute: current, exists: true, isSymlink };
  }

  /**
   * The at-use check: the opened file must still be what the canonical path names, and that
   * path must still lead inside the root. O_NOFOLLOW covers only the last component; this covers
   * a parent directory replaced by a symlink between resolution and open.
   */
  async function verifyOpened(handle: fs.FileHandle, absolute: string, target: WorkspacePath): Promise<void> {
    const opened = await handle.stat();
    let canonical: string;
    let named: Stats;
    try {
      canonical = await fs.realpath(absolute);
      named = await fs.stat(canonical);
    } catch {
      throw changed(target);
    }
    if (!isInside(canonical) || named.dev !== opened.dev || named.ino !== opened.ino) throw changed(target);
  }

  async function openForRead(target: WorkspacePath): Promise<fs.FileHandle> {
    if (O_NOFOLLOW === 0) await refuseSymlinkAt(target.absolute, target);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(target.absolute, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      throw fileSystemFailure(error, target.requested, 'open');
    }
    try {
      await verifyOpened(handle, target.absolute, target);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Creates each missing directory between the nearest existing ancestor and `dir`, one by one. */
  async function makeParents(dir: string, target: WorkspacePath, signal: AbortSignal | undefined): Promise<void> {
    const missing: string[] = [];
    let probe = dir;
    for (;;) {
      const stats = await lstatOrUndefined(probe, target);
      if (stats !== undefined) {
        if (stats.isSymbolicLink()) throw changed(target);
        if (!stats.isDirectory()) {
          throw new HarnessError('TOOL_ERROR', `a parent of ${quote(target.requested)} is not a directory`);
        }
        break;
      }
      missing.unshift(probe);
      probe = path.dirname(probe);
      // The root itself exists, so the walk ends there at the latest; leaving it means the root moved.
      if (!isInside(probe)) throw changed(target);
    }
    for (const next of missing) {
      signal?.throwIfAborted();
      try {
        // Never recursive: `mkdir -p` would follow a symlink planted in a component.
        await fs.mkdir(next);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw fileSystemFailure(error, target.requested, 'create');
        const stats = await fs.lstat(next);
        if (stats.isSymbolicLink() || !stats.isDirectory()) throw changed(target);
      }
    }
  }

  async function writeAtomically(
    target: WorkspacePath,
    content: string,
    options: AbortOptions = {},
  ): Promise<WriteOutcome> {
    const { signal } = options;
    if (target.isSymlink) {
      throw denied(`path ${quote(target.requested)} is a symlink; write to the file it points to instead`);
    }
    if (target.absolute === directory) {
      throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is the workspace root, not a file`);
    }
    const parent = path.dirname(target.absolute);
    signal?.throwIfAborted();
    await makeParents(parent, target, signal);

    let previousMode: number | undefined;
    const existing = await lstatOrUndefined(target.absolute, target);
    if (existing !== undefined) {
      if (existing.isSymbolicLink()) throw changed(target);
      if (existing.isDirectory()) {
        throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is a directory`);
      }
      if (!existing.isFile()) {
        throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is not a regular file`);
      }
      previousMode = existing.mode & 0o7777;
    }

    // The temporary name is short and fixed-length so it fits even when the target name is at the
    // file-name limit; O_EXCL makes a planted file or symlink at that name an error, not a target.
    const temporary = path.join(parent, `.script-harness-${randomBytes(8).toString('hex')}.tmp`);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(
        temporary,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW,
        previousMode ?? 0o666,
      );
    } catch (error) {
      throw fileSystemFailure(error, target.requested, 'write');
    }
    try {
      try {
        await verifyOpened(handle, temporary, target);
        if (previousMode !== undefined) await handle.chmod(previousMode);
        signal?.throwIfAborted();
        await handle.writeFile(content, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
        await handle.sync();
      } finally {
        await handle.close();
      }
      signal?.throwIfAborted();
      // Last look before the rename: a symlink placed at the target since the first look is
      // refused (rename would replace the link, which is not what the model asked for).
      const before = await lstatOrUndefined(target.absolute, target);
      if (before?.isSymbolicLink() || before?.isDirectory()) throw changed(target);
      try {
        await fs.rename(temporary, target.absolute);
      } catch (error) {
        throw fileSystemFailure(error, target.requested, 'write');
      }
      return { bytes: Buffer.byteLength(content, 'utf8'), created: before === undefined };
    } catch (error) {
      // The failure that got us here is what the caller must see; if removing the temporary file
      // fails too, a stray `.script-harness-*.tmp` is left behind rather than masking it.
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async function readDirectory(target: WorkspacePath, options: AbortOptions = {}): Promise<DirectoryEntry[]> {
    const { signal } = options;
    signal?.throwIfAborted();
    let before: Stats;
    try {
      before = await fs.lstat(target.absolute);
    } catch (error) {
      throw fileSystemFailure(error, target.requested, 'list');
    }
    if (before.isSymbolicLink()) throw changed(target);
    if (!before.isDirectory()) {
      throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is not a directory`);
    }
    let dirents: Dirent[];
    try {
      dirents = await fs.readdir(target.absolute, { withFileTypes: true });
    } catch (error) {
      throw fileSystemFailure(error, target.requested, 'list');
    }
    // The listing came from whatever the path named while reading; make sure that was still the
    // directory checked above and that it still lies inside the root.
    let canonical: string;
    let after: Stats;
    try {
      canonical = await fs.realpath(target.absolute);
      after = await fs.stat(canonical);
    } catch {
      throw changed(target);
    }
    if (!isInside(canonical) || after.dev !== before.dev || after.ino !== before.ino) throw changed(target);
    return dirents
      .map((dirent) => ({
        name: dirent.name,
        type: dirent.isSymbolicLink()
          ? ('symlink' as const)
          : dirent.isDirectory()
            ? ('directory' as const)
            : dirent.isFile()
              ? ('file' as const)
              : ('other' as const),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  function child(parent: WorkspacePath, name: string, type: DirectoryEntry['type']): WorkspacePath {
    const display = parent.display === '.' ? name : `${parent.display}/${name}`;
    return {
      requested: display,
      display,
      absolute: path.join(parent.absolute, name),
      exists: true,
      isSymlink: type === 'symlink',
    };
  }

  return Object.freeze({ directory, resolve, openForRead, writeAtomically, readDirectory, child });
}

async function refuseSymlinkAt(absolute: string, target: WorkspacePath): Promise<void> {
  const stats = await lstatOrUndefined(absolute, target);
  if (stats?.isSymbolicLink()) throw changed(target);
}

async function lstatOrUndefined(absolute: string, target: WorkspacePath): Promise<Stats | undefined> {
  try {
    return await fs.lstat(absolute);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileSystemFailure(error, target.requested, 'inspect');
  }
}

function denied(message: string): HarnessError {
  return new HarnessError('POLICY_DENIED', message);
}

function changed(target: WorkspacePath): HarnessError {
  return denied(`path ${quote(target.requested)} changed into a symlink or moved while in use; refused`);
}

/** Quotes a model-supplied path for a message: JSON escaping shows control characters, long paths are cut. */
export function quote(requested: string): string {
  const shown = requested.length > LONGEST_QUOTED_PATH ? `${requested.slice(0, LONGEST_QUOTED_PATH)}...` : requested;
  return JSON.stringify(shown);
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns a file-system error into a harness error that names the model's path. Node's own messages
 * carry absolute host paths, so they are never passed on; only the errno code is kept.
 */
export function fileSystemFailure(error: unknown, requested: string, action: string): Error {
  if (error instanceof HarnessError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const shown = quote(requested);
  const code = errorCode(error);
  switch (code) {
    case 'ENOENT':
      return new HarnessError('TOOL_ERROR', `path ${shown} does not exist`);
    case 'EACCES':
    case 'EPERM':
      return new HarnessError('TOOL_ERROR', `permission denied: cannot ${action} ${shown}`);
    case 'EISDIR':
      return new HarnessError('TOOL_ERROR', `path ${shown} is a directory`);
    case 'ENOTDIR':
      return new HarnessError('TOOL_ERROR', `a parent of ${shown} is not a directory`);
    case 'ELOOP':
    case 'EMLINK':
      // What O_NOFOLLOW reports when the last component is a symlink.
      return new HarnessError('POLICY_DENIED', `path ${shown} is a symlink where a file was expected; refused`);
    case 'ENAMETOOLONG':
      return new HarnessError('TOOL_ERROR', `path ${shown} is too long`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new HarnessError('TOOL_ERROR', `no space left to ${action} ${shown}`);
    case 'EROFS':
      return new HarnessError('TOOL_ERROR', `cannot ${action} ${shown}: the file system is read-only`);
    default:
      return new HarnessError('TOOL_ERROR', `cannot ${action} ${shown}${code === undefined ? '' : ` (${code})`}`);
  }
}
