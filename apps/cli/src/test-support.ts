/**
 * Helpers of the CLI's tests: the real `harness` executable as a child process, with pipes or
 * inside a pseudo-terminal (util-linux `script`), and temporary directories. Not part of the CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('./bin.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** A process still alive after this is hanging; it is killed and the test fails on its signal. */
const HANG_AFTER_MS = 45_000;

export interface CliRun {
  readonly code: number | null;
  /** Set when the process had to be killed: it did not exit on its own. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HarnessProcessOptions {
  readonly cwd?: string;
  readonly stdin?: string;
  /** Variables added to (or, when undefined, removed from) the environment of the test process. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Options for Node itself, before the executable (e.g. `--import` of a module hook). */
  readonly nodeArgs?: readonly string[];
}

/** Runs bin.ts with the Node that runs the tests (the repository's Node 24), stdio as pipes. */
export function harness(args: readonly string[], options: HarnessProcessOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: environment(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), HANG_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export interface TerminalAnswer {
  /**
   * Text that must appear in the terminal after the previous answer before this one is typed;
   * several texts must appear in this order (a prompt is redrawn, so its text alone may repeat).
   */
  readonly after: string | readonly string[];
  /** What the person types. */
  readonly type: string;
}

export interface TerminalRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Everything the terminal showed (stdout and stderr together), escape sequences removed. */
  readonly screen: string;
}

/**
 * Runs bin.ts inside a pseudo-terminal, so stdin, stdout and stderr are all a TTY as for a person
 * at a terminal, and types each answer once its prompt has appeared. `script -e` exits with the
 * CLI's exit code. The terminal gets a size, as a real one has.
 */
export function harnessInTerminal(
  args: readonly string[],
  answers: readonly TerminalAnswer[],
  options: { readonly cwd?: string } = {},
): Promise<TerminalRun> {
  const command = `stty cols 120 rows 40; exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: options.cwd ?? REPO_ROOT,
      env: environment({}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let raw = '';
    let answered = 0;
    let searchFrom = 0;
    const typeWhenAsked = () => {
      const next = answers[answered];
      if (next === undefined) return;
      const screen = stripVTControlCharacters(raw);
      let at = searchFrom;
      for (const text of typeof next.after === 'string' ? [next.after] : next.after) {
        const found = screen.indexOf(text, at);
        if (found < 0) return;
        at = found + text.length;
      }
      searchFrom = at;
      answered++;
      child.stdin.write(next.type);
      typeWhenAsked();
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      raw += chunk;
      typeWhenAsked();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), HANG_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      child.stdin.destroy();
      resolve({ code, signal, screen: stripVTControlCharacters(raw).replace(/\r\n?/g, '\n') });
    });
  });
}

/** stdout of `--json` must be exactly one JSON object and nothing else. */
export function parseSingleJson(stdout: string): Record<string, unknown> {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  const parsed: unknown = JSON.parse(stdout);
  expect(parsed).toBeTypeOf('object');
  return parsed as Record<string, unknown>;
}

export interface TemporaryDirectory {
  readonly path: string;
  remove(): Promise<void>;
}

export async function temporaryDirectory(prefix: string): Promise<TemporaryDirectory> {
  const path = await mkdtemp(join(tmpdir(), `script-harness-cli-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

function environment(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
