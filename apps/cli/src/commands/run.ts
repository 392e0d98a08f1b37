/**
 * `harness run <file|->`: runs one script against the file tools of a workspace and reports the
 * result, readably or as one JSON object.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  createHarness,
  type Harness,
  type LimitsInput,
  type ScriptEvent,
  type ScriptLanguage,
  type ScriptResult,
} from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { createFileTools } from '@script-harness/tools';
import { formatConsoleLine, formatRunReport, toJsonReport } from '../format.ts';
import type { CliIo } from '../io.ts';
import { languageFor, limitsFromFlags, STDIN_ARGUMENT, UsageError } from '../options.ts';

export interface RunCommandOptions {
  /** A path relative to `io.cwd`, or `-` for standard input. */
  readonly file: string;
  readonly json?: boolean | undefined;
  /** Root of the file tools, relative to `io.cwd`. Default: `io.cwd`. */
  readonly workspace?: string | undefined;
  readonly language?: ScriptLanguage | undefined;
  readonly timeoutMs?: number | undefined;
  readonly memoryMb?: number | undefined;
  readonly verbose?: boolean | undefined;
}

/** Runs the command and returns its exit code: 0 when the script succeeded, 1 when it failed. */
export async function runCommand(options: RunCommandOptions, io: CliIo): Promise<number> {
  const limits = limitsFromFlags(options);
  const workspace = await resolveWorkspace(io.cwd, options.workspace);
  const source = await readScript(options.file, io);
  const language = languageFor(options.file, options.language);

  const result = await runScript(source, {
    language,
    workspace,
    limits,
    // Console lines are shown as they happen; in JSON mode stdout carries the report alone.
    onEvent:
      options.json === true
        ? undefined
        : (event) => {
            if (event.type === 'console') io.stdout.write(`${formatConsoleLine(event.level, event.text)}\n`);
          },
  });

  if (options.json === true) io.stdout.write(`${JSON.stringify(toJsonReport(result))}\n`);
  else io.stdout.write(formatRunReport(result, { verbose: options.verbose === true }));
  return result.ok ? 0 : 1;
}

export interface RunScriptOptions {
  readonly language: ScriptLanguage;
  /** Absolute path of the directory the file tools are confined to. */
  readonly workspace: string;
  readonly limits: { readonly timeoutMs?: number; readonly memoryMb?: number };
  readonly onEvent?: ((event: ScriptEvent) => void) | undefined;
}

/**
 * A harness whose file tools are confined to `workspace`. QuickJS runs in a pool of one worker
 * thread: the CLI runs one script at a time, and the worker can be terminated when a script is
 * stuck in a native builtin past its deadline, which the interrupt handler alone cannot stop.
 */
export async function createWorkspaceHarness(workspace: string, limits: LimitsInput = {}): Promise<Harness> {
  const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
  return createHarness({ runtime, tools: createFileTools({ root: workspace }), limits });
}

/** One script in a fresh harness with the file tools; the harness is closed whatever happens. */
export async function runScript(source: string | Uint8Array, options: RunScriptOptions): Promise<ScriptResult> {
  const harness = await createWorkspaceHarness(options.workspace, options.limits);
  try {
    return await harness.run(source, {
      language: options.language,
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    });
  } finally {
    await harness.close();
  }
}

/** The workspace must be an existing directory: the file tools would otherwise fail on every call. */
export async function resolveWorkspace(cwd: string, workspace: string | undefined): Promise<string> {
  const root = resolve(cwd, workspace ?? '.');
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot use workspace "${workspace ?? '.'}": ${describeFsError(error)}`, { cause: error });
  }
  if (!isDirectory) throw new UsageError(`cannot use workspace "${workspace ?? '.'}": it is not a directory`);
  return root;
}

/** Reads the script as bytes, so the harness itself checks the encoding (INVALID_ENCODING). */
export async function readScript(file: string, io: CliIo): Promise<Uint8Array> {
  if (file === STDIN_ARGUMENT) return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (error) {
    throw new UsageError(`cannot read script "${file}": ${describeFsError(error)}`, { cause: error });
  }
}

/** A file system error in words, without the absolute path Node puts into its messages. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code === undefined ? 'it cannot be read' : `it cannot be read (${code})`;
  }
}
