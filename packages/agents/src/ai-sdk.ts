/**
 * The harness as one Vercel AI SDK tool: `tools: { run_script: runScriptTool(harness) }` lets a
 * `generateText`/`streamText` loop (or an Agent) run the programs the model writes. Needs the `ai`
 * package, an optional peer dependency of this package.
 */
import type { Harness } from '@script-harness/core';
import { type Tool, tool } from 'ai';
import {
  describeRunScriptTool,
  type RunScriptInput,
  RunScriptInputSchema,
  type RunScriptToolOptions,
  runScriptCall,
} from './run-script.ts';

/** What the model gets back from `run_script`: the JSON of `scriptOutputText`, as an object. */
export interface RunScriptToolOutput {
  readonly ok: boolean;
  /** The value the program returned, when `ok`. */
  readonly value?: unknown;
  readonly error?: { readonly code: string; readonly message: string; readonly [key: string]: unknown };
  /** On failure: the results of the tool calls that completed before it. */
  readonly partialResults?: readonly { readonly tool: string; readonly value?: unknown }[];
  readonly warnings?: readonly { readonly code: string; readonly message: string }[];
  /** The program's console lines. */
  readonly console?: readonly string[];
}

/**
 * An AI SDK tool that runs the program in `code` on the harness. A failing program is a normal
 * result (`ok: false` with the error), so the model sees what went wrong and can try again.
 */
export function runScriptTool(
  harness: Harness,
  options: RunScriptToolOptions = {},
): Tool<RunScriptInput, RunScriptToolOutput> {
  return tool({
    description: describeRunScriptTool(harness, options),
    inputSchema: RunScriptInputSchema,
    execute: async (input, { abortSignal }) => {
      const outcome = await runScriptCall(
        harness,
        input,
        options,
        abortSignal === undefined ? {} : { signal: abortSignal },
      );
      return JSON.parse(outcome.text) as RunScriptToolOutput;
    },
  });
}
