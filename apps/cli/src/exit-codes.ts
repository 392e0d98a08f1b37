/**
 * Exit codes and the one place a failure of a command becomes a readable paragraph on stderr.
 *
 * A person (or a script around the CLI) reads the exit code first: 0 ok, 1 the script or the
 * operation failed, 2 the command line is wrong, 3 the configuration is wrong, 4 the runtime asked
 * for cannot be loaded here. Every failure that is the user's to fix is one paragraph that names
 * its code and what to do; a stack trace only appears with `--verbose`, and only for failures of
 * the CLI itself.
 */
import { ERROR_CODES, HarnessError, type ScriptResult } from '@script-harness/core';
import { CommanderError } from 'commander';
import type { CliIo } from './io.ts';
import { UsageError } from './options.ts';

export const EXIT_OK = 0;
export const EXIT_SCRIPT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONFIG = 3;
export const EXIT_RUNTIME_UNAVAILABLE = 4;

/** The exit code table as `--help` and docs/cli.md show it. */
export const EXIT_CODES_HELP = `Exit codes:
  0  the command succeeded
  1  the script failed (syntax error, timeout, memory limit, uncaught error, denied tool call,
     findings of check), or the operation did (a task that does not exist, a server error)
  2  the command line is wrong: unknown command or flag, a bad value, a missing or unreadable
     input file
  3  the configuration is wrong: an invalid --config file, an MCP server that cannot be started,
     a server that cannot be reached or refuses the key
  4  the runtime cannot be loaded on this machine (e.g. --runtime isolated-vm without its
     native module)`;

/** Code of the configuration problems in messages; not a harness error code, nothing runs before it. */
export const CONFIG_INVALID = 'CONFIG_INVALID';

/** The configuration (a `--config` file, a server address or key) is wrong: exit code 3. */
export class ConfigurationError extends Error {
  readonly problems: readonly string[];
  readonly remedy: string;

  constructor(summary: string, problems: readonly string[], remedy: string, options?: ErrorOptions) {
    super(problems.length === 0 ? summary : `${summary}: ${problems.join('; ')}`, options);
    this.name = 'ConfigurationError';
    this.problems = problems;
    this.remedy = remedy;
  }
}

/** The exit code of a finished run: 4 when its runtime could not be used, else 0 or 1. */
export function exitCodeOfResult(result: Pick<ScriptResult, 'ok' | 'error'>): number {
  if (result.ok) return EXIT_OK;
  return result.error?.code === 'RUNTIME_UNAVAILABLE' ? EXIT_RUNTIME_UNAVAILABLE : EXIT_SCRIPT_FAILED;
}

/** The exit code of several runs (a message's blocks): the most severe one wins. */
export function worstExitCode(codes: readonly number[]): number {
  if (codes.includes(EXIT_RUNTIME_UNAVAILABLE)) return EXIT_RUNTIME_UNAVAILABLE;
  return codes.some((code) => code !== EXIT_OK) ? EXIT_SCRIPT_FAILED : EXIT_OK;
}

/**
 * Reports an error that ended a command on `io.stderr` and returns the exit code it stands for.
 * Commander has already printed its own messages (help, version, unknown flags).
 */
export function reportFailure(error: unknown, io: CliIo, verbose: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`harness: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigurationError) {
    io.stderr.write(
      `harness: ${CONFIG_INVALID}: ${sentence(error.message)} ${error.remedy}${causeDetail(error, verbose)}\n`,
    );
    return EXIT_CONFIG;
  }
  if (error instanceof HarnessError) {
    const remedy = ERROR_CODES[error.code]?.remedy;
    const paragraph = `harness: ${error.code}: ${sentence(error.message)}${remedy === undefined ? '' : ` Remedy: ${remedy}`}`;
    const detail =
      verbose && error.details !== undefined ? `\nDetails:\n${JSON.stringify(error.details, null, 2)}` : '';
    io.stderr.write(`${paragraph}${detail}${causeDetail(error, verbose)}\n`);
    if (error.code === 'RUNTIME_UNAVAILABLE') return EXIT_RUNTIME_UNAVAILABLE;
    return error.code === 'INVALID_REQUEST' ? EXIT_USAGE : EXIT_SCRIPT_FAILED;
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail =
    verbose && error instanceof Error && error.stack !== undefined
      ? `\n${error.stack}`
      : ' (run again with --verbose for the stack trace)';
  io.stderr.write(`harness: the command failed: ${message}${detail}\n`);
  return EXIT_SCRIPT_FAILED;
}

/** With --verbose, what caused a user-facing error, one line per cause (no stack: it is not a CLI bug). */
function causeDetail(error: Error, verbose: boolean): string {
  if (!verbose) return '';
  const lines: string[] = [];
  let cause: unknown = error.cause;
  while (cause !== undefined && lines.length < 5) {
    lines.push(`Caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.length === 0 ? '' : `\n${lines.join('\n')}`;
}

function sentence(message: string): string {
  const trimmed = message.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
