/**
 * The `applyPatch` tool: edits workspace files with the `*** Begin Patch` format models are trained
 * to write (add, delete, update and move files; context-anchored hunks instead of line numbers).
 *
 * A call is all or nothing. Every file is read, every hunk matched and every new content computed
 * before anything is written; a hunk that does not apply fails the call with nothing changed. The
 * writes then go through the workspace's atomic write, removals first move the file aside, and a
 * failure part-way through (a full disk, a file changed meanwhile) undoes what was already done.
 * Every path goes through the workspace root's confinement (workspace.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AnyTool, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { jsonBytes } from './json-size.ts';
import {
  createWorkspaceRoot,
  errorCode,
  fileSystemFailure,
  quote,
  type WorkspacePath,
  type WorkspaceRoot,
} from './workspace.ts';

export interface PatchToolOptions {
  /** Directory the patch may change; it must exist. Everything outside it is refused. */
  readonly root: string;
  /** Largest existing file (bytes) a patch may update, move or delete; default 4 MiB. */
  readonly maxFileBytes?: number;
  /** Whether a call needs approval before it runs; default false (like writeFile). */
  readonly requiresApproval?: boolean | ((args: ApplyPatchArgs) => boolean);
}

export const DEFAULT_MAX_PATCH_FILE_BYTES = 4 * 1024 * 1024;

const BEGIN_PATCH = '*** Begin Patch';
const END_PATCH = '*** End Patch';
const ADD_FILE = '*** Add File: ';
const DELETE_FILE = '*** Delete File: ';
const UPDATE_FILE = '*** Update File: ';
const MOVE_TO = '*** Move to: ';
const END_OF_FILE = '*** End of File';
/** `@@ -12,7 +12,8 @@` from a unified diff: line numbers, not context, so it anchors nothing. */
const UNIFIED_RANGE = /^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@/;
const BYTE_ORDER_MARK = '\uFEFF';
const LONGEST_QUOTED_LINE = 80;
/** Room in the result for everything but the change list. */
const RESULT_OVERHEAD_BYTES = 256;

const ApplyPatchInput = z.strictObject({
  patch: z
    .string()
    .min(1)
    .describe(
      'The patch text, from "*** Begin Patch" to "*** End Patch". Sections: "*** Add File: path" (every line ' +
        'prefixed "+"), "*** Delete File: path", "*** Update File: path" (optionally followed by "*** Move to: ' +
        'new/path") with hunks that start with "@@" (optionally "@@ line to find first") and lines prefixed " " ' +
        '(unchanged context), "-" (removed) or "+" (added); "*** End of File" anchors a hunk at the end.',
    ),
});

const PatchChange = z.object({
  path: z.string().describe('The file path relative to the workspace root (the new path of a move).'),
  kind: z.enum(['add', 'delete', 'update', 'move']),
  from: z.string().optional().describe('For a move: the old path.'),
});

const ApplyPatchOutput = z.object({
  changes: z.array(PatchChange).describe('One entry per file section of the patch, in patch order.'),
});

export type ApplyPatchArgs = z.output<typeof ApplyPatchInput>;
export type ApplyPatchResult = z.output<typeof ApplyPatchOutput>;
export type PatchChangeRecord = z.output<typeof PatchChange>;

/** One `@@` section of an update: the lines it expects and what replaces them. */
export interface PatchHunk {
  /** The line after `@@`, searched for first; the hunk applies after it. */
  readonly anchor: string | undefined;
  /** Context and removed lines, in order: what must be found in the file. */
  readonly oldLines: readonly string[];
  /** Context and added lines, in order: what replaces them. */
  readonly newLines: readonly string[];
  /** `*** End of File` followed the hunk: it matches at the end of the file. */
  readonly atEndOfFile: boolean;
}

export type PatchOperation =
  | { readonly kind: 'add'; readonly path: string; readonly lines: readonly string[] }
  | { readonly kind: 'delete'; readonly path: string }
  | {
      readonly kind: 'update';
      readonly path: string;
      readonly moveTo: string | undefined;
      readonly hunks: readonly PatchHunk[];
    };

/** Creates the `applyPatch` tool, confined to `options.root`. */
export function createPatchTool(options: PatchToolOptions): AnyTool {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_PATCH_FILE_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes <= 0) {
    throw new HarnessError('INVALID_REQUEST', 'maxFileBytes must be a positive integer');
  }
  const workspace = createWorkspaceRoot(options.root);
  return defineTool<ApplyPatchArgs, ApplyPatchResult>({
    name: 'applyPatch',
    description:
      'Applies a patch to workspace files: "*** Begin Patch", then sections "*** Add File: path" (lines prefixed ' +
      '"+"), "*** Delete File: path" or "*** Update File: path" (optionally "*** Move to: new/path") with "@@" hunks ' +
      'of " " context, "-" removed and "+" added lines, then "*** End Patch". Hunks are found by their context ' +
      '(include about 3 unchanged lines around each change), in file order. All or nothing: if any hunk does not ' +
      'apply, no file is changed.',
    input: ApplyPatchInput,
    output: ApplyPatchOutput,
    ...(options.requiresApproval === undefined ? {} : { requiresApproval: options.requiresApproval }),
    execute: (args, context) => applyPatch(workspace, maxFileBytes, args, context),
  });
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Parses the patch text into file operations. Lenient where models commonly slip (CRLF line ends,
 * blank lines around sections, a unified-diff `@@ -1,3 +1,4 @@` header, a first hunk without `@@`);
 * strict about everything that would make the meaning unclear. Throws TOOL_VALIDATION naming the
 * patch line.
 */
export function parsePatch(text: string): PatchOperation[] {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  let first = 0;
  while (first < lines.length && (lines[first] as string).trim() === '') first++;
  let last = lines.length - 1;
  while (last > first && (lines[last] as string).trim() === '') last--;
  if (lines[first]?.trim() !== BEGIN_PATCH) throw invalidPatch(first + 1, `the patch must start with "${BEGIN_PATCH}"`);
  if (last === first || lines[last]?.trim() !== END_PATCH) {
    throw invalidPatch(last + 1, `the patch must end with "${END_PATCH}"`);
  }

  const operations: PatchOperation[] = [];
  let index = first + 1;
  const lineAt = (at: number): string => lines[at] as string;
  const isSectionStart = (line: string): boolean =>
    line.startsWith(ADD_FILE) || line.startsWith(DELETE_FILE) || line.startsWith(UPDATE_FILE);
  const pathOf = (line: string, prefix: string, at: number): string => {
    const value = line.slice(prefix.length).trim();
    if (value === '') throw invalidPatch(at + 1, `"${prefix.trim()}" needs a path`);
    return value;
  };

  while (index < last) {
    const line = lineAt(index);
    if (line.trim() === '') {
      index++;
      continue;
    }
    if (line.startsWith(ADD_FILE)) {
      const filePath = pathOf(line, ADD_FILE, index);
      index++;
      const added: string[] = [];
      while (index < last && !isSectionStart(lineAt(index))) {
        const body = lineAt(index);
        if (body.startsWith('+')) added.push(body.slice(1));
        else if (body.trim() !== '' || !onlyBlankUntilSection(lines, index, last, isSectionStart)) {
          throw invalidPatch(index + 1, `every line of an added file starts with "+" (in ${filePath})`);
        }
        index++;
      }
      operations.push({ kind: 'add', path: filePath, lines: added });
      continue;
    }
    if (line.startsWith(DELETE_FILE)) {
      operations.push({ kind: 'delete', path: pathOf(line, DELETE_FILE, index) });
      index++;
      continue;
    }
    if (line.startsWith(UPDATE_FILE)) {
      const filePath = pathOf(line, UPDATE_FILE, index);
      const sectionLine = index + 1;
      index++;
      let moveTo: string | undefined;
      if (index < last && lineAt(index).startsWith(MOVE_TO)) {
        moveTo = pathOf(lineAt(index), MOVE_TO, index);
        index++;
      }
      const hunks: PatchHunk[] = [];
      let current:
        | { anchor: string | undefined; oldLines: string[]; newLines: string[]; atEndOfFile: boolean }
        | undefined;
      let currentLine = 0;
      const finish = (): void => {
        if (current === undefined) return;
        if (current.oldLines.length === 0 && current.newLines.length === 0) {
          throw invalidPatch(currentLine, `hunk ${hunks.length + 1} of ${filePath} has no lines`);
        }
        hunks.push(current);
        current = undefined;
      };
      while (index < last && !isSectionStart(lineAt(index))) {
        const body = lineAt(index);
        if (body.startsWith('@@')) {
          finish();
          const header = body.slice(2).trim();
          const anchor = header === '' || UNIFIED_RANGE.test(header) ? undefined : header;
          current = { anchor, oldLines: [], newLines: [], atEndOfFile: false };
          currentLine = index + 1;
        } else if (body.trim() === END_OF_FILE) {
          if (current === undefined) throw invalidPatch(index + 1, `"${END_OF_FILE}" must follow a hunk`);
          current.atEndOfFile = true;
          finish();
        } else if (body === '' && onlyBlankUntilSection(lines, index, last, isSectionStart)) {
          // Blank lines between this section and the next separate sections; they are not context.
        } else if (body.startsWith(' ') || body.startsWith('-') || body.startsWith('+') || body === '') {
          if (current === undefined) {
            // The first hunk of a section may leave out its `@@` line.
            if (hunks.length > 0)
              throw invalidPatch(index + 1, 'a hunk after an "*** End of File" must start with "@@"');
            current = { anchor: undefined, oldLines: [], newLines: [], atEndOfFile: false };
            currentLine = index + 1;
          }
          const marker = body[0];
          const content = body.slice(1);
          // A blank patch line is an empty context line: editors strip the lone space.
          if (marker === ' ' || marker === undefined) {
            current.oldLines.push(content);
            current.newLines.push(content);
          } else if (marker === '-') current.oldLines.push(content);
          else current.newLines.push(content);
        } else {
          throw invalidPatch(
            index + 1,
            `expected a hunk line starting with " ", "-", "+" or "@@" in ${filePath}, found ${quoteLine(body)}`,
          );
        }
        index++;
      }
      finish();
      if (hunks.length === 0 && moveTo === undefined) {
        throw invalidPatch(sectionLine, `"${UPDATE_FILE}${filePath}" has no hunks`);
      }
      operations.push({ kind: 'update', path: filePath, moveTo, hunks });
      continue;
    }
    throw invalidPatch(
      index + 1,
      `expected "${ADD_FILE.trim()}", "${DELETE_FILE.trim()}", "${UPDATE_FILE.trim()}" or "${END_PATCH}", found ${quoteLine(line)}`,
    );
  }
  if (operations.length === 0) throw invalidPatch(last + 1, 'the patch changes no files');
  return operations;
}

function onlyBlankUntilSection(
  lines: readonly string[],
  from: number,
  last: number,
  isSectionStart: (line: string) => boolean,
): boolean {
  for (let index = from; index < last; index++) {
    const line = lines[index] as string;
    if (isSectionStart(line)) return true;
    if (line.trim() !== '') return false;
  }
  return true;
}

function invalidPatch(line: number, message: string): HarnessError {
  return new HarnessError('TOOL_VALIDATION', `invalid patch, line ${line}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Applying hunks

/** How lines are compared, strictest first; each is tried over the whole search range before the next. */
const COMPARISONS: readonly ((line: string) => string)[] = [
  (line) => line,
  (line) => line.trimEnd(),
  (line) => line.trim(),
];

/**
 * Applies the hunks of one file to its text, in order, each searched for after the previous one.
 * Line endings (LF or CRLF), a byte-order mark and the presence of a final newline are kept.
 */
export function applyHunks(original: string, hunks: readonly PatchHunk[], displayPath: string): string {
  const hasBom = original.startsWith(BYTE_ORDER_MARK);
  const body = hasBom ? original.slice(1) : original;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const endsWithNewline = body === '' || body.endsWith('\n');
  const lines = body.split(/\r?\n/);
  if (endsWithNewline) lines.pop();

  let cursor = 0;
  hunks.forEach((hunk, hunkIndex) => {
    const failed = (detail: string): HarnessError =>
      new HarnessError(
        'TOOL_ERROR',
        `hunk ${hunkIndex + 1} of ${shownPath(displayPath)} did not apply: ${detail}; nothing was changed. ` +
          'Read the file again and send a patch whose context lines match it.',
      );
    if (hunk.anchor !== undefined) {
      const at = findSequence(lines, [hunk.anchor], cursor, false);
      if (at === -1) throw failed(`context ${quoteLine(hunk.anchor)} not found${after(cursor)}`);
      cursor = at + 1;
    }
    let oldLines = hunk.oldLines;
    let newLines = hunk.newLines;
    if (oldLines.length === 0) {
      // Pure addition: after the anchor when there is one, otherwise at the end of the file.
      const insertAt = hunk.anchor === undefined ? lines.length : cursor;
      lines.splice(insertAt, 0, ...newLines);
      cursor = insertAt + newLines.length;
      return;
    }
    let at = findSequence(lines, oldLines, cursor, hunk.atEndOfFile);
    if (at === -1 && oldLines.at(-1) === '') {
      // Models often end a hunk with a blank context line the file does not have there.
      oldLines = oldLines.slice(0, -1);
      if (newLines.at(-1) === '') newLines = newLines.slice(0, -1);
      if (oldLines.length > 0) at = findSequence(lines, oldLines, cursor, hunk.atEndOfFile);
    }
    if (at === -1) {
      const shown = hunk.oldLines.find((line) => line.trim() !== '') ?? '';
      const lineCount = hunk.oldLines.length === 1 ? '1 line' : `${hunk.oldLines.length} lines`;
      const earlier = cursor > 0 && findSequence(lines, hunk.oldLines, 0, false) !== -1;
      throw failed(
        `context ${quoteLine(shown)} (${lineCount}) not found${after(cursor)}` +
          (earlier ? ' (it appears before the previous hunk; hunks must be in file order)' : ''),
      );
    }
    lines.splice(at, oldLines.length, ...newLines);
    cursor = at + newLines.length;
  });

  const joined = lines.join(eol) + (endsWithNewline && lines.length > 0 ? eol : '');
  return hasBom ? BYTE_ORDER_MARK + joined : joined;
}

function after(cursor: number): string {
  return cursor > 0 ? ` after line ${cursor}` : '';
}

/** Index of the first occurrence of `pattern` in `lines` at or after `start`, or -1. */
function findSequence(lines: readonly string[], pattern: readonly string[], start: number, atEnd: boolean): number {
  const lastStart = lines.length - pattern.length;
  if (lastStart < start) return -1;
  for (const normalise of COMPARISONS) {
    const wanted = pattern.map(normalise);
    const matchesAt = (position: number): boolean =>
      wanted.every((line, offset) => normalise(lines[position + offset] as string) === line);
    if (atEnd && matchesAt(lastStart)) return lastStart;
    for (let position = start; position <= lastStart; position++) {
      if (matchesAt(position)) return position;
    }
  }
  return -1;
}

function quoteLine(line: string): string {
  return JSON.stringify(line.length > LONGEST_QUOTED_LINE ? `${line.slice(0, LONGEST_QUOTED_LINE)}...` : line);
}

/** A relative path as it reads in a sentence; quoted only when it holds characters that would confuse. */
function shownPath(displayPath: string): string {
  return /^[\w./@+-]+$/.test(displayPath) ? displayPath : quote(displayPath);
}

// ---------------------------------------------------------------------------------------------
// Planning and committing

interface ExistingFile {
  readonly target: WorkspacePath;
  readonly bytes: Buffer;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

/** A write the commit performs; `original` is what an update replaces (for undoing it). */
interface PlannedWrite {
  readonly target: WorkspacePath;
  readonly content: string;
  readonly original: ExistingFile | undefined;
  /** Permission bits to give a file created by a move. */
  readonly mode: number | undefined;
}

interface Plan {
  readonly writes: PlannedWrite[];
  readonly removals: ExistingFile[];
  readonly changes: PatchChangeRecord[];
}

async function applyPatch(
  workspace: WorkspaceRoot,
  maxFileBytes: number,
  args: ApplyPatchArgs,
  context: ToolExecuteContext,
): Promise<ApplyPatchResult> {
  const { signal } = context;
  signal.throwIfAborted();
  const operations = parsePatch(args.patch);
  const plan = await planPatch(workspace, maxFileBytes, operations, signal);
  if (jsonBytes(plan.changes) + RESULT_OVERHEAD_BYTES > context.maxOutputBytes) {
    throw new HarnessError(
      'TOOL_ERROR',
      `the patch changes ${plan.changes.length} files, more than one result can list; nothing was changed. Split it into smaller patches.`,
    );
  }
  // Last point at which an abort is honoured: once the commit starts it runs to the end (or undoes
  // itself), so the workspace is never left half-patched by a cancellation.
  signal.throwIfAborted();
  await commit(workspace, plan);
  return { changes: plan.changes };
}

/** Reads every file and computes every new content; nothing is written here. */
async function planPatch(
  workspace: WorkspaceRoot,
  maxFileBytes: number,
  operations: readonly PatchOperation[],
  signal: AbortSignal,
): Promise<Plan> {
  const plan: Plan = { writes: [], removals: [], changes: [] };
  // Keyed by canonical host path: two spellings of one file (through an in-workspace symlink) collide too.
  const touched = new Map<string, string>();
  const claim = (target: WorkspacePath): void => {
    if (target.absolute === workspace.directory) {
      throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is the workspace root, not a file`);
    }
    const previous = touched.get(target.absolute);
    if (previous !== undefined) {
      throw new HarnessError(
        'TOOL_ERROR',
        `path ${quote(target.requested)} appears more than once in the patch` +
          (previous === target.requested ? '' : ` (also as ${quote(previous)})`) +
          '; put all changes to a file in one section',
      );
    }
    touched.set(target.absolute, target.requested);
  };

  for (const operation of operations) {
    signal.throwIfAborted();
    const target = await workspace.resolve(operation.path, { signal });
    claim(target);
    if (operation.kind === 'add') {
      if (target.exists || target.isSymlink) {
        throw new HarnessError(
          'TOOL_ERROR',
          `cannot add ${quote(operation.path)}: it already exists; use "${UPDATE_FILE}${operation.path}" to change it`,
        );
      }
      const content = operation.lines.length === 0 ? '' : `${operation.lines.join('\n')}\n`;
      plan.writes.push({ target, content, original: undefined, mode: undefined });
      plan.changes.push({ path: target.display, kind: 'add' });
      continue;
    }

    const existing = await readExisting(workspace, target, maxFileBytes, signal);
    if (operation.kind === 'delete') {
      plan.removals.push(existing);
      plan.changes.push({ path: target.display, kind: 'delete' });
      continue;
    }

    const text = decodeText(existing);
    const updated = applyHunks(text, operation.hunks, target.display);
    if (operation.moveTo === undefined) {
      plan.writes.push({ target, content: updated, original: existing, mode: undefined });
      plan.changes.push({ path: target.display, kind: 'update' });
      continue;
    }
    const destination = await workspace.resolve(operation.moveTo, { signal });
    claim(destination);
    if (destination.exists || destination.isSymlink) {
      throw new HarnessError(
        'TOOL_ERROR',
        `cannot move ${quote(operation.path)} to ${quote(operation.moveTo)}: the destination already exists`,
      );
    }
    plan.writes.push({ target: destination, content: updated, original: undefined, mode: existing.mode });
    plan.removals.push(existing);
    plan.changes.push({ path: destination.display, kind: 'move', from: target.display });
  }
  return plan;
}

async function readExisting(
  workspace: WorkspaceRoot,
  target: WorkspacePath,
  maxFileBytes: number,
  signal: AbortSignal,
): Promise<ExistingFile> {
  if (!target.exists) throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} does not exist`);
  if (target.isSymlink) {
    throw new HarnessError(
      'POLICY_DENIED',
      `path ${quote(target.requested)} is a symlink; patch the file it points to instead`,
    );
  }
  const handle = await workspace.openForRead(target);
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is a directory`);
    if (!stats.isFile()) throw new HarnessError('TOOL_ERROR', `path ${quote(target.requested)} is not a regular file`);
    if (stats.size > maxFileBytes) {
      throw new HarnessError(
        'TOOL_ERROR',
        `path ${quote(target.requested)} is larger than ${maxFileBytes} bytes, too large to patch`,
      );
    }
    const bytes = await handle.readFile({ signal });
    return {
      target,
      bytes,
      dev: stats.dev,
      ino: stats.ino,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      mode: stats.mode & 0o7777,
    };
  } catch (error) {
    throw signal.aborted ? error : fileSystemFailure(error, target.requested, 'read');
  } finally {
    await handle.close();
  }
}

function decodeText(file: ExistingFile): string {
  const binary = (): HarnessError =>
    new HarnessError(
      'TOOL_ERROR',
      `path ${quote(file.target.requested)} is not UTF-8 text; a patch can only update text files`,
    );
  if (file.bytes.includes(0)) throw binary();
  try {
    // ignoreBOM keeps a byte-order mark in the text, so applyHunks can put it back.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(file.bytes);
  } catch {
    throw binary();
  }
}

/**
 * Performs the plan: all writes, then all removals. A removal first renames the file aside, so it
 * can be put back; the set-aside copies are deleted only once everything succeeded. On a failure
 * the steps already done are undone in reverse order and the failure is reported.
 */
async function commit(workspace: WorkspaceRoot, plan: Plan): Promise<void> {
  const undo: (() => Promise<void>)[] = [];
  const setAside: string[] = [];
  try {
    for (const write of plan.writes) {
      if (write.original !== undefined) await ensureUnchanged(workspace, write.original);
      await workspace.writeAtomically(write.target, write.content);
      if (write.original === undefined) {
        undo.push(() => removeCreated(workspace, write.target));
        if (write.mode !== undefined) await setMode(workspace, write.target, write.mode);
      } else {
        const original = write.original;
        undo.push(async () => {
          await workspace.writeAtomically(original.target, decodeText(original));
        });
      }
    }
    for (const removal of plan.removals) {
      const current = await ensureUnchanged(workspace, removal);
      const aside = path.join(
        path.dirname(current.absolute),
        `.script-harness-${randomBytes(8).toString('hex')}.removed`,
      );
      try {
        await fs.rename(current.absolute, aside);
      } catch (error) {
        throw fileSystemFailure(error, removal.target.requested, 'delete');
      }
      setAside.push(aside);
      undo.push(() => fs.rename(aside, current.absolute));
    }
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    if (error instanceof HarnessError && !error.message.includes('nothing was changed')) {
      throw new HarnessError(error.code, `${error.message}; the patch was undone, nothing was changed`, {
        cause: error,
      });
    }
    throw error;
  }
  // Everything is in place; the set-aside files are no longer needed. A failure here leaves a
  // hidden `.script-harness-*.removed` file behind but does not undo the patch.
  await Promise.all(setAside.map((aside) => fs.rm(aside, { force: true }).catch(() => undefined)));
}

/**
 * Checks, just before a file is replaced or removed, that the path still resolves inside the root
 * to the very file that was read: a file changed or swapped since would be clobbered unseen.
 */
async function ensureUnchanged(workspace: WorkspaceRoot, file: ExistingFile): Promise<WorkspacePath> {
  const current = await workspace.resolve(file.target.requested);
  const changed = (): HarnessError =>
    new HarnessError(
      'TOOL_ERROR',
      `path ${quote(file.target.requested)} changed while the patch was being applied; nothing was changed`,
    );
  if (!current.exists || current.isSymlink || current.absolute !== file.target.absolute) throw changed();
  let stats: Stats;
  try {
    stats = await fs.lstat(current.absolute);
  } catch {
    throw changed();
  }
  if (
    !stats.isFile() ||
    stats.dev !== file.dev ||
    stats.ino !== file.ino ||
    stats.size !== file.size ||
    stats.mtimeMs !== file.mtimeMs
  ) {
    throw changed();
  }
  return current;
}

/** Gives a file created by a move the permission bits of the file it replaces (an executable stays one). */
async function setMode(workspace: WorkspaceRoot, target: WorkspacePath, mode: number): Promise<void> {
  const written = await workspace.resolve(target.requested);
  // Opened without following a symlink and checked to be the file just written; chmod acts on the handle.
  const handle = await workspace.openForRead(written);
  try {
    await handle.chmod(mode);
  } catch (error) {
    throw fileSystemFailure(error, target.requested, 'write');
  } finally {
    await handle.close();
  }
}

/** Undoes the creation of a file, unless something other than a plain file now sits at its path. */
async function removeCreated(workspace: WorkspaceRoot, target: WorkspacePath): Promise<void> {
  const current = await workspace.resolve(target.requested);
  if (!current.exists || current.isSymlink) return;
  try {
    const stats = await fs.lstat(current.absolute);
    if (stats.isFile()) await fs.unlink(current.absolute);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}
