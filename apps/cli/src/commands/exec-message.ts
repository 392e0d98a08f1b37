/**
 * `harness exec-message <file|->`: executes a whole assistant message — plain text with script
 * blocks, or an OpenAI / Anthropic JSON message — the way an agent loop would: every script block
 * runs in order, and the history comes back in message order with text and reasoning where they
 * were and each block followed by its output.
 */
import {
  detectScripts,
  type ExecutionMode,
  executeTurn,
  type HistoryItem,
  type MessageExecution,
  type ScriptEvent,
  type TurnPart,
} from '@script-harness/core';
import { type Command, InvalidArgumentError } from 'commander';
import { createTerminalPrompter } from '../approvals.ts';
import { EXIT_OK, EXIT_SCRIPT_FAILED, exitCodeOfResult, worstExitCode } from '../exit-codes.ts';
import { formatHeading, formatHistory } from '../format.ts';
import { decode, readInput } from '../input.ts';
import type { CliIo } from '../io.ts';
import { createLiveOutput } from '../live-output.ts';
import type { CommandOutcome } from '../main.ts';
import { type MessageFormat, parseMessageFormat, parseTurn } from '../message-input.ts';
import { limitsFromFlags, STDIN_ARGUMENT } from '../options.ts';
import { DEFAULT_RUNTIME } from '../runtimes.ts';
import { openCheckSession, openSession, type Session } from '../session.ts';
import {
  addExecutionFlags,
  addSharedFlags,
  type ExecutionFlags,
  resolveSharedSetup,
  type SharedFlags,
  sharedFlagsOf,
} from '../shared-flags.ts';

export interface ExecMessageCommandOptions extends SharedFlags, ExecutionFlags {
  /** A path relative to `io.cwd`, or `-` for standard input. */
  readonly file: string;
  readonly format?: MessageFormat | 'auto' | undefined;
  readonly onError?: 'stop' | 'continue' | undefined;
  readonly verbose?: boolean | undefined;
}

/** The one object `exec-message --json` prints. */
export interface JsonMessageReport {
  readonly ok: boolean;
  readonly mode: ExecutionMode;
  readonly format: MessageFormat;
  readonly blocks: number;
  readonly items: MessageExecution['items'];
  readonly results: MessageExecution['results'];
}

export function registerExecMessageCommand(program: Command, io: CliIo, outcome: CommandOutcome): void {
  const command = program
    .command('exec-message')
    .summary('run every script block of an assistant message and print the history in message order')
    .description(
      'Execute a whole assistant message: plain text with <tool-calls> or ```ts tool-calls blocks, or an ' +
        'OpenAI Responses, Chat Completions or Anthropic message as JSON. Every script block runs in order; ' +
        'the history is printed in message order — reasoning, text, each script and its output — the way ' +
        'the model gets it back.',
    )
    .argument('<file>', 'the message file, or - to read it from standard input');
  addExecutionFlags(
    command,
    'print { ok, mode, format, blocks, items, results } as one JSON object: the history items (text and ' +
      'reasoning included) and the full result of every script',
  )
    .option(
      '--format <format>',
      'form of the message: auto, text, openai-responses, openai-chat, anthropic, anthropic-stream (default: auto)',
      parseMessageFormat,
    )
    .option(
      '--on-error <what>',
      'after a failed block: stop skips the remaining blocks, continue runs them (default: stop)',
      parseOnError,
    );
  addSharedFlags(command)
    .addHelpText(
      'after',
      `
JSON messages are recognised by their shape: "output" (OpenAI Responses), "choices" or an assistant
message (Chat Completions), "content" blocks (Anthropic), an array of stream events (Anthropic,
streamed). Structured tool calls in the message are listed in the history but not run: they are the
agent loop's. Approvals work as for harness run; a message read from stdin cannot be answered.

Exit code 0 when every block succeeded (or nothing ran), 1 when a block failed.

Examples:
  $ harness exec-message reply.md --workspace ./project
  $ harness exec-message response.json --json
  $ harness exec-message reply.md --mode dry-run`,
    )
    .action(async (file: string, options: ExecMessageCommandOptions, action: Command) => {
      const { verbose } = action.optsWithGlobals<{ verbose?: boolean }>();
      outcome.exitCode = await execMessageCommand({ ...options, file, verbose }, io);
    });
}

function parseOnError(value: string): 'stop' | 'continue' {
  const normalised = value.trim().toLowerCase();
  if (normalised === 'stop' || normalised === 'continue') return normalised;
  throw new InvalidArgumentError('Expected stop or continue.');
}

export async function execMessageCommand(options: ExecMessageCommandOptions, io: CliIo): Promise<number> {
  const flagLimits = limitsFromFlags(options);
  const setup = await resolveSharedSetup(sharedFlagsOf(options), io);
  const text = decode(await readInput(options.file, io, 'message'));
  const turn = parseTurn(text, options.format ?? 'auto');
  const mode: ExecutionMode = options.mode ?? setup.config?.mode ?? 'enabled';
  const json = options.json === true;

  const live = createLiveOutput({ lines: undefined, spinner: json ? undefined : io.terminal?.output });
  const sources = scriptSourcesInRunOrder(turn.parts);
  const terminal = options.file === STDIN_ARGUMENT ? undefined : io.terminal;
  let session: Session;
  if (mode === 'enabled') {
    session = await openSession({
      setup,
      runtime: options.runtime ?? DEFAULT_RUNTIME,
      limits: flagLimits,
      prompter:
        terminal === undefined
          ? undefined
          : createTerminalPrompter(terminal, { pause: live.pause, resume: live.resume }),
      sourceOf: sources.sourceOf,
      io,
    });
  } else {
    session = await openCheckSession(setup, flagLimits);
  }
  let execution: MessageExecution;
  try {
    execution = await executeTurn(session.harness, turn.parts, {
      mode,
      onError: options.onError ?? 'stop',
      run: {
        onEvent: (event) => {
          sources.observe(event);
          live.onEvent(event);
        },
      },
    });
  } finally {
    live.close();
    await session.close();
  }

  const exitCode = exitCodeOf(execution);
  if (json) {
    const report: JsonMessageReport = {
      ok: exitCode === EXIT_OK,
      mode,
      format: turn.format,
      blocks: execution.blocks,
      items: execution.items,
      results: execution.results,
    };
    io.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    io.stdout.write(formatMessageReport(execution, mode, turn.format, exitCode, options.verbose === true));
  }
  return exitCode;
}

/** 0 when every block that produced an output succeeded, 4 when a runtime was missing, else 1. */
function exitCodeOf(execution: MessageExecution): number {
  const outputs = execution.items.filter(
    (item): item is Extract<HistoryItem, { type: 'script_tool_call_output' }> =>
      item.type === 'script_tool_call_output',
  );
  return worstExitCode([
    ...execution.results.map(exitCodeOfResult),
    ...outputs.map((item) => (item.ok ? EXIT_OK : EXIT_SCRIPT_FAILED)),
  ]);
}

function formatMessageReport(
  execution: MessageExecution,
  mode: ExecutionMode,
  format: MessageFormat,
  exitCode: number,
  verbose: boolean,
): string {
  const history =
    execution.items.length === 0
      ? '(the message is empty)\n'
      : formatHistory(execution.items, execution.results, { verbose });
  const blocks = `${execution.blocks} script block${execution.blocks === 1 ? '' : 's'}`;
  let summary: string;
  if (mode === 'disabled') summary = `${blocks}, none run: code execution is disabled.`;
  else if (mode === 'dry-run')
    summary = `${blocks} validated, none run: ${exitCode === EXIT_OK ? 'no findings' : 'findings above'}.`;
  else if (execution.blocks === 0) summary = 'no script blocks: nothing was run.';
  else {
    const ran = execution.results.length;
    const failed = execution.results.filter((result) => !result.ok).length;
    const calls = execution.results.reduce((sum, result) => sum + result.calls.length, 0);
    summary =
      `${blocks}, ${ran} run${failed > 0 ? `, ${failed} failed` : ', all succeeded'}` +
      `${ran < execution.blocks ? `, ${execution.blocks - ran} not run` : ''}; ${calls} tool call${calls === 1 ? '' : 's'}.`;
  }
  return `${history}\n${formatHeading('summary')}\nmessage format ${format}; ${summary}\n`;
}

/**
 * The source of each script block, matched to the runs of the message as they start: blocks run
 * one after the other in message order, so the n-th script id seen is the n-th block. This is what
 * lets an approval question show the calling line of the right block.
 */
export function scriptSourcesInRunOrder(parts: readonly TurnPart[]): {
  observe(event: ScriptEvent): void;
  sourceOf(scriptId: string): string | undefined;
} {
  const sources = parts.flatMap((part) =>
    part.kind === 'text'
      ? detectScripts(part.text).flatMap((segment) => (segment.type === 'script' ? [segment.source] : []))
      : [],
  );
  const byScriptId = new Map<string, string>();
  return {
    observe(event) {
      if (byScriptId.has(event.scriptId)) return;
      const source = sources[byScriptId.size];
      if (source !== undefined) byScriptId.set(event.scriptId, source);
    },
    sourceOf: (scriptId) => byScriptId.get(scriptId),
  };
}
