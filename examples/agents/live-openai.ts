/**
 * The loop of openai-responses.ts against the real OpenAI Responses API. Runs only when
 * OPENAI_API_KEY is set (OPENAI_MODEL picks the model, default gpt-5.1); without a key it says so
 * and exits with 0, so it is safe to run anywhere.
 *
 * Run: `OPENAI_API_KEY=... node examples/agents/live-openai.ts ["your question"]`
 */
import type { OpenAIResponse } from '@script-harness/core';
import OpenAI from 'openai';
import type { ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import { type ResponsesRequest, responsesLoop } from './openai-responses.ts';
import { createExampleHarness, printReport } from './support.ts';

const apiKey = process.env.OPENAI_API_KEY;
if (apiKey === undefined || apiKey === '') {
  console.log('live-openai: OPENAI_API_KEY is not set; skipping the live run (the recorded examples need no key).');
} else {
  const client = new OpenAI({ apiKey });
  const harness = await createExampleHarness();
  try {
    const report = await responsesLoop(
      harness,
      async (request: ResponsesRequest) =>
        // The history items are the API's own shapes; core types only the fields it reads and writes.
        (await client.responses.create(request as ResponseCreateParamsNonStreaming)) as unknown as OpenAIResponse,
      {
        model: process.env.OPENAI_MODEL ?? 'gpt-5.1',
        ...(process.argv[2] === undefined ? {} : { question: process.argv[2] }),
      },
    );
    printReport('OpenAI Responses API, script blocks (live)', report);
  } finally {
    await harness.close();
  }
}
