/**
 * What the agent-loop examples share: a harness over the demo project (examples/demo/workspace),
 * and a stand-in for a provider's API that answers with responses recorded from that API, so the
 * loops run without a network or an API key. Everything else in the examples is the real code.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createHarness, type Harness, type HistoryItem } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { createFileTools, createSearchTools } from '@script-harness/tools';

export const DEMO_WORKSPACE = fileURLToPath(new URL('../demo/workspace/', import.meta.url));

/** The most model calls one example loop makes before it gives up. */
export const MAX_STEPS = 6;

/**
 * A harness whose scripts can read and search the demo project: readFile, listDir, fileSearch
 * and grep. writeFile is left out, so running an example never changes the project.
 */
export async function createExampleHarness(): Promise<Harness> {
  const tools = [...createFileTools({ root: DEMO_WORKSPACE }), ...createSearchTools({ root: DEMO_WORKSPACE })];
  return createHarness({
    runtime: await createQuickJSRuntime({ mode: 'inline' }),
    tools: tools.filter((tool) => tool.name !== 'writeFile'),
    limits: { timeoutMs: 10_000 },
  });
}

/** A provider API call: the request the loop would send, and the response it gets. */
export type ModelCall<Request, Response> = (request: Request) => Promise<Response>;

export interface RecordedModel<Request, Response> {
  readonly call: ModelCall<Request, Response>;
  /** The requests the loop made, in order, as the provider would have received them. */
  readonly requests: Request[];
}

/** Answers each call with the next response in `recorded/<file>`. */
export async function recordedModel<Request, Response>(file: string): Promise<RecordedModel<Request, Response>> {
  const responses = JSON.parse(await readFile(new URL(`./recorded/${file}`, import.meta.url), 'utf8')) as Response[];
  const requests: Request[] = [];
  const call = async (request: Request): Promise<Response> => {
    // A deep copy: the loop goes on changing its history after the call.
    requests.push(structuredClone(request));
    const response = responses[requests.length - 1];
    if (response === undefined) throw new Error(`${file} has no response recorded for call ${requests.length}`);
    return response;
  };
  return { call, requests };
}

/** What one run of an example loop did, for printing and for the tests. */
export interface LoopReport {
  readonly question: string;
  /** The model's last answer. */
  readonly answer: string;
  /** Each program the model wrote, with what it returned (or its error), in order. */
  readonly scripts: readonly { readonly code: string; readonly ok: boolean; readonly output: unknown }[];
  /** How many times the model was called. */
  readonly steps: number;
}

/** The programs of a turn's history items with their outcomes, for a `LoopReport`. */
export function scriptsOf(items: readonly HistoryItem[]): LoopReport['scripts'] {
  const scripts: { code: string; ok: boolean; output: unknown }[] = [];
  for (const item of items) {
    if (item.type !== 'script_tool_call') continue;
    const output = items.find(
      (candidate): candidate is Extract<HistoryItem, { type: 'script_tool_call_output' }> =>
        candidate.type === 'script_tool_call_output' && candidate.callId === item.callId,
    );
    scripts.push({ code: item.source, ok: output?.ok === true, output: output?.ok ? output.value : output?.error });
  }
  return scripts;
}

/** The text of a turn's history items: what the model said to the user. */
export function answerOf(items: readonly HistoryItem[]): string {
  return items
    .flatMap((item) => (item.type === 'text' ? [item.text.trim()] : []))
    .join('\n')
    .trim();
}

/** Prints a loop's report the way a person reads a transcript. */
export function printReport(title: string, report: LoopReport): void {
  const lines = [`# ${title}`, '', `user: ${report.question}`, ''];
  for (const script of report.scripts) {
    lines.push(
      'program:',
      ...script.code
        .trim()
        .split('\n')
        .map((line) => `  ${line}`),
    );
    lines.push(`${script.ok ? 'returned' : 'failed'}: ${JSON.stringify(script.output)}`, '');
  }
  lines.push(`assistant: ${report.answer}`, `(${report.steps} model calls)`);
  console.log(lines.join('\n'));
}
