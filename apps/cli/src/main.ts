/**
 * The `harness` command line: commander wiring, exit codes and the one place errors are reported.
 *
 * Exit codes: 0 the command succeeded, 1 the script failed (or the harness could not run it),
 * 2 the command line was wrong (unknown flag, bad value, unreadable file).
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_LIMITS } from '@script-harness/core';
import { Command, CommanderError } from 'commander';
import { demoCommand } from './commands/demo.ts';
import { runCommand } from './commands/run.ts';
import { type CliIo, processIo } from './io.ts';
import { parseLanguage, parseMemoryMb, parseTimeoutMs, UsageError } from './options.ts';

export const EXIT_OK = 0;
export const EXIT_SCRIPT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Where the commands record their exit code while commander drives them. */
export interface CommandOutcome {
  exitCode: number;
}

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
export const CLI_VERSION = packageJson.version;

export function createProgram(io: CliIo, outcome: CommandOutcome = { exitCode: EXIT_OK }): Command {
  const program = new Command('harness')
    .description(
      'Run TypeScript that a language model wrote, in a QuickJS sandbox, with file tools confined to one directory.',
    )
    .version(CLI_VERSION, '-V, --version', 'print the version of the CLI')
    .option('--verbose', 'show more detail: script stacks, error details, internal stack traces')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's messages start with "error: " and may put a suggestion on a second line; every
      // usage error of the CLI is one line that starts with the program name.
      outputError: (text, write) =>
        write(
          `${text
            .trim()
            .replace(/^error: /, 'harness: ')
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .addHelpText(
      'after',
      `
Exit codes:
  0  the command succeeded
  1  the script failed (syntax error, timeout, memory limit, uncaught error, ...)
  2  the command line is wrong (unknown flag, bad value, unreadable file)

Examples:
  $ harness run script.ts --workspace ./project
  $ echo 'return 6 * 7' | harness run - --json
  $ harness demo`,
    );

  program
    .command('run')
    .summary('run a script file (or standard input) in the sandbox, with the file tools')
    .description(
      'Run a TypeScript or JavaScript script in a QuickJS sandbox. The script calls the file tools through ' +
        '`tools`; the CLI reports its result or its error, and every tool call it made.',
    )
    .argument('<file>', 'the script file, or - to read the script from standard input')
    .option('--json', 'print exactly one JSON object with the result, and nothing else, on stdout')
    .option('-w, --workspace <dir>', 'directory the file tools read and write (default: the current directory)')
    .option(
      '--language <ts|js>',
      'language of the script (default: js for .js/.mjs/.cjs files, ts otherwise)',
      parseLanguage,
    )
    .option('--timeout-ms <ms>', `deadline of the whole run (default: ${DEFAULT_LIMITS.timeoutMs})`, parseTimeoutMs)
    .option('--memory-mb <mb>', `heap available to the script (default: ${DEFAULT_LIMITS.memoryMb})`, parseMemoryMb)
    .addHelpText(
      'after',
      `
The script is the body of an async function: use await, and return the result.
Tools: tools.readFile({ path, startLine?, endLine? }), tools.writeFile({ path, content }),
       tools.listDir({ path?, depth? }); paths are relative to the workspace.

Without --json, console lines of the script appear as they happen, prefixed with [script],
followed by the result (or the error with its line, column and remedy) and a table of tool calls.

Examples:
  $ harness run analyse.ts --workspace ./project
  $ harness run check.js --timeout-ms 2000 --memory-mb 32
  $ cat script.ts | harness run - --json`,
    )
    .action(async (file: string, options: RunFlags, command: Command) => {
      const { verbose } = command.optsWithGlobals<{ verbose?: boolean }>();
      outcome.exitCode = await runCommand({ file, ...options, verbose }, io);
    });

  program
    .command('demo')
    .summary('replay a recorded agent message against a temporary copy of a small project')
    .description(
      'Replay a recorded assistant message (reasoning, text and a script block) against a temporary copy of a ' +
        'small project, and print the resulting history in message order.',
    )
    .option('--json', 'print the history items and script results as one JSON object')
    .addHelpText(
      'after',
      `
The transcript is examples/demo/transcript.md and the project is examples/demo/workspace/. The
project is copied to a temporary directory, which is removed afterwards.

Examples:
  $ harness demo
  $ harness demo --json`,
    )
    .action(async (options: { json?: boolean }, command: Command) => {
      const { verbose } = command.optsWithGlobals<{ verbose?: boolean }>();
      outcome.exitCode = await demoCommand({ ...options, verbose }, io);
    });

  return program;
}

interface RunFlags {
  readonly json?: boolean;
  readonly workspace?: string;
  readonly language?: 'ts' | 'js';
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

/**
 * Runs the CLI with `argv` as Node passes it (`[node, script, ...args]`) and returns the exit code.
 * Never throws: every failure is reported on `io.stderr`.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const outcome: CommandOutcome = { exitCode: EXIT_OK };
  const program = createProgram(io, outcome);
  try {
    await program.parseAsync([...argv]);
    return outcome.exitCode;
  } catch (error) {
    return reportFailure(error, io, argv.includes('--verbose'));
  }
}

function reportFailure(error: unknown, io: CliIo, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // Commander has printed the help, the version or its message already.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`harness: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail =
    verbose && error instanceof Error && error.stack !== undefined
      ? `\n${error.stack}`
      : ' (run again with --verbose for the stack trace)';
  io.stderr.write(`harness: the command failed: ${message}${detail}\n`);
  return EXIT_SCRIPT_FAILED;
}
