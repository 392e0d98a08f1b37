/**
 * `harness run <file|->`: runs one script against the tools of a workspace and reports the result,
 * readably (console lines live, then the result and a table of tool calls) or as one JSON object.
 */
import { randomUUID } from 'node:crypto';
import {
  createHarness,
  DISABLED_NOTICE,
  type ExecutionMode,
  type Harness,
  type LimitsInput,
  type ScriptEvent,
  type ScriptLanguage,
  type ScriptResult,
} from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { createFileTools } from '@script-harness/tools';
import type { Command } from 'commander';
import { createTerminalPrompter } from '../approvals.ts';
import { EXIT_OK, EXIT_SCRIPT_FAILED, exitCodeOfResult } from '../exit-codes.ts';
import { formatCheckReport, formatRunReport, toJsonReport } from '../format.ts';
import { decode, readScript } from '../input.ts';
import type { CliIo } from '../io.ts';
import { createLiveOutput } from '../live-output.ts';
import type { CommandOutcome } from '../main.ts';
import { languageFor, limitsFromFlags, parseLanguage, STDIN_ARGUMENT } from '../options.ts';
import { DEFAULT_RUNTIME } from '../runtimes.ts';
import { openCheckSession, openSession } from '../session.ts';
import {
  addExecutionFlags,
  addSharedFlags,
  type ExecutionFlags,
  resolveSharedSetup,
  type SharedFlags,
  sharedFlagsOf,
} from '../shared-flags.ts';
import { describeFsError, resolveWorkspace } from '../workspace.ts';
import { locateFindings } from './check.ts';

export { decode, describeFsError, readScript, resolveWorkspace };

export interface RunCommandOptions extends SharedFlags, ExecutionFlags {
  /** A path relative to `io.cwd`, or `-` for standard input. */
  readonly file: string;
  readonly language?: ScriptLanguage | undefined;
  readonly verbose?: boolean | undefined;
}

export function registerRunCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  const command = program
    .command('run')
    .summary('run a script file (or standard input) in the sandbox, with workspace tools')
    .description(
      'Run a TypeScript or JavaScript script in a sandbox. The script calls tools through `tools`; the CLI ' +
        'streams its console output, asks before calls that need approval, and reports its result or its ' +
        'error and every tool call it made.',
    )
    .argument('<file>', 'the script file, or - to read the script from standard input');
  addExecutionFlags(command, 'print exactly one JSON object with the result, and nothing else, on stdout');
  command.option(
    '--language <ts|js>',
    'language of the script (default: js for .js/.mjs/.cjs files, ts otherwise)',
    parseLanguage,
  );
  addSharedFlags(command)
    .addHelpText(
      'after',
      `
The script is the body of an async function: use await, and return the result.
Default tools (paths relative to the workspace): readFile, writeFile, listDir, fileSearch, grep,
applyPatch; \`harness types\` prints their declarations.

Approvals: by default reads are allowed, writes, patches and commands ask, and the network is
denied (rules in a --config file come first). On a terminal, asking shows the tool, its arguments
with secrets redacted and the calling line, and waits for y or n. Without a terminal (a pipe, CI,
or the script read from stdin) asking means denying, unless --approve allow.

Without --json, console lines and progress of the script appear as they happen, prefixed with
[script], a spinner shows while tools run, and then come the result (or the error with its line,
column and remedy) and a table of the tool calls.

Examples:
  $ harness run analyse.ts --workspace ./project
  $ harness run fix.ts --approve allow --tools files,patch
  $ harness run check.js --timeout-ms 2000 --memory-mb 32
  $ cat script.ts | harness run - --json`,
    )
    .action(async (file: string, options: RunCommandOptions, action: Command) => {
      const { verbose } = action.optsWithGlobals<{ verbose?: boolean }>();
      outcome.exitCode = await runCommand({ ...options, file, verbose }, io);
    });
}

/** Runs the command and returns its exit code: 0 ok, 1 script failed, 4 runtime unavailable. */
export async function runCommand(options: RunCommandOptions, io: CliIo): Promise<number> {
  const flagLimits = limitsFromFlags(options);
  const setup = await resolveSharedSetup(sharedFlagsOf(options), io);
  const source = await readScript(options.file, io);
  const language = languageFor(options.file, options.language);
  const mode: ExecutionMode = options.mode ?? setup.config?.mode ?? 'enabled';
  const json = options.json === true;

  if (mode === 'disabled') {
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, mode, notice: DISABLED_NOTICE })}\n`);
    else io.stdout.write(`Not run: code execution is disabled (--mode disabled, or "mode" in the config file).\n`);
    return EXIT_SCRIPT_FAILED;
  }

  if (mode === 'dry-run') {
    const session = await openCheckSession(setup, flagLimits);
    try {
      const report = locateFindings(session.harness.check(source, { language }), decode(source));
      if (json) io.stdout.write(`${JSON.stringify({ ok: report.ok, mode, report })}\n`);
      else io.stdout.write(formatCheckReport(report));
      return report.ok ? EXIT_OK : EXIT_SCRIPT_FAILED;
    } finally {
      await session.close();
    }
  }

  const live = createLiveOutput({
    // Console lines are shown as they happen; in JSON mode stdout carries the report alone.
    lines: json ? undefined : io.stdout,
    spinner: json ? undefined : io.terminal?.output,
  });
  // A script read from stdin has used it up: nobody can answer a question there.
  const terminal = options.file === STDIN_ARGUMENT ? undefined : io.terminal;
  const scriptId = randomUUID();
  const sourceText = decode(source);
  const session = await openSession({
    setup,
    runtime: options.runtime ?? DEFAULT_RUNTIME,
    limits: flagLimits,
    prompter:
      terminal === undefined ? undefined : createTerminalPrompter(terminal, { pause: live.pause, resume: live.resume }),
    sourceOf: (id) => (id === scriptId ? sourceText : undefined),
    io,
  });
  let result: ScriptResult;
  try {
    result = await session.harness.run(source, { language, scriptId, onEvent: live.onEvent });
  } finally {
    live.close();
    await session.close();
  }
  if (json) io.stdout.write(`${JSON.stringify(toJsonReport(result))}\n`);
  else io.stdout.write(formatRunReport(result, { verbose: options.verbose === true }));
  return exitCodeOfResult(result);
}

export interface RunScriptOptions {
  readonly language: ScriptLanguage;
  /** Absolute path of the directory the file tools are confined to. */
  readonly workspace: string;
  readonly limits: { readonly timeoutMs?: number; readonly memoryMb?: number };
  readonly onEvent?: ((event: ScriptEvent) => void) | undefined;
}

/**
 * A harness with only the file tools confined to `workspace` and the engine's own default policy
 * (no approvals asked): what the demo replays its recorded transcript with.
 */
export async function createWorkspaceHarness(workspace: string, limits: LimitsInput = {}): Promise<Harness> {
  const runtime = await createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
  return createHarness({ runtime, tools: createFileTools({ root: workspace }), limits });
}

/** One script in a fresh workspace harness; the harness is closed whatever happens. */
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
