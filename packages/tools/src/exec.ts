/**
 * The `exec` tool: runs a program in the workspace and returns what it printed.
 *
 * The command is an argument vector handed to the program directly (no shell unless the call asks
 * for one with `shell: true`), so shell metacharacters in arguments stay literal text (THREATS
 * item 24). The child gets a fixed, small environment: host secrets are never inherited. It runs in
 * its own process group, and the whole group is killed on timeout, on abort and when the program
 * exits, so nothing it started outlives the call. The working directory is confined to the
 * workspace; the program itself runs with the host user's rights, which is why calls need approval
 * by default.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type AnyTool, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { z } from 'zod';
import { jsonBytes, prefixWithinJsonBytes, suffixWithinJsonBytes } from './json-size.ts';
import { createWorkspaceRoot, errorCode, fileSystemFailure, quote, type WorkspaceRoot } from './workspace.ts';

export interface ExecToolOptions {
  /** Directory the commands run in (and below); it must exist. Also the child's HOME. */
  readonly root: string;
  /** Environment variable names a call may set through `env`; default none. */
  readonly allowEnv?: readonly string[];
  /** Timeout of a call that does not give one; default 30 s. */
  readonly defaultTimeoutMs?: number;
  /** Largest `timeoutMs` a call may ask for; default 5 min. */
  readonly maxTimeoutMs?: number;
  /** Most bytes kept of each of stdout and stderr; default 256 KiB. */
  readonly maxStreamBytes?: number;
  /** Whether a call needs approval before it runs; default true (a command can change anything). */
  readonly requiresApproval?: boolean | ((args: ExecArgs) => boolean);
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
export const MAX_EXEC_TIMEOUT_MS = 300_000;
export const DEFAULT_EXEC_MAX_STREAM_BYTES = 256 * 1024;
/** Host variables passed on to every command: enough to find programs and print text, no credentials. */
export const EXEC_INHERITED_ENV: readonly string[] = Object.freeze(['PATH', 'LANG', 'LC_ALL', 'TZ']);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that would mean something to JavaScript objects, never to a process. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Room in the result for everything but the two streams: field names, numbers, markers. */
const RESULT_OVERHEAD_BYTES = 1024;
/**
 * How long to wait for the output pipes to close once the program has exited and its group was
 * killed. A process that left the group (setsid) can hold them open; its output is then cut off.
 */
const DRAIN_AFTER_EXIT_MS = 1000;
const MAX_ARGUMENTS = 1024;
const MAX_ARGUMENT_CHARS = 32 * 1024;

const NoNul = (what: string) =>
  z
    .string()
    .max(MAX_ARGUMENT_CHARS)
    .refine((value) => !value.includes('\0'), { message: `${what} must not contain NUL characters` });

/**
 * `env` as given: `__proto__` is refused explicitly here, because a record schema would quietly drop
 * it (it cannot be an own key of the parsed object) and the call would run without telling why.
 */
const EnvInput = z.preprocess(
  (value, context) => {
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
      context.issues.push({
        code: 'custom',
        message: '"__proto__" is not an environment variable name',
        input: value,
        path: ['__proto__'],
      });
    }
    return value;
  },
  z.record(z.string().regex(ENV_NAME, 'environment variable names are letters, digits and _'), NoNul('a value')),
);

function execInput(maxTimeoutMs: number) {
  return z.strictObject({
    command: z
      .array(NoNul('an argument'))
      .min(1)
      .max(MAX_ARGUMENTS)
      .refine((command) => (command[0] ?? '') !== '', { message: 'the program name must not be empty' })
      .describe(
        'The program and its arguments, e.g. ["git", "status", "--short"]. Arguments are passed as they are, ' +
          'without a shell: quotes, $, ;, | and * have no special meaning.',
      ),
    cwd: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Working directory relative to the workspace root (default: the root).'),
    env: EnvInput.optional().describe(
      'Extra environment variables; only names the host allows are accepted, others are refused.',
    ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(maxTimeoutMs)
      .optional()
      .describe(`Kill the command after this many milliseconds (at most ${maxTimeoutMs}).`),
    shell: z
      .boolean()
      .optional()
      .describe('Run the command words joined by spaces with `sh -c` (pipes, redirections). Default false.'),
  });
}

const ExecOutput = z.object({
  exitCode: z.number().int().nullable().describe('The exit code; null when the command was killed by a signal.'),
  signal: z.string().optional().describe('The signal that ended the command, e.g. "SIGKILL" after a timeout.'),
  stdout: z.string(),
  stderr: z.string(),
  timedOut: z.boolean().describe('True when the command ran past its timeout and was killed.'),
  durationMs: z.number().int().nonnegative(),
  truncated: z
    .object({ stdout: z.boolean(), stderr: z.boolean() })
    .describe('True for a stream whose middle was left out because it was too long.'),
});

export type ExecArgs = z.output<ReturnType<typeof execInput>>;
export type ExecResult = z.output<typeof ExecOutput>;

/** Creates the `exec` tool, running commands inside `options.root`. */
export function createExecTool(options: ExecToolOptions): AnyTool {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const maxTimeoutMs = options.maxTimeoutMs ?? MAX_EXEC_TIMEOUT_MS;
  const maxStreamBytes = options.maxStreamBytes ?? DEFAULT_EXEC_MAX_STREAM_BYTES;
  for (const [name, value] of Object.entries({ defaultTimeoutMs, maxTimeoutMs, maxStreamBytes })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new HarnessError('INVALID_REQUEST', `${name} must be a positive integer`);
    }
  }
  if (defaultTimeoutMs > maxTimeoutMs) {
    throw new HarnessError('INVALID_REQUEST', 'defaultTimeoutMs must not be above maxTimeoutMs');
  }
  const allowEnv = new Set(options.allowEnv ?? []);
  for (const name of allowEnv) {
    if (!ENV_NAME.test(name) || RESERVED_KEYS.has(name)) {
      throw new HarnessError(
        'INVALID_REQUEST',
        `allowEnv: ${JSON.stringify(name)} is not an environment variable name`,
      );
    }
  }
  const workspace = createWorkspaceRoot(options.root);
  const settings: ExecSettings = { workspace, allowEnv, defaultTimeoutMs, maxStreamBytes };

  return defineTool<ExecArgs, ExecResult>({
    name: 'exec',
    description:
      'Runs a program in the workspace, e.g. { command: ["npm", "test"] }, and returns its exit code, stdout and ' +
      'stderr. Arguments are passed literally, without a shell, unless shell: true. The environment is minimal ' +
      `(PATH, HOME = the workspace root, LANG, LC_ALL, TZ, TERM=dumb). Times out after ${defaultTimeoutMs} ms by ` +
      `default; each stream keeps at most ${maxStreamBytes} bytes (start and end, middle left out).`,
    input: execInput(maxTimeoutMs),
    output: ExecOutput,
    requiresApproval: options.requiresApproval ?? true,
    execute: (args, context) => runCommand(settings, args, context),
  });
}

interface ExecSettings {
  readonly workspace: WorkspaceRoot;
  readonly allowEnv: ReadonlySet<string>;
  readonly defaultTimeoutMs: number;
  readonly maxStreamBytes: number;
}

async function runCommand(settings: ExecSettings, args: ExecArgs, context: ToolExecuteContext): Promise<ExecResult> {
  const { workspace } = settings;
  const { signal } = context;
  signal.throwIfAborted();

  const refused = Object.keys(args.env ?? {}).filter((name) => !settings.allowEnv.has(name));
  if (refused.length > 0) {
    const allowed = [...settings.allowEnv];
    throw new HarnessError(
      'POLICY_DENIED',
      `environment variables not allowed: ${refused.map((name) => JSON.stringify(name)).join(', ')}; ` +
        (allowed.length === 0 ? 'no variables may be set' : `allowed: ${allowed.join(', ')}`),
    );
  }

  const cwd = await workspace.resolve(args.cwd ?? '.', { signal });
  if (!cwd.exists) throw new HarnessError('TOOL_ERROR', `working directory ${quote(cwd.requested)} does not exist`);
  try {
    if (!(await fs.stat(cwd.absolute)).isDirectory()) {
      throw new HarnessError('TOOL_ERROR', `working directory ${quote(cwd.requested)} is not a directory`);
    }
  } catch (error) {
    throw fileSystemFailure(error, cwd.requested, 'enter');
  }
  signal.throwIfAborted();

  const [program, ...rest] = args.shell === true ? ['sh', '-c', args.command.join(' ')] : args.command;
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(program as string, rest, {
      cwd: cwd.absolute,
      env: childEnvironment(workspace.directory, args.env),
      shell: false,
      // Its own process group, so the group can be killed as a whole; Windows has no groups.
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    throw spawnFailure(error, args.command[0] as string);
  }

  const stdout = new StreamCapture(settings.maxStreamBytes);
  const stderr = new StreamCapture(settings.maxStreamBytes);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, args.timeoutMs ?? settings.defaultTimeoutMs);
  const onAbort = (): void => killGroup(child);
  signal.addEventListener('abort', onAbort, { once: true });

  let ended: { exitCode: number | null; signal: NodeJS.Signals | null };
  try {
    ended = await new Promise((resolve, reject) => {
      let drain: NodeJS.Timeout | undefined;
      child.once('error', (error) => {
        clearTimeout(drain);
        reject(spawnFailure(error, args.command[0] as string));
      });
      child.once('exit', (exitCode, exitSignal) => {
        // Background processes the command left behind die with it; they would outlive the timeout.
        killGroup(child);
        drain = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve({ exitCode, signal: exitSignal });
        }, DRAIN_AFTER_EXIT_MS);
      });
      child.once('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
        clearTimeout(drain);
        resolve({ exitCode, signal: exitSignal });
      });
    });
  } finally {
    clearTimeout(timeout);
    signal.removeEventListener('abort', onAbort);
  }
  signal.throwIfAborted();

  const durationMs = Math.round(performance.now() - started);
  const budget = Math.max(0, context.maxOutputBytes - RESULT_OVERHEAD_BYTES);
  const [out, err] = fitStreams(stdout.text(), stderr.text(), budget);
  return {
    exitCode: ended.exitCode,
    ...(ended.signal === null ? {} : { signal: ended.signal }),
    stdout: out.text,
    stderr: err.text,
    timedOut,
    durationMs,
    truncated: { stdout: out.truncated, stderr: err.truncated },
  };
}

/**
 * The child's whole environment. Built on a null-prototype object: spawn reads every enumerable
 * key, inherited ones included, so nothing from `Object.prototype` may leak in.
 */
function childEnvironment(home: string, extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.create(null);
  for (const name of EXEC_INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.HOME = home;
  env.TERM = 'dumb';
  for (const [name, value] of Object.entries(extra ?? {})) env[name] = value;
  return env;
}

/**
 * Kills the command's process group (the command and everything it started). The group id is the
 * command's pid; the group is killed right after the command exits, before its pid can be reused.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: the group is already gone. Anything else: at least end the command itself.
    if (errorCode(error) !== 'ESRCH') {
      try {
        child.kill('SIGKILL');
      } catch {
        // Already exited.
      }
    }
  }
}

/** A spawn failure in words, without host paths: an absolute program path is named by its base name. */
function spawnFailure(error: unknown, program: string): HarnessError {
  const shown = quote(path.isAbsolute(program) ? path.basename(program) : program);
  switch (errorCode(error)) {
    case 'ENOENT':
      return new HarnessError(
        'TOOL_ERROR',
        program.includes('/') ? `program ${shown} does not exist` : `program ${shown} was not found on PATH`,
      );
    case 'EACCES':
    case 'EPERM':
      return new HarnessError('TOOL_ERROR', `program ${shown} cannot be run: permission denied`);
    case 'ENOEXEC':
      return new HarnessError('TOOL_ERROR', `program ${shown} is not an executable format`);
    default: {
      const code = errorCode(error);
      return new HarnessError('TOOL_ERROR', `program ${shown} could not be started${code ? ` (${code})` : ''}`);
    }
  }
}

/**
 * Keeps the start and the end of a stream within a byte limit: a compiler's first error and a test
 * runner's summary both survive. Memory stays within twice the limit however much is written.
 */
class StreamCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private totalBytes = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.limit) {
      const taken = rest.subarray(0, this.limit - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    // Drop whole chunks from the front while what remains still covers the limit.
    while (this.tail.length > 1 && this.tailBytes - (this.tail[0] as Buffer).length >= this.limit) {
      this.tailBytes -= (this.tail.shift() as Buffer).length;
    }
  }

  text(): CappedText {
    const head = Buffer.concat(this.head);
    if (this.totalBytes <= this.limit) return { text: decodeUtf8(head), truncated: false };
    const keepHead = Math.ceil(this.limit / 2);
    const keepTail = this.limit - keepHead;
    const end = Buffer.concat([head.subarray(keepHead), ...this.tail]);
    const start = head.subarray(0, utf8Boundary(head, keepHead));
    const finish = end.subarray(utf8Start(end, end.length - keepTail));
    const omitted = this.totalBytes - start.length - finish.length;
    return { text: decodeUtf8(start) + omissionMarker(omitted) + decodeUtf8(finish), truncated: true };
  }
}

interface CappedText {
  readonly text: string;
  readonly truncated: boolean;
}

function omissionMarker(bytes: number): string {
  return `\n[... ${bytes} bytes omitted ...]\n`;
}

function decodeUtf8(bytes: Buffer): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/** The largest cut at or before `at` that does not split a UTF-8 sequence. */
function utf8Boundary(bytes: Buffer, at: number): number {
  let cut = Math.min(at, bytes.length);
  while (cut > 0 && cut < bytes.length && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;
  return cut;
}

/** The smallest start at or after `at` that does not begin inside a UTF-8 sequence. */
function utf8Start(bytes: Buffer, at: number): number {
  let start = Math.max(0, at);
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  return start;
}

/**
 * Shrinks the two streams so that both, as JSON strings, fit `budget` bytes: each gets half, and
 * what one does not need goes to the other. A shrunk stream keeps its start and end.
 */
function fitStreams(stdout: CappedText, stderr: CappedText, budget: number): [CappedText, CappedText] {
  const outBytes = jsonBytes(stdout.text);
  const errBytes = jsonBytes(stderr.text);
  if (outBytes + errBytes <= budget) return [stdout, stderr];
  const half = Math.floor(budget / 2);
  const outBudget = errBytes <= half ? budget - errBytes : Math.max(half, budget - errBytes);
  const errBudget = budget - Math.min(outBytes, outBudget);
  return [shrinkToJson(stdout, outBudget), shrinkToJson(stderr, errBudget)];
}

function shrinkToJson(capped: CappedText, budget: number): CappedText {
  const { text } = capped;
  if (jsonBytes(text) <= budget) return capped;
  // Sized for the longest count the marker can carry, so the real marker never overshoots.
  const room = Math.max(0, budget - jsonBytes(omissionMarker(Number.MAX_SAFE_INTEGER)));
  const start = prefixWithinJsonBytes(text, Math.ceil(room / 2));
  const end = suffixWithinJsonBytes(text.slice(start.length), Math.floor(room / 2));
  const omitted = Buffer.byteLength(text.slice(start.length, text.length - end.length), 'utf8');
  return { text: start + omissionMarker(omitted) + end, truncated: true };
}
