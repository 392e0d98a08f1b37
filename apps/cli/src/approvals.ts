/**
 * `--approve ask|allow|deny`: what happens to a tool call the policy asks about.
 *
 * - `ask` on a terminal shows the call — the tool, its arguments with secrets redacted, and the
 *   line of the script that made it when that line can be found — and waits for yes or no
 *   (@clack/prompts). The script's clock stands still meanwhile; the approval times out after the
 *   configured time like any other approval.
 * - `ask` without a terminal (a pipe, CI) denies: nobody is there to answer, and a CLI that
 *   silently allowed would do what nobody approved. `--approve allow` is the explicit way out.
 * - `allow` approves and `deny` refuses such calls without asking. Calls the policy denies stay
 *   denied whatever the mode: approval only ever decides what the policy left open.
 */
import type { Readable, Writable } from 'node:stream';
import { confirm, isCancel } from '@clack/prompts';
import type { ApprovalBroker, ToolCallRequest } from '@script-harness/core';
import {
  createApprovalBroker,
  describeCallingLines,
  findCallingLines,
  type PendingApproval,
  redactArgs,
} from '@script-harness/policy';
import type { ApproveMode } from './config-file.ts';

/** Where a held call was made in the script; kept here for the commands that import them from the CLI. */
export { describeCallingLines, findCallingLines };

/** Why a call that needed approval was denied without a terminal; the script sees it in its error. */
export const NO_TERMINAL_REASON =
  'it needs approval and there is no terminal to ask on; run with --approve allow to allow such calls';
export const DENIED_BY_FLAG_REASON = 'calls that need approval are denied by --approve deny';
export const DENIED_AT_PROMPT_REASON = 'the person at the terminal said no';

/** Longest string argument shown at the prompt; the rest of it is cut (approval still binds to all of it). */
const PROMPT_STRING_CHARS = 300;
/** Lines of the argument JSON shown at the prompt. */
const PROMPT_ARGS_LINES = 24;

/** What the person at the terminal sees about one call. */
export interface ApprovalQuestion {
  readonly tool: string;
  /** Redacted, size-bounded arguments. */
  readonly args: unknown;
  /** 1-based position of the call among the script's calls. */
  readonly sequence: number;
  /** The line(s) of the script that call the tool, when they can be found. */
  readonly callingLines?: string;
}

/** Asks one question at a time; resolves true (approve), false (deny) or undefined (cancelled). */
export interface ApprovalPrompter {
  ask(question: ApprovalQuestion, signal: AbortSignal): Promise<boolean | undefined>;
}

export interface CliApprovalsOptions {
  readonly mode: ApproveMode;
  /** The terminal prompter; undefined when there is no terminal. */
  readonly prompter: ApprovalPrompter | undefined;
  /** The source of a running script by id, to find the calling line. */
  readonly sourceOf?: ((scriptId: string) => string | undefined) | undefined;
  /** How long a call waits for an answer (default: the broker's). */
  readonly timeoutMs?: number | undefined;
}

/** The approval broker of a command, for `createHarness({ approvals })`. */
export function createCliApprovals(options: CliApprovalsOptions): ApprovalBroker {
  if (options.mode === 'allow') {
    return { request: async () => ({ approved: true, by: '--approve allow' }) };
  }
  if (options.mode === 'deny') {
    return { request: async () => ({ approved: false, reason: DENIED_BY_FLAG_REASON }) };
  }
  const prompter = options.prompter;
  if (prompter === undefined) {
    return { request: async () => ({ approved: false, reason: NO_TERMINAL_REASON }) };
  }

  const sourceOf = options.sourceOf;
  const broker = createApprovalBroker({
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    redact: (args) => redactArgs(args, { maxStringLength: PROMPT_STRING_CHARS }),
    scriptExcerpt: (request: ToolCallRequest) => {
      const source = sourceOf?.(request.scriptId);
      return source === undefined ? undefined : describeCallingLines(source, request.tool);
    },
  });
  /** Aborts the prompt of an approval that was settled elsewhere (timeout, cancelled run). */
  const showing = new Map<string, AbortController>();
  let queue: Promise<void> = Promise.resolve();

  const askAbout = async (approval: PendingApproval) => {
    if (broker.get(approval.id)?.status !== 'pending') return;
    const controller = new AbortController();
    showing.set(approval.id, controller);
    let answer: boolean | undefined;
    try {
      answer = await prompter.ask(
        {
          tool: approval.tool,
          args: approval.args,
          sequence: approval.sequence,
          ...(approval.scriptExcerpt === undefined ? {} : { callingLines: approval.scriptExcerpt }),
        },
        controller.signal,
      );
    } finally {
      showing.delete(approval.id);
    }
    if (controller.signal.aborted) return;
    if (answer === true) broker.decide(approval.id, 'approve', 'terminal');
    else
      broker.decide(
        approval.id,
        'deny',
        'terminal',
        answer === false ? DENIED_AT_PROMPT_REASON : 'the prompt was cancelled',
      );
  };

  broker.on('requested', (approval) => {
    // One question at a time: calls made together (Promise.all) are asked about in call order.
    queue = queue
      .then(() => askAbout(approval))
      .catch(() => {
        broker.decide(approval.id, 'deny', 'terminal', 'the prompt failed');
      });
  });
  broker.on('decided', (state) => showing.get(state.approval.id)?.abort());
  return broker;
}

export interface TerminalStreams {
  readonly input: Readable;
  readonly output: Writable;
}

/**
 * The prompter of a real terminal: the question on stderr (stdout stays the command's output),
 * the answer from stdin; y or n answers at once, Enter takes the highlighted choice (No).
 * `pause` and `resume` keep the spinner off the screen while a question is shown.
 */
export function createTerminalPrompter(
  streams: TerminalStreams,
  hooks: { readonly pause?: () => void; readonly resume?: () => void } = {},
): ApprovalPrompter {
  return {
    async ask(question, signal) {
      hooks.pause?.();
      try {
        const { input, output } = streams;
        // Written as plain lines rather than a boxed note: a box is rewrapped to the terminal width,
        // and arguments (JSON, code) read better unwrapped.
        output.write(`│\n◇  tools.${question.tool} needs approval\n${indentLines(formatQuestion(question), '│  ')}\n`);
        const answer = await confirm({
          message: `Allow this call of tools.${question.tool}?`,
          active: 'Yes, run it',
          inactive: 'No, deny it',
          initialValue: false,
          input,
          output,
          signal,
        });
        const decision = isCancel(answer) ? undefined : answer;
        let outcome: string;
        if (decision === true) outcome = 'approved';
        else if (decision === false) outcome = 'denied';
        // Aborted from outside: the approval timed out, or the script ended while it waited.
        else if (signal.aborted) outcome = 'not decided: the question was withdrawn';
        else outcome = 'denied (the prompt was cancelled)';
        output.write(`◇  tools.${question.tool} ${outcome}\n`);
        return decision;
      } finally {
        hooks.resume?.();
      }
    },
  };
}

function indentLines(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`.trimEnd())
    .join('\n');
}

/** The body of the approval note: call number, calling line, arguments. */
export function formatQuestion(question: ApprovalQuestion): string {
  const json = JSON.stringify(question.args, null, 2) ?? 'undefined';
  const jsonLines = json.split('\n');
  const args =
    jsonLines.length > PROMPT_ARGS_LINES
      ? [...jsonLines.slice(0, PROMPT_ARGS_LINES), `… ${jsonLines.length - PROMPT_ARGS_LINES} more lines`]
      : jsonLines;
  const parts = [`call #${question.sequence} of the script`];
  if (question.callingLines !== undefined) parts.push(`called from ${question.callingLines}`);
  parts.push('arguments (secrets redacted):', ...args);
  return parts.join('\n');
}
