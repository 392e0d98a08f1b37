/**
 * An agent loop on the Anthropic Messages API, streamed, in tool mode: the harness is one tool,
 * `run_script({ code })` (`anthropicRunScriptTool`). The streamed events are folded with
 * `collectAnthropicStream`, read with `fromAnthropicMessage` and written back with
 * `toAnthropicMessages` (thinking blocks go back unchanged, with their signature); every
 * run_script `tool_use` is answered with its `tool_result`.
 *
 * Run: `node examples/agents/anthropic.ts` (events recorded from the API; no key needed).
 */
import { anthropicRunScriptTool } from '@script-harness/agents/anthropic';
import {
  type AnthropicContentBlock,
  type AnthropicMessageParam,
  type AnthropicStreamEvent,
  collectAnthropicStream,
  executeTurn,
  fromAnthropicMessage,
  type Harness,
  toAnthropicMessages,
} from '@script-harness/core';
import {
  answerOf,
  createExampleHarness,
  type LoopReport,
  MAX_STEPS,
  type ModelCall,
  printReport,
  recordedModel,
} from './support.ts';

export const QUESTION = 'What is the project called, and what does src/digest.ts export?';

/** The body of a streamed `client.messages.create` call, as far as this loop fills it. */
export interface MessagesRequest {
  readonly model: string;
  readonly max_tokens: number;
  readonly system: string;
  readonly messages: AnthropicMessageParam[];
  readonly tools: unknown[];
  readonly stream: true;
}

export async function anthropicLoop(
  harness: Harness,
  call: ModelCall<MessagesRequest, AnthropicStreamEvent[]>,
  options: { readonly model?: string; readonly question?: string } = {},
): Promise<LoopReport> {
  const question = options.question ?? QUESTION;
  const runScript = anthropicRunScriptTool(harness);
  const messages: AnthropicMessageParam[] = [{ role: 'user', content: [{ type: 'text', text: question }] }];
  const scripts: LoopReport['scripts'][number][] = [];
  for (let step = 1; step <= MAX_STEPS; step++) {
    const events = await call({
      model: options.model ?? 'claude-sonnet-5',
      max_tokens: 4096,
      system: 'You help with the weather-digest project in the workspace. Be brief.',
      messages,
      tools: [runScript.definition],
      stream: true,
    });
    const turn = await executeTurn(harness, fromAnthropicMessage(collectAnthropicStream(events)));
    messages.push(...toAnthropicMessages(turn.items));
    const uses = turn.items.filter((item) => item.type === 'tool_call');
    if (uses.length === 0) return { question, answer: answerOf(turn.items), scripts, steps: step };
    const results: AnthropicContentBlock[] = [];
    for (const use of uses) {
      if (use.name !== runScript.name) {
        results.push({
          type: 'tool_result',
          tool_use_id: use.id,
          content: `there is no tool ${use.name}`,
          is_error: true,
        });
        continue;
      }
      const result = await runScript.toolResult(use);
      results.push(result);
      const output = JSON.parse(result.content) as { ok: boolean; value?: unknown; error?: unknown };
      scripts.push({
        code: (use.arguments as { code: string }).code,
        ok: output.ok,
        output: output.ok ? output.value : output.error,
      });
    }
    // Tool results go in one user message, after any the turn's own script blocks produced.
    const last = messages[messages.length - 1];
    if (last?.role === 'user') messages[messages.length - 1] = { role: 'user', content: [...last.content, ...results] };
    else messages.push({ role: 'user', content: results });
  }
  throw new Error(`no answer after ${MAX_STEPS} model calls`);
}

if (import.meta.main) {
  const harness = await createExampleHarness();
  try {
    const model = await recordedModel<MessagesRequest, AnthropicStreamEvent[]>('anthropic.json');
    printReport(
      'Anthropic Messages, streamed, run_script tool (recorded events)',
      await anthropicLoop(harness, model.call),
    );
  } finally {
    await harness.close();
  }
}
