/**
 * `harness bench [args...]`: runs the benchmark suite of the repository (`packages/bench`), in a
 * child process with the Node that runs the CLI, passing every argument through. Its output is
 * forwarded as it comes and its exit code becomes the CLI's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT_SCRIPT_FAILED, EXIT_USAGE } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import type { CommandOutcome } from '../main.ts';

/** The bench's own command line, in the repository next to the CLI. */
export const BENCH_CLI = fileURLToPath(new URL('../../../../packages/bench/src/cli.ts', import.meta.url));

export function registerBenchCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  program
    .command('bench')
    .summary('run the benchmark suite (packages/bench); its flags are passed through')
    .description(
      'Run the benchmark suite of the repository: every figure measured next to its baseline in the same ' +
        'run. All arguments go to the bench unchanged; --help here prints the bench’s own usage and rows.',
    )
    .argument('[args...]', 'arguments of the bench: --filter ID, --quick, --json FILE, --svg FILE, --check, chart ...')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      'after',
      `
Exit code: the bench's own: 0 measured, 1 a row failed or (with --check) a target was missed,
2 a bad flag.

Examples:
  $ harness bench --help
  $ harness bench --quick --filter quickjs
  $ harness bench --json report.json --svg report.svg --check`,
    )
    .action(async (args: string[]) => {
      outcome.exitCode = await benchCommand(args, io);
    });
}

/**
 * Runs the bench with `args` in `io.cwd`, so relative paths (--json FILE) are the caller's. The
 * bench is not part of the published CLI: installed from the registry, the command says so (exit 2).
 */
export function benchCommand(args: readonly string[], io: CliIo, benchCli = BENCH_CLI): Promise<number> {
  if (!existsSync(benchCli)) {
    io.stderr.write('harness: the bench runs from a clone of the repository; it is not part of the installed CLI\n');
    return Promise.resolve(EXIT_USAGE);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [benchCli, ...args], { cwd: io.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => io.stdout.write(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => io.stderr.write(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== null) io.stderr.write(`harness: the bench was stopped by ${signal}\n`);
      resolve(code ?? EXIT_SCRIPT_FAILED);
    });
  });
}
