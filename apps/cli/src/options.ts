/**
 * Parsing and validation of command line values. Everything a person can get wrong on the command
 * line ends as a `UsageError` (exit code 2) with a message that names the flag and the fix.
 */
import { type ExecutionMode, HarnessError, type Limits, parseLimits, type ScriptLanguage } from '@script-harness/core';
import { InvalidArgumentError } from 'commander';

/** A mistake in how the CLI was invoked: reported as one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The file argument that means "read the script from standard input". */
export const STDIN_ARGUMENT = '-';

const SCRIPT_LANGUAGES: readonly ScriptLanguage[] = ['ts', 'js'];
const JAVASCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/** Commander option parser for `--timeout-ms`: a whole number of milliseconds above zero. */
export function parseTimeoutMs(value: string): number {
  const parsed = parseWholeNumber(value);
  if (parsed === undefined || parsed <= 0) {
    throw new InvalidArgumentError('Expected a whole number of milliseconds greater than 0, such as 5000.');
  }
  return parsed;
}

/** Commander option parser for `--memory-mb`: megabytes above zero (fractions allowed, e.g. 0.5). */
export function parseMemoryMb(value: string): number {
  const trimmed = value.trim();
  const parsed = /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('Expected a number of megabytes greater than 0, such as 64.');
  }
  return parsed;
}

/** Commander option parser for `--language`. */
export function parseLanguage(value: string): ScriptLanguage {
  const normalised = value.trim().toLowerCase();
  if (normalised === 'typescript') return 'ts';
  if (normalised === 'javascript') return 'js';
  if ((SCRIPT_LANGUAGES as readonly string[]).includes(normalised)) return normalised as ScriptLanguage;
  throw new InvalidArgumentError('Expected ts or js.');
}

/**
 * The language of a script: an explicit `--language` wins, then the file extension (`.js`, `.mjs`,
 * `.cjs` are JavaScript), and TypeScript otherwise, stdin included — TypeScript is a superset the
 * model usually writes.
 */
export function languageFor(file: string, explicit: ScriptLanguage | undefined): ScriptLanguage {
  if (explicit !== undefined) return explicit;
  const lower = file.toLowerCase();
  return JAVASCRIPT_EXTENSIONS.some((extension) => lower.endsWith(extension)) ? 'js' : 'ts';
}

export interface LimitFlags {
  readonly timeoutMs?: number | undefined;
  readonly memoryMb?: number | undefined;
}

/**
 * Checks the limit flags against the harness's own limits schema, so the CLI refuses exactly what
 * the harness would refuse (e.g. more memory than it can give), as a usage error.
 */
export function limitsFromFlags(flags: LimitFlags): Partial<Limits> {
  const limits: { timeoutMs?: number; memoryMb?: number } = {};
  if (flags.timeoutMs !== undefined) limits.timeoutMs = flags.timeoutMs;
  if (flags.memoryMb !== undefined) limits.memoryMb = flags.memoryMb;
  try {
    parseLimits(limits);
  } catch (error) {
    if (error instanceof HarnessError) throw new UsageError(flagNamesIn(error.message));
    throw error;
  }
  return limits;
}

/** Rewrites schema field names (`timeoutMs`) into the flags a person typed (`--timeout-ms`). */
function flagNamesIn(message: string): string {
  return message
    .replace(/^invalid limits: /, 'invalid limit: ')
    .replace(/\btimeoutMs\b/g, '--timeout-ms')
    .replace(/\bmemoryMb\b/g, '--memory-mb');
}

function parseWholeNumber(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

export const EXECUTION_MODES: readonly ExecutionMode[] = ['enabled', 'dry-run', 'disabled'];

/** Commander parser of `--mode`. */
export function parseExecutionMode(value: string): ExecutionMode {
  const normalised = value.trim().toLowerCase();
  if (normalised === 'dryrun' || normalised === 'dry_run') return 'dry-run';
  if ((EXECUTION_MODES as readonly string[]).includes(normalised)) return normalised as ExecutionMode;
  throw new InvalidArgumentError(`Expected one of ${EXECUTION_MODES.join(', ')}.`);
}
