/**
 * `pnpm bench [--filter ID] [--json FILE] [--svg FILE] [--quick] [--check]`: measures, prints a
 * table, writes the JSON report and the SVG chart, and with `--check` compares the run with
 * targets.json. `pnpm bench chart --from FILE --svg OUT` redraws the chart of a saved report.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseReport, renderChart } from './chart.ts';
import {
  type BenchReport,
  checkTargets,
  formatCheck,
  formatTable,
  parseTargets,
  type Target,
  type TargetOutcome,
} from './report.ts';
import { ALL_ROWS, runBench } from './run.ts';

export interface CliArgs {
  readonly filter: readonly string[];
  readonly json?: string;
  readonly svg?: string;
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
      svg: { type: 'string' },
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
    ...(values.svg === undefined ? {} : { svg: values.svg }),
    quick: values.quick,
    check: values.check,
    help: values.help,
  };
}

export interface ChartArgs {
  readonly from: string;
  readonly svg: string;
}

/** `chart --from FILE --svg OUT`: both are required. */
export function parseChartArgs(argv: readonly string[]): ChartArgs {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  if (args[0] !== 'chart') throw new Error('expected the chart command');
  const { values } = parseArgs({
    args: args.slice(1),
    strict: true,
    allowPositionals: false,
    options: { from: { type: 'string' }, svg: { type: 'string' } },
  });
  if (values.from === undefined || values.svg === undefined) throw new Error('chart needs --from FILE and --svg OUT');
  return { from: values.from, svg: values.svg };
}

/** Is this command line the `chart` command (render a saved report) rather than a bench run? */
export function isChartCommand(argv: readonly string[]): boolean {
  return (argv[0] === '--' ? argv[1] : argv[0]) === 'chart';
}

export const USAGE = `Usage: pnpm bench [--filter ID[,ID...]] [--json FILE] [--svg FILE] [--quick] [--check]
       pnpm bench chart --from REPORT.json --svg OUT.svg

  --filter ID   only rows whose id is ID or contains it (repeatable); their baselines run too
  --json FILE   also write the report as JSON
  --svg FILE    also write the chart (ratios to baselines, targets, absolute figures) as SVG
  --quick       short measurements (whole run under a minute)
  --check       compare with packages/bench/targets.json; exit 1 when a target is missed

  chart         render the SVG of a saved --json report without measuring anything

Rows:
${ALL_ROWS.map((row) => `  ${row.id.padEnd(30)} ${row.title}`).join('\n')}`;

export const TARGETS_FILE = new URL('../targets.json', import.meta.url);

async function readTargets(): Promise<Target[]> {
  return parseTargets(JSON.parse(await readFile(TARGETS_FILE, 'utf8')));
}

async function writeChart(report: BenchReport, file: string): Promise<void> {
  const svg = renderChart(report, { targets: await readTargets() });
  const resolved = path.resolve(file);
  await mkdir(path.dirname(resolved), { recursive: true });
  await writeFile(resolved, svg);
}

async function chartMain(argv: readonly string[]): Promise<number> {
  let args: ChartArgs;
  try {
    args = parseChartArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const report = parseReport(JSON.parse(await readFile(path.resolve(args.from), 'utf8')));
  await writeChart(report, args.svg);
  process.stdout.write(`chart of ${args.from} (${report.results.length} rows) written to ${args.svg}\n`);
  return 0;
}

async function main(): Promise<number> {
  if (isChartCommand(process.argv.slice(2))) return chartMain(process.argv.slice(2));
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
  if (args.svg !== undefined) {
    await writeChart(report, args.svg);
    process.stdout.write(`chart written to ${args.svg}\n`);
  }
  let exitCode = 0;
  const errored = report.results.filter((result) => result.note?.startsWith('error: '));
  if (errored.length > 0) {
    process.stderr.write(`\n${errored.length} row(s) failed to measure: ${errored.map((r) => r.id).join(', ')}\n`);
    exitCode = 1;
  }
  if (args.check) {
    const targets = await readTargets();
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
