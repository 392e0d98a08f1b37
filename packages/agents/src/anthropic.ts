/**
 * The harness as one Anthropic tool, built with the SDK's zod helper (`betaZodTool`): a tool
 * definition for `messages.create`, a runnable tool for `client.beta.messages.toolRunner`, and the
 * `tool_result` that answers a `tool_use` block. Needs `@anthropic-ai/sdk`, an optional peer
 * dependency of this package.
 */
import { betaZodTool } from '@anthropic-ai/sdk/helpers/beta/zod';
import type { BetaRunnableTool } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool';
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError';
import type { Tool, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { Harness } from '@script-harness/core';
import { z } from 'zod';
import {
  describeRunScriptTool,
  RUN_SCRIPT_TOOL_NAME,
  type RunScriptCallOptions,
  type RunScriptInput,
  RunScriptInputSchema,
  type RunScriptToolOptions,
  runScriptCall,
} from './run-script.ts';

/** A call of the tool: as the API's `tool_use` block (`input`), or as core's `tool_call` history item (`arguments`). */
export type AnthropicToolUse =
  | { readonly id: string; readonly input: unknown }
  | { readonly id: string; readonly arguments: unknown };

export interface AnthropicRunScriptTool {
  readonly name: typeof RUN_SCRIPT_TOOL_NAME;
  /** For `messages.create({ tools })`. */
  readonly definition: Tool;
  /** For `client.beta.messages.toolRunner({ tools })`, which runs it by itself. */
  readonly runnable: BetaRunnableTool<RunScriptInput>;
  /** Runs one call's `input`; resolves with the text for its `tool_result` (`"ok":false` when the script failed). */
  execute(input: unknown, options?: RunScriptCallOptions): Promise<string>;
  /**
   * The `tool_result` block that answers `toolUse`: a `tool_use` block of a message, or the
   * `tool_call` history item `executeTurn` made of it. A failed script is marked `is_error`.
   */
  toolResult(
    toolUse: AnthropicToolUse,
    options?: RunScriptCallOptions,
  ): Promise<ToolResultBlockParam & { readonly content: string }>;
}

export function anthropicRunScriptTool(harness: Harness, options: RunScriptToolOptions = {}): AnthropicRunScriptTool {
  const description = describeRunScriptTool(harness, options);
  const runnable = betaZodTool({
    name: RUN_SCRIPT_TOOL_NAME,
    description,
    inputSchema: RunScriptInputSchema,
    run: async (input, context) => {
      const outcome = await runScriptCall(harness, input, options, context?.signal ? { signal: context.signal } : {});
      // The runner sends a thrown ToolError's content with `is_error: true`.
      if (!outcome.ok) throw new ToolError(outcome.text);
      return outcome.text;
    },
  });
  // The same JSON Schema betaZodTool sends for the runnable tool.
  const inputSchema = z.toJSONSchema(RunScriptInputSchema, { reused: 'ref' }) as Tool.InputSchema;
  const definition: Tool = { name: RUN_SCRIPT_TOOL_NAME, description, input_schema: inputSchema };
  return {
    name: RUN_SCRIPT_TOOL_NAME,
    definition,
    runnable,
    execute: async (input, call) => (await runScriptCall(harness, input, options, call)).text,
    toolResult: async (toolUse, call) => {
      const input = 'input' in toolUse ? toolUse.input : toolUse.arguments;
      const outcome = await runScriptCall(harness, input, options, call);
      return {
        type: 'tool_result',
        tool_use_id: toolUse.id,
        content: outcome.text,
        ...(outcome.ok ? {} : { is_error: true }),
      };
    },
  };
}
