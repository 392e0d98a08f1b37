/**
 * `pnpm bench [--filter ID] [--json FILE] [--quick] [--check]`: measures, prints a table, writes
 * the JSON report, and with `--check` compares the run with targets.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkTargets, formatCheck, formatTable, parseTargets, type TargetOutcome } from './report.ts';
import { ALL_ROWS, runBench } from './run.ts';

export interface CliArgs {
  readonly filter: readonly string[];
  readonly json?: string;
  readonly quick: boolean;
  readonly check: boolean;
  readonly help: boolean;
}

/** Parses the command line; `--filter` may repeat or hold a comma-separated list. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  // pnpm forwards a leading `--` separator when one is typed; it is not an argument.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      filter: { type: 'string', multiple: true, short: 'f' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false, short: 'h' },
    },
  });
  const filter = (values.filter ?? [])
    .flatMap((term) => term.split(','))
    .map((term) => term.trim())
    .filter((term) => term !== '');
  return {
    filter,
    ...(values.json === undefined ? {} : { json: values.json }),
    quick: values.quick,
    check: values.check,
    help: values.help,
  };
}

export const USAGE = `Usage: pnpm bench [--filter ID[,ID...]] [--json FILE] [--quick] [--check]

  --filter ID   only rows whose id is ID or contains it (repeatable); their baselines run too
  --json FILE   also write the report as JSON
  --quick       short measurements (whole run under a minute)
  --check       compare with packages/bench/targets.json; exit 1 when a target is missed

Rows:
${ALL_ROWS.map((row) => `  ${row.id.padEnd(30)} ${row.title}`).join('\n')}`;

export const TARGETS_FILE = new URL('../targets.json', import.meta.url);

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  const report = await runBench({
    filter: args.filter,
    quick: args.quick,
    log: (message) => process.stderr.write(`  measured ${message}\n`),
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${formatTable(report.results)}\n\n`);
  process.stdout.write(
    `${report.results.length} rows, ${args.quick ? 'quick' : 'full'} profile, ${seconds.toFixed(1)} s — Node ${report.node}, ${report.cpu}\n`,
  );
  if (args.json !== undefined) {
    const file = path.resolve(args.json);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`report written to ${args.json}\n`);
  }
  let exitCode = 0;
  const errored = report.results.filter((result) => result.note?.startsWith('error: '));
  if (errored.length > 0) {
    process.stderr.write(`\n${errored.length} row(s) failed to measure: ${errored.map((r) => r.id).join(', ')}\n`);
    exitCode = 1;
  }
  if (args.check) {
    const targets = parseTargets(JSON.parse(await readFile(TARGETS_FILE, 'utf8')));
    const outcomes: TargetOutcome[] = checkTargets(report.results, targets);
    process.stdout.write(`\nTargets (targets.json):\n${formatCheck(outcomes)}\n`);
    const missed = outcomes.filter((outcome) => outcome.status === 'fail').length;
    if (missed > 0) {
      process.stdout.write(`${missed} target(s) missed\n`);
      exitCode = 1;
    }
  }
  return exitCode;
}

if (import.meta.main) {
  process.exitCode = await main();
}
