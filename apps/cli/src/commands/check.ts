/**
 * `harness check <file|->`: the validation a script goes through before it runs — syntax, banned
 * constructs, tools that do not exist — and nothing else: no sandbox is started, no tool is
 * called. Exit code 1 when there are findings, so it can guard a pipeline.
 */
import type { CheckReport, Finding, ScriptLanguage } from '@script-harness/core';
import type { Command } from 'commander';
import { findCallingLines } from '../approvals.ts';
import { EXIT_OK, EXIT_SCRIPT_FAILED } from '../exit-codes.ts';
import { formatCheckReport } from '../format.ts';
import { decode, readScript } from '../input.ts';
import type { CliIo } from '../io.ts';
import type { CommandOutcome } from '../main.ts';
import { languageFor, parseLanguage } from '../options.ts';
import { openCheckSession } from '../session.ts';
import { addSharedFlags, resolveSharedSetup, type SharedFlags, sharedFlagsOf } from '../shared-flags.ts';

export interface CheckCommandOptions extends SharedFlags {
  /** A path relative to `io.cwd`, or `-` for standard input. */
  readonly file: string;
  readonly json?: boolean | undefined;
  readonly language?: ScriptLanguage | undefined;
}

export function registerCheckCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  const command = program
    .command('check')
    .summary('validate a script without running it: syntax, banned constructs, unknown tools')
    .description(
      'Dry-run: validate a script the way the harness does before it runs one — syntax, constructs the ' +
        'sandbox does not offer (require, import, eval, new Function), calls of tools that do not exist — and ' +
        'print every finding with its code and line. Nothing is run and no tool is called.',
    )
    .argument('<file>', 'the script file, or - to read the script from standard input')
    .option('--json', 'print the report { ok, findings, referencedTools } as one JSON object')
    .option(
      '--language <ts|js>',
      'language of the script (default: js for .js/.mjs/.cjs files, ts otherwise)',
      parseLanguage,
    );
  addSharedFlags(command)
    .addHelpText(
      'after',
      `
The tools a script may call are those --tools and --config choose (as for harness run);
--approve has no effect here, since nothing runs. Exit code 0 when there are no findings, 1 when
there are.

Examples:
  $ harness check script.ts
  $ harness check script.ts --tools files --json
  $ cat script.ts | harness check -`,
    )
    .action(async (file: string, options: CheckCommandOptions) => {
      outcome.exitCode = await checkCommand({ ...options, file }, io);
    });
}

export async function checkCommand(options: CheckCommandOptions, io: CliIo): Promise<number> {
  const setup = await resolveSharedSetup(sharedFlagsOf(options), io);
  const source = await readScript(options.file, io);
  const language = languageFor(options.file, options.language);
  const session = await openCheckSession(setup, {});
  let report: CheckReport;
  try {
    report = locateFindings(session.harness.check(source, { language }), decode(source));
  } finally {
    await session.close();
  }
  if (options.json === true) io.stdout.write(`${JSON.stringify(report)}\n`);
  else io.stdout.write(formatCheckReport(report));
  return report.ok ? EXIT_OK : EXIT_SCRIPT_FAILED;
}

/**
 * Findings about tools carry no position; the first line that calls the tool is where a person
 * would look, so it is added when the source names the tool literally.
 */
export function locateFindings(report: CheckReport, source: string): CheckReport {
  const findings = report.findings.map((finding): Finding => {
    if (finding.line !== undefined || finding.code !== 'TOOL_NOT_FOUND') return finding;
    const tool = /^tools\.([\w$.]+?) does not exist/.exec(finding.message)?.[1];
    const first = tool === undefined ? undefined : findCallingLines(source, tool)[0];
    return first === undefined ? finding : { ...finding, line: first.line };
  });
  return { ...report, findings };
}
