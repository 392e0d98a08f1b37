import type { ToolCallRequest } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import {
  type ApprovalPrompter,
  type ApprovalQuestion,
  createCliApprovals,
  DENIED_AT_PROMPT_REASON,
  describeCallingLines,
  findCallingLines,
  formatQuestion,
  NO_TERMINAL_REASON,
} from './approvals.ts';

const SOURCE = [
  'const a = await tools.readFile({ path: "a" });',
  'await tools.writeFile({ path: "b", content: a.content });',
  'const other = tools.writeFileLater; // not a call of writeFile',
  'await tools.mcp.github.search_issues({ q: "x" });',
  'await tools?.writeFile({ path: "c", content: "" });',
].join('\n');

function request(overrides: Partial<ToolCallRequest> = {}): ToolCallRequest {
  return {
    scriptId: 'script-1',
    callId: '2',
    sequence: 2,
    tool: 'writeFile',
    args: { path: 'b', content: 'x', apiKey: 'secret-value' },
    toolRequiresApproval: false,
    ...overrides,
  };
}

/** Answers every question with `answer` and records what it was shown. */
function answering(answer: boolean | undefined): ApprovalPrompter & { asked: ApprovalQuestion[] } {
  const asked: ApprovalQuestion[] = [];
  return {
    asked,
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
  };
}

describe('calling lines', () => {
  it('finds the lines that call a tool, namespaced tools and optional chaining included', () => {
    expect(findCallingLines(SOURCE, 'readFile')).toEqual([
      { line: 1, text: 'const a = await tools.readFile({ path: "a" });' },
    ]);
    expect(findCallingLines(SOURCE, 'writeFile').map((found) => found.line)).toEqual([2, 5]);
    expect(findCallingLines(SOURCE, 'mcp.github.search_issues').map((found) => found.line)).toEqual([4]);
    expect(findCallingLines(SOURCE, 'listDir')).toEqual([]);
  });

  it('describes one line, or the candidates when a tool is called from several', () => {
    expect(describeCallingLines(SOURCE, 'readFile')).toBe('line 1: const a = await tools.readFile({ path: "a" });');
    expect(describeCallingLines(SOURCE, 'writeFile')).toBe(
      'one of\nline 2: await tools.writeFile({ path: "b", content: a.content });\nline 5: await tools?.writeFile({ path: "c", content: "" });',
    );
    expect(describeCallingLines(SOURCE, 'exec')).toBeUndefined();
  });
});

describe('createCliApprovals', () => {
  const signal = new AbortController().signal;

  it('allow approves and deny refuses without asking anyone', async () => {
    expect(await createCliApprovals({ mode: 'allow', prompter: undefined }).request(request(), signal)).toMatchObject({
      approved: true,
    });
    const prompter = answering(true);
    expect(await createCliApprovals({ mode: 'deny', prompter }).request(request(), signal)).toMatchObject({
      approved: false,
    });
    expect(prompter.asked).toEqual([]);
  });

  it('ask without a terminal denies and says how to allow', async () => {
    expect(await createCliApprovals({ mode: 'ask', prompter: undefined }).request(request(), signal)).toEqual({
      approved: false,
      reason: NO_TERMINAL_REASON,
    });
  });

  it('ask on a terminal shows redacted arguments and the calling line, and follows the answer', async () => {
    const yes = answering(true);
    const approvals = createCliApprovals({ mode: 'ask', prompter: yes, sourceOf: () => SOURCE });
    expect(await approvals.request(request(), signal)).toMatchObject({ approved: true, by: 'terminal' });
    expect(yes.asked).toEqual([
      {
        tool: 'writeFile',
        args: { path: 'b', content: 'x', apiKey: '[redacted]' },
        sequence: 2,
        callingLines: expect.stringContaining('line 2: await tools.writeFile'),
      },
    ]);

    const no = answering(false);
    expect(await createCliApprovals({ mode: 'ask', prompter: no }).request(request(), signal)).toMatchObject({
      approved: false,
      reason: DENIED_AT_PROMPT_REASON,
    });
    const cancelled = answering(undefined);
    expect(await createCliApprovals({ mode: 'ask', prompter: cancelled }).request(request(), signal)).toMatchObject({
      approved: false,
      reason: 'the prompt was cancelled',
    });
  });

  it('asks one question at a time, in the order the calls asked', async () => {
    const order: string[] = [];
    let open = 0;
    const prompter: ApprovalPrompter = {
      ask: async (question) => {
        open++;
        expect(open).toBe(1);
        order.push(String((question.args as { path: string }).path));
        await new Promise((resolve) => setTimeout(resolve, 5));
        open--;
        return true;
      },
    };
    const approvals = createCliApprovals({ mode: 'ask', prompter });
    const outcomes = await Promise.all(
      ['first', 'second', 'third'].map((path, index) =>
        approvals.request(request({ callId: String(index + 1), sequence: index + 1, args: { path } }), signal),
      ),
    );
    expect(outcomes.every((outcome) => outcome.approved)).toBe(true);
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('a question nobody answers in time is withdrawn and the call times out', async () => {
    let withdrawn = false;
    const prompter: ApprovalPrompter = {
      ask: (_question, promptSignal) =>
        new Promise((resolve) => {
          promptSignal.addEventListener('abort', () => {
            withdrawn = true;
            resolve(undefined);
          });
        }),
    };
    const outcome = await createCliApprovals({ mode: 'ask', prompter, timeoutMs: 30 }).request(request(), signal);
    expect(outcome).toMatchObject({ approved: false, timedOut: true });
    expect(withdrawn).toBe(true);
  });
});

describe('formatQuestion', () => {
  it('shows the call number, the calling line and the arguments, cut after a screenful', () => {
    const text = formatQuestion({
      tool: 'writeFile',
      sequence: 3,
      callingLines: 'line 7: await tools.writeFile(x)',
      args: { items: Array.from({ length: 40 }, (_, index) => index) },
    });
    expect(text).toMatch(
      /^call #3 of the script\ncalled from line 7: await tools.writeFile\(x\)\narguments \(secrets redacted\):\n\{/,
    );
    expect(text).toMatch(/… \d+ more lines$/);
  });
});
