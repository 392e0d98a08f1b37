/**
 * The harness as one ordinary tool, `run_script({ code })`, independent of any SDK: the input
 * schema, and the run that turns the model's arguments into the text it reads back. The text is
 * what `scriptOutputText` writes for a script block, so a script reads the same whether it came
 * as a block in the assistant's text or as a tool call.
 */
import {
  errorData,
  type Harness,
  type HistoryItem,
  type Limits,
  SCRIPT_TOOL_NAME,
  type ScriptEvent,
  type ScriptLanguage,
  type ScriptResult,
  scriptOutputText,
} from '@script-harness/core';
import { z } from 'zod';
import { type RunScriptDescriptionOptions, runScriptDescription } from './prompt.ts';

/** The name the tool is offered under; the same name script blocks get in provider-shaped history. */
export const RUN_SCRIPT_TOOL_NAME = SCRIPT_TOOL_NAME;

export const RunScriptInputSchema = z.object({
  code: z
    .string()
    .min(1)
    .describe('The TypeScript program: the body of an async function that awaits tool calls and returns the result.'),
});

export type RunScriptInput = z.output<typeof RunScriptInputSchema>;

export interface RunScriptToolOptions extends Pick<RunScriptDescriptionOptions, 'declarations' | 'lookupHint'> {
  /** Tools the scripts may call (a subset of the harness's); also the tools the description declares. */
  readonly tools?: readonly string[];
  /** Limits of every run, over the harness's own; the description states them. */
  readonly limits?: Partial<Limits>;
  /** Fields added to every script's `context`. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Runtime of the runs, by name; default: the harness's. */
  readonly runtime?: string;
  /** Events of every run (console lines, tool calls), e.g. to show progress. */
  readonly onEvent?: (event: ScriptEvent) => void;
  /** A description to use instead of the generated one. */
  readonly description?: string;
}

export interface RunScriptOutcome {
  readonly ok: boolean;
  /** What the model reads: the script's value or its error, as JSON text. */
  readonly text: string;
  /** The whole result, for the host (every tool call, timings); absent when the input was invalid. */
  readonly result?: ScriptResult;
}

export interface RunScriptCallOptions {
  readonly signal?: AbortSignal;
  readonly language?: ScriptLanguage;
}

/** The tool description for `options`: the given one, or the generated one. */
export function describeRunScriptTool(harness: Harness, options: RunScriptToolOptions = {}): string {
  if (options.description !== undefined) return options.description;
  return runScriptDescription(harness, {
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.declarations === undefined ? {} : { declarations: options.declarations }),
    ...(options.lookupHint === undefined ? {} : { lookupHint: options.lookupHint }),
  });
}

/**
 * Runs the program of one `run_script` call. `input` is the call's arguments as the provider gives
 * them: an object, or its JSON text. Never throws for what the model got wrong (bad arguments, a
 * failing script): that comes back as `ok: false` with an error the model can act on.
 */
export async function runScriptCall(
  harness: Harness,
  input: unknown,
  options: RunScriptToolOptions = {},
  call: RunScriptCallOptions = {},
): Promise<RunScriptOutcome> {
  const parsed = RunScriptInputSchema.safeParse(typeof input === 'string' ? parseJson(input) : input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
    const error = errorData(
      'INVALID_REQUEST',
      `invalid arguments for ${RUN_SCRIPT_TOOL_NAME}: ${where}${issue?.message ?? 'expected { code: string }'}`,
    );
    return { ok: false, text: JSON.stringify({ ok: false, error }) };
  }
  const result = await harness.run(parsed.data.code, {
    language: call.language ?? 'ts',
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(call.signal === undefined ? {} : { signal: call.signal }),
  });
  return { ok: result.ok, text: scriptOutputText(outputItemOf(result)), result };
}

/** The history item `executeTurn` makes of a script's result, which `scriptOutputText` reads. */
function outputItemOf(result: ScriptResult): Extract<HistoryItem, { type: 'script_tool_call_output' }> {
  return {
    type: 'script_tool_call_output',
    callId: result.metadata.scriptId,
    ok: result.ok,
    ...(result.ok ? { value: result.value } : { error: result.error, partial: result.partial }),
    calls: result.calls,
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    ...(result.console.length > 0 ? { console: result.console.map(({ level, text }) => ({ level, text })) } : {}),
    metadata: result.metadata,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Left to the schema, which then reports that `code` is missing.
    return text;
  }
}
