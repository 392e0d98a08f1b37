/**
 * An agent loop on OpenAI Chat Completions in tool mode: the harness is one ordinary function
 * tool, `run_script({ code })` (`openAIRunScriptTool`), whose description declares the tools. Each
 * turn is read with `fromChatCompletion` and written back with `toChatMessages`; every run_script
 * call is answered with a `tool` message holding the program's result.
 *
 * Run: `node examples/agents/openai-chat.ts` (answers recorded from the API; no key needed).
 */
import { openAIRunScriptTool } from '@script-harness/agents/openai';
import {
  type ChatCompletion,
  type ChatMessage,
  executeTurn,
  fromChatCompletion,
  type Harness,
  type HistoryItem,
  toChatMessages,
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

export const QUESTION = 'How long is each source file, and how many TODOs does each one have?';

/** A message of the request: the history the core writes, after the system and user messages. */
export type ChatRequestMessage = ChatMessage | { readonly role: 'system' | 'user'; readonly content: string };

/** The body of a `client.chat.completions.create` call, as far as this loop fills it. */
export interface ChatRequest {
  readonly model: string;
  readonly messages: ChatRequestMessage[];
  readonly tools: unknown[];
}

export async function chatLoop(
  harness: Harness,
  call: ModelCall<ChatRequest, ChatCompletion>,
  options: { readonly model?: string; readonly question?: string } = {},
): Promise<LoopReport> {
  const question = options.question ?? QUESTION;
  const runScript = openAIRunScriptTool(harness);
  const messages: ChatRequestMessage[] = [
    { role: 'system', content: 'You help with the weather-digest project in the workspace. Be brief.' },
    { role: 'user', content: question },
  ];
  const scripts: LoopReport['scripts'][number][] = [];
  for (let step = 1; step <= MAX_STEPS; step++) {
    const completion = await call({ model: options.model ?? 'gpt-4.1', messages, tools: [runScript.chatTool] });
    // executeTurn keeps the turn's text and tool calls in order (and runs script blocks, should the model write any).
    const turn = await executeTurn(harness, fromChatCompletion(completion));
    messages.push(...toChatMessages(turn.items));
    const calls = turn.items.filter((item) => item.type === 'tool_call');
    if (calls.length === 0) return { question, answer: answerOf(turn.items), scripts, steps: step };
    for (const toolCall of calls) {
      const content =
        toolCall.name === runScript.name
          ? await runScript.execute(toolCall.arguments)
          : JSON.stringify({
              ok: false,
              error: { code: 'TOOL_NOT_FOUND', message: `there is no tool ${toolCall.name}` },
            });
      messages.push({ role: 'tool', tool_call_id: toolCall.id, content });
      scripts.push(scriptOf(toolCall, content));
    }
  }
  throw new Error(`no answer after ${MAX_STEPS} model calls`);
}

function scriptOf(
  toolCall: Extract<HistoryItem, { type: 'tool_call' }>,
  content: string,
): LoopReport['scripts'][number] {
  const { code } = toolCall.arguments as { code: string };
  const result = JSON.parse(content) as { ok: boolean; value?: unknown; error?: unknown };
  return { code, ok: result.ok, output: result.ok ? result.value : result.error };
}

if (import.meta.main) {
  const harness = await createExampleHarness();
  try {
    const model = await recordedModel<ChatRequest, ChatCompletion>('openai-chat.json');
    printReport('OpenAI Chat Completions, run_script tool (recorded responses)', await chatLoop(harness, model.call));
  } finally {
    await harness.close();
  }
}
