/**
 * The harness as one OpenAI function tool, for Chat Completions and the Responses API, built with
 * the SDK's own zod helpers (strict JSON schema, parsed arguments). Needs the `openai` package, an
 * optional peer dependency of this package.
 */
import type { Harness } from '@script-harness/core';
import { zodFunction, zodResponsesFunction } from 'openai/helpers/zod';
import type { AutoParseableTool } from 'openai/lib/parser';
import type { AutoParseableResponseTool } from 'openai/lib/ResponsesParser';
import {
  describeRunScriptTool,
  RUN_SCRIPT_TOOL_NAME,
  type RunScriptCallOptions,
  type RunScriptInput,
  RunScriptInputSchema,
  type RunScriptToolOptions,
  runScriptCall,
} from './run-script.ts';

type RunScriptFunction = {
  arguments: RunScriptInput;
  name: string;
  function: (args: RunScriptInput) => Promise<string>;
};

export interface OpenAIRunScriptTool {
  readonly name: typeof RUN_SCRIPT_TOOL_NAME;
  /** For `chat.completions.create`, `.parse` and `.runTools` (which runs it by itself). */
  readonly chatTool: AutoParseableTool<RunScriptFunction, true>;
  /** For `responses.create` and `.parse`. */
  readonly responsesTool: AutoParseableResponseTool<RunScriptFunction, true>;
  /**
   * Runs one call: `input` is the call's `arguments` (JSON text, as the API sends them, or
   * parsed). Resolves with the text for the tool result (`role: 'tool'` content, or the
   * `function_call_output` output); a failed script is such a text too, with `"ok":false`.
   */
  execute(input: unknown, options?: RunScriptCallOptions): Promise<string>;
}

export function openAIRunScriptTool(harness: Harness, options: RunScriptToolOptions = {}): OpenAIRunScriptTool {
  const description = describeRunScriptTool(harness, options);
  const execute = async (input: unknown, call?: RunScriptCallOptions): Promise<string> =>
    (await runScriptCall(harness, input, options, call)).text;
  const run = (args: RunScriptInput) => execute(args);
  return {
    name: RUN_SCRIPT_TOOL_NAME,
    chatTool: zodFunction({ name: RUN_SCRIPT_TOOL_NAME, parameters: RunScriptInputSchema, description, function: run }),
    responsesTool: zodResponsesFunction({
      name: RUN_SCRIPT_TOOL_NAME,
      parameters: RunScriptInputSchema,
      description,
      function: run,
    }),
    execute,
  };
}
