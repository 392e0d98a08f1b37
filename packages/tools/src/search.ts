/**
 * The search tools a script calls as `tools.fileSearch` (find files by name: fuzzy or glob) and
 * `tools.grep` (find lines by regular expression). Both walk the workspace through its root's
 * confinement (workspace.ts): directories are listed with the at-use checks, symlinks are never
 * followed, `.git` and `node_modules` are not entered, and the walk stops after a fixed number of
 * entries with `truncated: true`.
 *
 * grep runs the model's regular expression in a worker thread with a time limit per batch of files:
 * JavaScript regular expressions backtrack, and a pattern such as `(a+)+$` can take longer than the
 * age of the universe on one short line. The main thread cannot interrupt a running match; it can
 * terminate the worker.
 */
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type AnyTool, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { UNLISTED_DIRECTORIES } from './files.ts';
import { jsonBytes } from './json-size.ts';
import {
  createWorkspaceRoot,
  type DirectoryEntry,
  errorCode,
  fileSystemFailure,
  quote,
  type WorkspacePath,
  type WorkspaceRoot,
} from './workspace.ts';

export interface SearchToolsOptions {
  /** Directory the tools search; it must exist. Everything outside it is refused. */
  readonly root: string;
  /** Directory names that are never entered; default `.git` and `node_modules`. */
  readonly ignoreDirectories?: readonly string[];
  /** Most directory entries (files and directories) one call looks at; default 20,000. */
  readonly maxWalkEntries?: number;
  /** Longest time grep's pattern may run on one batch of files before the call fails; default 2 s. */
  readonly regexTimeoutMs?: number;
  /** Total time of one grep call, checked between files; past it the matches so far are returned. Default 20 s. */
  readonly grepTimeBudgetMs?: number;
}

export const DEFAULT_MAX_WALK_ENTRIES = 20_000;
export const DEFAULT_REGEX_TIMEOUT_MS = 2_000;
export const DEFAULT_GREP_TIME_BUDGET_MS = 20_000;
export const DEFAULT_FILE_SEARCH_LIMIT = 50;
export const MAX_FILE_SEARCH_LIMIT = 500;
export const DEFAULT_GREP_LIMIT = 100;
export const MAX_GREP_LIMIT = 1000;
export const MAX_SEARCH_PATTERN_CHARS = 1000;
/** Files larger than this are skipped by grep: generated bundles, data, logs. */
export const MAX_GREP_FILE_BYTES = 2 * 1024 * 1024;
/** Longest `text` of a grep match; longer lines are cut around the match. */
export const MAX_MATCH_TEXT_CHARS = 500;

/** Room left in a result for everything but the match list. */
const RESULT_OVERHEAD_BYTES = 1024;
/** A batch handed to the regex worker at once: few round trips, and a timeout still narrows the culprit. */
const BATCH_MAX_CHARS = 1024 * 1024;
const BATCH_MAX_FILES = 64;
const GLOB_CHARACTERS = /[*?[]/;

const FileSearchInput = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(MAX_SEARCH_PATTERN_CHARS)
    .describe(
      'Part of a file path, matched fuzzily (e.g. "hrnsts" finds "src/harness.ts"), or a glob when it contains ' +
        '*, ? or [ (e.g. "src/**/*.test.ts"; a glob without "/" matches file names at any depth, e.g. "*.md").',
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_FILE_SEARCH_LIMIT)
    .optional()
    .describe(`Most matches to return (default ${DEFAULT_FILE_SEARCH_LIMIT}, at most ${MAX_FILE_SEARCH_LIMIT}).`),
});

const FileSearchOutput = z.object({
  matches: z
    .array(
      z.object({
        path: z.string().describe('File path relative to the workspace root.'),
        score: z.number().describe('Higher is a better match; comparable within one result only.'),
      }),
    )
    .describe('Best matches first (globs: in path order).'),
  truncated: z
    .boolean()
    .describe('True when more files matched than were returned, or not every file could be looked at.'),
});

const GrepInput = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(MAX_SEARCH_PATTERN_CHARS)
    .describe('A JavaScript regular expression (without slashes), tested against each line, e.g. "TODO|FIXME".'),
  path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe('File or directory to search, relative to the workspace root (default: the root).'),
  glob: z
    .string()
    .min(1)
    .max(MAX_SEARCH_PATTERN_CHARS)
    .optional()
    .describe('Only files whose path matches this glob, e.g. "*.ts" (any depth) or "src/**/*.ts".'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_GREP_LIMIT)
    .optional()
    .describe(`Most matching lines to return (default ${DEFAULT_GREP_LIMIT}, at most ${MAX_GREP_LIMIT}).`),
  ignoreCase: z.boolean().optional().describe('Match letters regardless of case (default false).'),
});

const GrepMatch = z.object({
  path: z.string().describe('File path relative to the workspace root.'),
  line: z.number().int().positive().describe('1-based line number.'),
  text: z.string().describe(`The line, cut to ${MAX_MATCH_TEXT_CHARS} characters around the match when longer.`),
});

const GrepOutput = z.object({
  matches: z.array(GrepMatch).describe('Matching lines in path order, then line order.'),
  truncated: z
    .boolean()
    .describe('True when there were more matches than returned or not every file could be searched.'),
});

export type FileSearchArgs = z.output<typeof FileSearchInput>;
export type FileSearchResult = z.output<typeof FileSearchOutput>;
export type GrepArgs = z.output<typeof GrepInput>;
export type GrepResult = z.output<typeof GrepOutput>;
export type GrepMatchRecord = z.output<typeof GrepMatch>;

interface SearchSettings {
  readonly workspace: WorkspaceRoot;
  readonly ignore: ReadonlySet<string>;
  readonly maxWalkEntries: number;
  readonly regexTimeoutMs: number;
  readonly grepTimeBudgetMs: number;
}

/** Creates `fileSearch` and `grep`, in that order, both confined to `options.root`. */
export function createSearchTools(options: SearchToolsOptions): AnyTool[] {
  const maxWalkEntries = options.maxWalkEntries ?? DEFAULT_MAX_WALK_ENTRIES;
  const regexTimeoutMs = options.regexTimeoutMs ?? DEFAULT_REGEX_TIMEOUT_MS;
  const grepTimeBudgetMs = options.grepTimeBudgetMs ?? DEFAULT_GREP_TIME_BUDGET_MS;
  for (const [name, value] of Object.entries({ maxWalkEntries, regexTimeoutMs, grepTimeBudgetMs })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new HarnessError('INVALID_REQUEST', `${name} must be a positive integer`);
    }
  }
  const settings: SearchSettings = {
    workspace: createWorkspaceRoot(options.root),
    ignore: new Set(options.ignoreDirectories ?? UNLISTED_DIRECTORIES),
    maxWalkEntries,
    regexTimeoutMs,
    grepTimeBudgetMs,
  };

  const fileSearch = defineTool<FileSearchArgs, FileSearchResult>({
    name: 'fileSearch',
    description:
      'Finds files in the workspace by path: fuzzy (letters in order, e.g. "usrctl" finds "src/user-controller.ts"; ' +
      'best first) or, when the pattern contains * ? or [, a glob ("**/*.test.ts"; without "/" it matches names at ' +
      `any depth). Returns up to ${MAX_FILE_SEARCH_LIMIT} paths relative to the root (default ` +
      `${DEFAULT_FILE_SEARCH_LIMIT}); .git and node_modules are skipped, symlinks are not followed.`,
    input: FileSearchInput,
    output: FileSearchOutput,
    execute: (args, context) => searchFiles(settings, args, context),
  });

  const grep = defineTool<GrepArgs, GrepResult>({
    name: 'grep',
    description:
      'Searches the lines of workspace text files for a JavaScript regular expression and returns matching lines ' +
      'with their path and 1-based line number. Optional path (file or directory), glob filter on file paths ' +
      `and ignoreCase. Binary files and files over ${MAX_GREP_FILE_BYTES / (1024 * 1024)} MiB are skipped, as are ` +
      `.git and node_modules; lines are cut to ${MAX_MATCH_TEXT_CHARS} characters; a pattern that runs too long ` +
      'fails the call.',
    input: GrepInput,
    output: GrepOutput,
    execute: (args, context) => grepFiles(settings, args, context),
  });

  return [fileSearch, grep];
}

// ---------------------------------------------------------------------------------------------
// Walking

type Visit = (file: WorkspacePath) => Promise<'continue' | 'stop'> | 'continue' | 'stop';

/**
 * Visits the regular files under `start` in path order (depth first, names sorted). Returns false
 * when the walk stopped at the entry limit before seeing everything. Subdirectories that cannot be
 * read (permission denied) are skipped; a refusal by the confinement checks is not.
 */
async function walkFiles(
  settings: SearchSettings,
  start: WorkspacePath,
  signal: AbortSignal,
  visit: Visit,
): Promise<{ complete: boolean }> {
  const { workspace } = settings;
  let seen = 0;
  let stopped = false;
  let complete = true;

  const walk = async (directory: WorkspacePath, isStart: boolean): Promise<void> => {
    let listing: DirectoryEntry[];
    try {
      listing = await workspace.readDirectory(directory, { signal });
    } catch (error) {
      if (!isStart && error instanceof HarnessError && error.code === 'TOOL_ERROR') return;
      throw error;
    }
    for (const entry of listing) {
      if (stopped) return;
      signal.throwIfAborted();
      if (++seen > settings.maxWalkEntries) {
        complete = false;
        stopped = true;
        return;
      }
      // Symlinks are never followed, to files or directories: what they name is either reachable
      // by its own path inside the root or must not be reached at all.
      if (entry.type === 'directory') {
        if (!settings.ignore.has(entry.name)) await walk(workspace.child(directory, entry.name, 'directory'), false);
      } else if (entry.type === 'file') {
        if ((await visit(workspace.child(directory, entry.name, 'file'))) === 'stop') stopped = true;
      }
    }
  };

  await walk(start, true);
  return { complete };
}

/**
 * Whether a root-relative path matches a glob. A glob without `/` is matched against the file name
 * alone, so `*.ts` finds TypeScript files at any depth (as in .gitignore and ripgrep's --glob).
 */
export function matchesPathGlob(relativePath: string, glob: string): boolean {
  const pattern = glob.startsWith('./') ? glob.slice(2) : glob;
  const subject = pattern.includes('/') ? relativePath : path.posix.basename(relativePath);
  return path.posix.matchesGlob(subject, pattern);
}

// ---------------------------------------------------------------------------------------------
// fileSearch

async function searchFiles(
  settings: SearchSettings,
  args: FileSearchArgs,
  context: ToolExecuteContext,
): Promise<FileSearchResult> {
  const { signal } = context;
  const limit = args.limit ?? DEFAULT_FILE_SEARCH_LIMIT;
  const isGlob = GLOB_CHARACTERS.test(args.pattern);
  const query = args.pattern.replace(/\s+/g, '').toLowerCase();
  if (!isGlob && query === '') {
    throw new HarnessError('TOOL_VALIDATION', 'the pattern must contain a non-space character');
  }
  const score = isGlob
    ? (candidate: string) => (matchesPathGlob(candidate, args.pattern.trim()) ? 1 : undefined)
    : (candidate: string) => fuzzyScore(query, candidate);

  const start = await settings.workspace.resolve('.', { signal });
  const found: { path: string; score: number }[] = [];
  const { complete } = await walkFiles(settings, start, signal, (file) => {
    const value = score(file.display);
    if (value !== undefined) found.push({ path: file.display, score: Math.round(value * 1000) / 1000 });
    return 'continue';
  });

  // Globs keep the walk's path order; fuzzy matches go best first, shorter paths winning ties.
  if (!isGlob) {
    found.sort(
      (a, b) => b.score - a.score || a.path.length - b.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
  }
  const budget = Math.max(0, context.maxOutputBytes - RESULT_OVERHEAD_BYTES);
  const matches: { path: string; score: number }[] = [];
  let used = 0;
  for (const match of found) {
    const cost = jsonBytes(match) + 1;
    if (matches.length >= limit || used + cost > budget) break;
    matches.push(match);
    used += cost;
  }
  return { matches, truncated: !complete || matches.length < found.length };
}

// Scores after fzy (https://github.com/jhawthorn/fzy), the scheme most editors' "go to file"
// resembles: a match right after a separator or at a camelCase hump scores, a run of consecutive
// matches scores more, gaps cost a little. Matches in the file name get a small extra bonus, and a
// query that is the whole file name a large one.
const SCORE_GAP_LEADING = -0.005;
const SCORE_GAP_TRAILING = -0.005;
const SCORE_GAP_INNER = -0.01;
const SCORE_MATCH_CONSECUTIVE = 1.0;
const SCORE_MATCH_SLASH = 0.9;
const SCORE_MATCH_WORD = 0.8;
const SCORE_MATCH_CAPITAL = 0.7;
const SCORE_MATCH_DOT = 0.6;
const SCORE_MATCH_IN_NAME = 0.15;
/** The query is the whole file name, or the name without its extension: what "go to file" users expect first. */
const SCORE_EXACT_NAME = 1.0;

/**
 * Fuzzy score of `candidate` for a lower-case `query` whose characters must all appear in order
 * (case-insensitively); undefined when they do not. The best alignment is found by dynamic
 * programming over query × candidate characters.
 */
export function fuzzyScore(query: string, candidate: string): number | undefined {
  const n = query.length;
  const m = candidate.length;
  if (n === 0 || n > m) return undefined;
  const lower = Array.from({ length: m }, (_, index) => (candidate[index] as string).toLowerCase());
  let matched = 0;
  for (let index = 0; index < m && matched < n; index++) if (lower[index] === query[matched]) matched++;
  if (matched < n) return undefined;

  const nameStart = candidate.lastIndexOf('/') + 1;
  const bonus = new Float64Array(m);
  for (let index = 0; index < m; index++) {
    const previous = index === 0 ? '/' : (candidate[index - 1] as string);
    const current = candidate[index] as string;
    let value = 0;
    if (previous === '/') value = SCORE_MATCH_SLASH;
    else if (previous === '-' || previous === '_' || previous === ' ') value = SCORE_MATCH_WORD;
    else if (previous === '.') value = SCORE_MATCH_DOT;
    else if (isLowerLetter(previous) && isUpperLetter(current)) value = SCORE_MATCH_CAPITAL;
    bonus[index] = value + (index >= nameStart ? SCORE_MATCH_IN_NAME : 0);
  }

  // best[j]: best score of the query so far within candidate[0..j]; ending[j]: best score with the
  // current query character matched exactly at j. One row per query character, two rows kept.
  let previousBest = new Float64Array(m);
  let previousEnding = new Float64Array(m);
  let best = new Float64Array(m);
  let ending = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const gap = i === n - 1 ? SCORE_GAP_TRAILING : SCORE_GAP_INNER;
    let running = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < m; j++) {
      if (lower[j] === query[i]) {
        let score = Number.NEGATIVE_INFINITY;
        if (i === 0) score = j * SCORE_GAP_LEADING + (bonus[j] as number);
        else if (j > 0) {
          score = Math.max(
            (previousBest[j - 1] as number) + (bonus[j] as number),
            (previousEnding[j - 1] as number) + SCORE_MATCH_CONSECUTIVE,
          );
        }
        ending[j] = score;
        running = Math.max(score, running + gap);
      } else {
        ending[j] = Number.NEGATIVE_INFINITY;
        running += gap;
      }
      best[j] = running;
    }
    [previousBest, best] = [best, previousBest];
    [previousEnding, ending] = [ending, previousEnding];
  }
  const result = previousBest[m - 1] as number;
  if (!Number.isFinite(result)) return undefined;
  const name = candidate.slice(nameStart).toLowerCase();
  const dot = name.lastIndexOf('.');
  const exact = name === query || (dot > 0 && name.slice(0, dot) === query);
  return exact ? result + SCORE_EXACT_NAME : result;
}

function isLowerLetter(character: string): boolean {
  return character !== character.toUpperCase() && character === character.toLowerCase();
}

function isUpperLetter(character: string): boolean {
  return character !== character.toLowerCase() && character === character.toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// grep

interface PendingFile {
  readonly path: string;
  readonly text: string;
}

interface LineMatch {
  readonly line: number;
  readonly text: string;
}

async function grepFiles(settings: SearchSettings, args: GrepArgs, context: ToolExecuteContext): Promise<GrepResult> {
  const { workspace } = settings;
  const { signal } = context;
  const flags = args.ignoreCase === true ? 'i' : '';
  try {
    // Compiled here as well as in the worker: a syntax error is the model's to fix, with V8's message.
    new RegExp(args.pattern, flags);
  } catch (error) {
    throw new HarnessError('TOOL_VALIDATION', `invalid regular expression: ${(error as Error).message}`);
  }
  const limit = args.limit ?? DEFAULT_GREP_LIMIT;
  const deadline = performance.now() + settings.grepTimeBudgetMs;
  const budget = Math.max(0, context.maxOutputBytes - RESULT_OVERHEAD_BYTES);

  const requested = args.path ?? '.';
  const start = await workspace.resolve(requested, { signal });
  if (!start.exists) throw new HarnessError('TOOL_ERROR', `path ${quote(requested)} does not exist`);

  const matches: GrepMatchRecord[] = [];
  let used = 0;
  let more = false;
  let matcher: RegexMatcher | undefined;
  let batch: PendingFile[] = [];
  let batchChars = 0;

  /** Searches the batch; returns 'stop' once the result is full. */
  const flush = async (): Promise<'continue' | 'stop'> => {
    if (batch.length === 0) return 'continue';
    const files = batch;
    batch = [];
    batchChars = 0;
    matcher ??= new RegexMatcher(args.pattern, flags);
    // One more than fits, to know whether the result is complete.
    const found = await matcher.match(
      files.map((file) => file.text),
      limit - matches.length + 1,
      settings.regexTimeoutMs,
      signal,
      () => describeBatch(files),
    );
    for (const [index, fileMatches] of found.entries()) {
      for (const match of fileMatches) {
        const record = { path: (files[index] as PendingFile).path, line: match.line, text: match.text };
        const cost = jsonBytes(record) + 1;
        if (matches.length >= limit || used + cost > budget) {
          more = true;
          return 'stop';
        }
        matches.push(record);
        used += cost;
      }
    }
    return 'continue';
  };

  try {
    let complete = true;
    const stats = await statOf(start);
    if (stats.isDirectory) {
      const walked = await walkFiles(settings, start, signal, async (file) => {
        if (performance.now() > deadline) {
          complete = false;
          return 'stop';
        }
        if (args.glob !== undefined && !matchesPathGlob(file.display, args.glob)) return 'continue';
        const text = await readSearchable(workspace, file, signal, false);
        if (text === undefined) return 'continue';
        batch.push({ path: file.display, text });
        batchChars += text.length;
        if (batchChars >= BATCH_MAX_CHARS || batch.length >= BATCH_MAX_FILES) return flush();
        return 'continue';
      });
      if (!walked.complete) complete = false;
    } else {
      const text = await readSearchable(workspace, start, signal, true);
      if (text !== undefined) batch.push({ path: start.display, text });
    }
    if (!more) await flush();
    return { matches, truncated: more || !complete };
  } finally {
    matcher?.close();
  }
}

async function statOf(target: WorkspacePath): Promise<{ isDirectory: boolean }> {
  try {
    // The resolved path is canonical (symlinks resolved), so stat sees what resolution checked.
    return { isDirectory: (await fs.stat(target.absolute)).isDirectory() };
  } catch (error) {
    throw fileSystemFailure(error, target.requested, 'search');
  }
}

/**
 * Reads a file for searching: undefined for what grep skips in a walk (binary, too large, not a
 * regular file, vanished); when the model named the file itself, those are errors instead.
 */
async function readSearchable(
  workspace: WorkspaceRoot,
  file: WorkspacePath,
  signal: AbortSignal,
  named: boolean,
): Promise<string | undefined> {
  const skip = (message: string): undefined => {
    if (named) throw new HarnessError('TOOL_ERROR', `path ${quote(file.requested)} ${message}`);
    return undefined;
  };
  signal.throwIfAborted();
  let handle: fs.FileHandle;
  try {
    handle = await workspace.openForRead(file);
  } catch (error) {
    if (!named && error instanceof HarnessError && error.code === 'TOOL_ERROR') return undefined;
    if (!named && errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return skip('is not a regular file');
    if (stats.size > MAX_GREP_FILE_BYTES) return skip(`is larger than ${MAX_GREP_FILE_BYTES} bytes; grep skips it`);
    const bytes = await handle.readFile({ signal });
    if (bytes.includes(0)) return skip('is a binary file (it contains NUL bytes)');
    return new TextDecoder('utf-8').decode(bytes);
  } catch (error) {
    throw signal.aborted ? error : fileSystemFailure(error, file.requested, 'read');
  } finally {
    await handle.close();
  }
}

function describeBatch(files: readonly PendingFile[]): string {
  const first = quote((files[0] as PendingFile).path);
  return files.length === 1 ? first : `${first} and ${files.length - 1} more files`;
}

/**
 * The code of the regex worker (CommonJS, run with `eval`). It tests each line of each text
 * against the pattern and returns the matching lines, cut around the match when long.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const regex = new RegExp(workerData.source, workerData.flags);
const maxChars = workerData.maxChars;
function excerpt(line, index) {
  if (line.length <= maxChars) return line;
  let start = index > maxChars - 100 ? index - 100 : 0;
  if (start > 0 && /[\\udc00-\\udfff]/.test(line[start])) start++;
  const room = start > 0 ? maxChars - 2 : maxChars - 1;
  let end = start + room;
  if (/[\\udc00-\\udfff]/.test(line[end] || '')) end--;
  return (start > 0 ? '\\u2026' : '') + line.slice(start, end) + '\\u2026';
}
parentPort.on('message', ({ texts, limit }) => {
  const results = [];
  for (const text of texts) {
    const found = [];
    let start = 0;
    let number = 0;
    while (start < text.length && found.length < limit) {
      let end = text.indexOf('\\n', start);
      if (end === -1) end = text.length;
      number++;
      let line = text.slice(start, end);
      if (line.endsWith('\\r')) line = line.slice(0, -1);
      const match = regex.exec(line);
      if (match !== null) found.push({ line: number, text: excerpt(line, match.index) });
      start = end + 1;
    }
    results.push(found);
  }
  parentPort.postMessage(results);
});
`;

/** The worker a grep call runs its pattern in; terminated when a batch takes too long or the call ends. */
class RegexMatcher {
  private readonly worker: Worker;
  private readonly online: Promise<unknown>;

  constructor(source: string, flags: string) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source, flags, maxChars: MAX_MATCH_TEXT_CHARS },
      // A file is at most 2 MiB; the heap limit stops a pathological pattern from growing without bound.
      resourceLimits: { maxOldGenerationSizeMb: 128 },
      stdout: false,
      stderr: false,
    });
    this.online = once(this.worker, 'online');
    // A worker failing while no batch is running (there is nothing to report it to) must not
    // become an unhandled 'error' event; a failure during a batch reaches that batch's listener.
    this.online.catch(() => undefined);
    this.worker.on('error', () => undefined);
  }

  async match(
    texts: readonly string[],
    limit: number,
    timeoutMs: number,
    signal: AbortSignal,
    describe: () => string,
  ): Promise<LineMatch[][]> {
    signal.throwIfAborted();
    // Startup is not the pattern's time: the clock starts once the worker is running.
    try {
      await this.online;
    } catch (error) {
      throw workerFailure(error);
    }
    return new Promise<LineMatch[][]>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.worker.off('message', onMessage);
        this.worker.off('error', onError);
        this.worker.off('exit', onExit);
      };
      const onMessage = (result: LineMatch[][]): void => {
        cleanup();
        resolve(result);
      };
      const onError = (error: unknown): void => {
        cleanup();
        reject(workerFailure(error));
      };
      const onExit = (): void => {
        cleanup();
        reject(new HarnessError('TOOL_ERROR', 'the search stopped unexpectedly'));
      };
      const onAbort = (): void => {
        cleanup();
        void this.worker.terminate();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        void this.worker.terminate();
        reject(
          new HarnessError(
            'TOOL_ERROR',
            `the pattern ran longer than ${timeoutMs} ms on ${describe()}, probably through catastrophic backtracking; ` +
              'simplify it (avoid nested quantifiers such as (a+)+ or (a|a)*)',
          ),
        );
      }, timeoutMs);
      this.worker.on('message', onMessage);
      this.worker.on('error', onError);
      this.worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      this.worker.postMessage({ texts, limit });
    });
  }

  close(): void {
    void this.worker.terminate();
  }
}

function workerFailure(error: unknown): HarnessError {
  // The worker's own message may carry host paths; only the kind of failure is passed on.
  if (errorCode(error) === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new HarnessError('TOOL_ERROR', 'the search ran out of memory; use a simpler pattern or a narrower path');
  }
  return new HarnessError('TOOL_ERROR', 'the search failed inside its worker');
}
