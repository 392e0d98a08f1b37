/**
 * An agent loop on the OpenAI Responses API in block mode: the system prompt explains script
 * blocks and declares the tools; each assistant turn is read with `fromOpenAIResponse`, its
 * blocks run with `executeTurn`, and the history goes back with `toOpenAIResponseInput` (a script
 * becomes a `run_script` function call and its output), until a turn has no block.
 *
 * Run: `node examples/agents/openai-responses.ts` (answers recorded from the API; no key needed).
 * live-openai.ts runs this same loop against the real API.
 */
import { systemPrompt } from '@script-harness/agents';
import {
  executeTurn,
  fromOpenAIResponse,
  type Harness,
  type OpenAIResponse,
  type OpenAIResponseInputItem,
  toOpenAIResponseInput,
} from '@script-harness/core';
import {
  answerOf,
  createExampleHarness,
  type LoopReport,
  MAX_STEPS,
  type ModelCall,
  printReport,
  recordedModel,
  scriptsOf,
} from './support.ts';

export const QUESTION = 'Which TODOs are left in the project, and which version is it at?';

/** The body of a `client.responses.create` call, as far as this loop fills it. */
export interface ResponsesRequest {
  readonly model: string;
  readonly instructions: string;
  readonly input: OpenAIResponseInputItem[];
}

export async function responsesLoop(
  harness: Harness,
  call: ModelCall<ResponsesRequest, OpenAIResponse>,
  options: { readonly model?: string; readonly question?: string } = {},
): Promise<LoopReport> {
  const question = options.question ?? QUESTION;
  const instructions = systemPrompt(harness, {
    instructions: 'You help with the weather-digest project in the workspace. Answer in one or two sentences.',
  });
  const input: OpenAIResponseInputItem[] = [{ type: 'message', role: 'user', content: question }];
  const scripts: LoopReport['scripts'][number][] = [];
  for (let step = 1; step <= MAX_STEPS; step++) {
    const response = await call({ model: options.model ?? 'gpt-5.1', instructions, input });
    const turn = await executeTurn(harness, fromOpenAIResponse(response));
    input.push(...toOpenAIResponseInput(turn.items));
    scripts.push(...scriptsOf(turn.items));
    // A turn without a script block is the answer.
    if (turn.blocks === 0) return { question, answer: answerOf(turn.items), scripts, steps: step };
  }
  throw new Error(`no answer after ${MAX_STEPS} model calls`);
}

if (import.meta.main) {
  const harness = await createExampleHarness();
  try {
    const model = await recordedModel<ResponsesRequest, OpenAIResponse>('openai-responses.json');
    printReport('OpenAI Responses API, script blocks (recorded responses)', await responsesLoop(harness, model.call));
  } finally {
    await harness.close();
  }
}
