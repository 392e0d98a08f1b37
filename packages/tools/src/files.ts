/**
 * The workspace file tools a script calls as `tools.readFile`, `tools.writeFile` and
 * `tools.listDir`. Every path goes through the workspace root's confinement (workspace.ts); the
 * tools themselves deal with lines, sizes and listing order.
 */
import * as fs from 'node:fs/promises';
import { type AnyTool, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { jsonBytes, prefixWithinJsonBytes } from './json-size.ts';
import { createWorkspaceRoot, fileSystemFailure, quote, type WorkspacePath, type WorkspaceRoot } from './workspace.ts';

export interface FileToolsOptions {
  /** Directory the tools may read and write; it must exist. Everything outside it is refused. */
  readonly root: string;
  /** Most bytes of file content one `readFile` call returns (default 256 KiB). */
  readonly maxReadBytes?: number;
}

export const DEFAULT_MAX_READ_BYTES = 256 * 1024;
export const MAX_LIST_ENTRIES = 1000;
export const MAX_LIST_DEPTH = 5;
/** Directories `listDir` shows but does not enter: large, generated, rarely what the model wants. */
export const UNLISTED_DIRECTORIES: ReadonlySet<string> = new Set(['.git', 'node_modules']);

/** Room left in a tool result for everything but the content: field names, numbers, the path. */
const RESULT_OVERHEAD_BYTES = 1024;
const READ_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

const PathField = z.string().min(1).max(4096);

const ReadFileInput = z
  .strictObject({
    path: PathField.describe('File path relative to the workspace root, e.g. "src/index.ts".'),
    startLine: z.number().int().min(1).optional().describe('First line to return, 1-based (default 1).'),
    endLine: z.number().int().min(1).optional().describe('Last line to return, inclusive (default: the last line).'),
  })
  .refine((args) => args.startLine === undefined || args.endLine === undefined || args.endLine >= args.startLine, {
    message: 'endLine must not be before startLine',
    path: ['endLine'],
  });

const ReadFileOutput = z.object({
  path: z.string().describe('The file path relative to the workspace root.'),
  content: z.string().describe('The requested lines, line endings included.'),
  totalLines: z.number().int().nonnegative().describe('Number of lines in the whole file.'),
  truncated: z.boolean().describe('True when the requested lines did not all fit; ask for a later startLine.'),
});

const WriteFileInput = z.strictObject({
  path: PathField.describe('File path relative to the workspace root; missing parent directories are created.'),
  content: z.string().describe('The complete new content of the file (UTF-8 text).'),
});

const WriteFileOutput = z.object({
  path: z.string().describe('The file path relative to the workspace root.'),
  bytes: z.number().int().nonnegative().describe('Size of the written content in bytes.'),
  created: z.boolean().describe('True when the file did not exist before.'),
});

const ListDirInput = z.strictObject({
  path: PathField.optional().describe('Directory relative to the workspace root (default: the root itself).'),
  depth: z
    .number()
    .int()
    .min(1)
    .max(MAX_LIST_DEPTH)
    .optional()
    .describe('1 (default) lists the direct entries; each step more also lists one level further down, up to 5.'),
});

const ListEntry = z.object({
  path: z.string().describe('Entry path relative to the workspace root.'),
  type: z.enum(['file', 'directory', 'symlink']),
  size: z.number().int().nonnegative().describe('Size in bytes for files; 0 for directories and symlinks.'),
});

const ListDirOutput = z.object({
  entries: z.array(ListEntry),
  truncated: z.boolean().describe('True when more entries exist than were returned; list a subdirectory instead.'),
});

export type ReadFileArgs = z.output<typeof ReadFileInput>;
export type ReadFileResult = z.output<typeof ReadFileOutput>;
export type WriteFileArgs = z.output<typeof WriteFileInput>;
export type WriteFileResult = z.output<typeof WriteFileOutput>;
export type ListDirArgs = z.output<typeof ListDirInput>;
export type ListDirResult = z.output<typeof ListDirOutput>;
export type ListDirEntry = z.output<typeof ListEntry>;

/** Creates `readFile`, `writeFile` and `listDir`, all confined to `options.root`. */
export function createFileTools(options: FileToolsOptions): AnyTool[] {
  const maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  if (!Number.isSafeInteger(maxReadBytes) || maxReadBytes <= 0) {
    throw new HarnessError('INVALID_REQUEST', 'maxReadBytes must be a positive integer');
  }
  const workspace = createWorkspaceRoot(options.root);

  const readFile = defineTool<ReadFileArgs, ReadFileResult>({
    name: 'readFile',
    description:
      'Reads a UTF-8 text file in the workspace and returns its content and total line count; startLine/endLine ' +
      `(1-based, inclusive) select part of it. Returns at most ${formatBytes(maxReadBytes)}, cut at a line ` +
      'boundary with truncated: true; directories and binary files are refused.',
    input: ReadFileInput,
    output: ReadFileOutput,
    execute: (args, context) => readTextFile(workspace, maxReadBytes, args, context),
  });

  const writeFile = defineTool<WriteFileArgs, WriteFileResult>({
    name: 'writeFile',
    description:
      'Writes UTF-8 text to a file in the workspace, replacing the file if it exists and creating missing parent ' +
      'directories. The write is atomic (the old or the new content, never a mix); symlinks are not written through.',
    input: WriteFileInput,
    output: WriteFileOutput,
    async execute(args, context) {
      const target = await workspace.resolve(args.path, { signal: context.signal });
      const outcome = await workspace.writeAtomically(target, args.content, { signal: context.signal });
      return { path: target.display, bytes: outcome.bytes, created: outcome.created };
    },
  });

  const listDir = defineTool<ListDirArgs, ListDirResult>({
    name: 'listDir',
    description:
      'Lists the files and directories under a workspace directory (default: the root), with paths relative to the ' +
      `root. depth 1 (default) lists direct entries, up to ${MAX_LIST_DEPTH} goes deeper; .git and node_modules are ` +
      `not entered, symlinks are not followed, and at most ${MAX_LIST_ENTRIES} entries are returned.`,
    input: ListDirInput,
    output: ListDirOutput,
    execute: (args, context) => listDirectory(workspace, args, context),
  });

  return [readFile, writeFile, listDir];
}

async function readTextFile(
  workspace: WorkspaceRoot,
  maxReadBytes: number,
  args: ReadFileArgs,
  context: ToolExecuteContext,
): Promise<ReadFileResult> {
  const { signal } = context;
  const target = await workspace.resolve(args.path, { signal });
  if (!target.exists) throw new HarnessError('TOOL_ERROR', `path ${quote(args.path)} does not exist`);
  signal.throwIfAborted();
  const handle = await workspace.openForRead(target);
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      throw new HarnessError('TOOL_ERROR', `path ${quote(args.path)} is a directory; use tools.listDir to see inside`);
    }
    if (!stats.isFile()) throw new HarnessError('TOOL_ERROR', `path ${quote(args.path)} is not a regular file`);

    // The content must fit the tool-result cap as JSON, where escapes make it longer than on disk.
    const jsonBudget = Math.max(0, context.maxOutputBytes - RESULT_OVERHEAD_BYTES - jsonBytes(target.display));
    const scan = await scanLines(handle, target, {
      firstLine: args.startLine ?? 1,
      lastLine: args.endLine ?? Number.POSITIVE_INFINITY,
      keepBytes: Math.min(maxReadBytes, jsonBudget),
      signal,
    });
    let content = new TextDecoder('utf-8').decode(scan.kept);
    let truncated = scan.overflow;
    if (jsonBytes(content) > jsonBudget) {
      content = prefixWithinJsonBytes(content, jsonBudget - 2); // the budget holds the quotes too
      truncated = true;
    }
    // A cut mid-line would hand the model half a line it may take for the whole; end at the last
    // complete line when there is one.
    if (truncated) content = toLastLineEnd(content);
    return { path: target.display, content, totalLines: scan.totalLines, truncated };
  } catch (error) {
    // An abort surfaces as the signal's reason, which the harness reports itself.
    throw signal.aborted ? error : fileSystemFailure(error, args.path, 'read');
  } finally {
    await handle.close();
  }
}

interface ScanOptions {
  readonly firstLine: number;
  readonly lastLine: number;
  readonly keepBytes: number;
  readonly signal: AbortSignal;
}

interface ScanResult {
  /** Bytes of the requested lines, at most `keepBytes`, cut at a UTF-8 character boundary. */
  readonly kept: Buffer;
  /** True when the requested lines held more than `keepBytes`. */
  readonly overflow: boolean;
  readonly totalLines: number;
}

/**
 * Reads the whole file in chunks (to count its lines and find NUL bytes) while keeping only the
 * bytes of the requested lines, so a large file never sits in memory whole.
 */
async function scanLines(handle: fs.FileHandle, target: WorkspacePath, options: ScanOptions): Promise<ScanResult> {
  const { firstLine, lastLine, keepBytes, signal } = options;
  const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let overflow = false;
  let line = 1;
  let newlines = 0;
  let totalBytes = 0;
  let lastByte = -1;

  const keep = (segment: Buffer): void => {
    if (overflow || segment.length === 0) return;
    const room = keepBytes - keptBytes;
    if (segment.length > room) {
      overflow = true;
      if (room > 0) kept.push(Buffer.from(segment.subarray(0, room)));
      keptBytes = keepBytes;
      return;
    }
    // Copied: the chunk buffer is reused by the next read.
    kept.push(Buffer.from(segment));
    keptBytes += segment.length;
  };

  for (;;) {
    signal.throwIfAborted();
    const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK_BYTES, null);
    if (bytesRead === 0) break;
    const data = chunk.subarray(0, bytesRead);
    if (data.includes(0)) {
      throw new HarnessError(
        'TOOL_ERROR',
        `path ${quote(target.requested)} looks like a binary file (it contains NUL bytes); readFile reads text only`,
      );
    }
    let position = 0;
    while (position < bytesRead) {
      const newline = data.indexOf(NEWLINE, position);
      const segmentEnd = newline === -1 ? bytesRead : newline + 1;
      if (line >= firstLine && line <= lastLine) keep(data.subarray(position, segmentEnd));
      if (newline === -1) break;
      line++;
      newlines++;
      position = segmentEnd;
    }
    totalBytes += bytesRead;
    lastByte = data[bytesRead - 1] as number;
  }

  const totalLines = newlines + (totalBytes > 0 && lastByte !== NEWLINE ? 1 : 0);
  const joined = Buffer.concat(kept);
  return { kept: overflow ? joined.subarray(0, utf8Boundary(joined)) : joined, overflow, totalLines };
}

/** Length of the longest prefix of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
function utf8Boundary(bytes: Buffer): number {
  let lead = bytes.length - 1;
  while (lead >= 0 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes.length;
  const first = bytes[lead] as number;
  const sequenceLength = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead + sequenceLength > bytes.length ? lead : bytes.length;
}

function toLastLineEnd(text: string): string {
  const newline = text.lastIndexOf('\n');
  return newline === -1 ? text : text.slice(0, newline + 1);
}

async function listDirectory(
  workspace: WorkspaceRoot,
  args: ListDirArgs,
  context: ToolExecuteContext,
): Promise<ListDirResult> {
  const { signal } = context;
  const requested = args.path ?? '.';
  const depth = args.depth ?? 1;
  const start = await workspace.resolve(requested, { signal });
  if (!start.exists) throw new HarnessError('TOOL_ERROR', `path ${quote(requested)} does not exist`);

  const jsonBudget = Math.max(0, context.maxOutputBytes - RESULT_OVERHEAD_BYTES);
  const entries: ListDirEntry[] = [];
  let usedBytes = 0;
  let truncated = false;
  // Breadth first: when the cap cuts the listing short, the shallow entries are the ones kept.
  const pending: { directory: WorkspacePath; level: number }[] = [{ directory: start, level: 1 }];
  while (pending.length > 0 && !truncated) {
    const { directory, level } = pending.shift() as { directory: WorkspacePath; level: number };
    const listing = await workspace.readDirectory(directory, { signal });
    for (const item of listing) {
      signal.throwIfAborted();
      // Sockets, FIFOs and devices are neither readable nor writable through these tools.
      if (item.type === 'other') continue;
      const entryPath = workspace.child(directory, item.name, item.type);
      let size = 0;
      if (item.type === 'file') {
        try {
          size = (await fs.lstat(entryPath.absolute)).size;
        } catch (error) {
          throw fileSystemFailure(error, entryPath.display, 'list');
        }
      }
      const entry: ListDirEntry = { path: entryPath.display, type: item.type, size };
      const cost = jsonBytes(entry) + 1;
      if (entries.length >= MAX_LIST_ENTRIES || usedBytes + cost > jsonBudget) {
        truncated = true;
        break;
      }
      entries.push(entry);
      usedBytes += cost;
      if (item.type === 'directory' && level < depth && !UNLISTED_DIRECTORIES.has(item.name)) {
        pending.push({ directory: entryPath, level: level + 1 });
      }
    }
  }
  return { entries, truncated };
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
