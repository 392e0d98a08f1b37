/**
 * `harness exec-message` as a child process: plain text, OpenAI Responses (the recorded fixture),
 * Anthropic messages (plain and streamed), the JSON report, modes and usage errors.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  harness,
  harnessInTerminal,
  parseSingleJson,
  REPO_ROOT,
  type TemporaryDirectory,
  temporaryDirectory,
} from './test-support.ts';

const RECORDED = join(REPO_ROOT, 'packages', 'core', 'src', 'testing', 'recorded');

let workspace: TemporaryDirectory;
let inputs: TemporaryDirectory;

beforeAll(async () => {
  workspace = await temporaryDirectory('message-workspace');
  inputs = await temporaryDirectory('message-inputs');
  await writeFile(join(workspace.path, 'package.json'), '{\n  "name": "tiny-app",\n  "version": "1.2.3"\n}\n');
  await writeFile(join(workspace.path, 'notes.txt'), 'one\ntwo\nthree\n');
});

afterAll(async () => {
  await workspace.remove();
  await inputs.remove();
});

async function input(name: string, content: string): Promise<string> {
  const path = join(inputs.path, name);
  await writeFile(path, content);
  return path;
}

interface Report {
  ok: boolean;
  mode: string;
  format: string;
  blocks: number;
  items: { type: string; text?: string; ok?: boolean; value?: unknown; error?: { code: string }; name?: string }[];
  results: { ok: boolean; calls: { tool: string }[]; metadata: { scriptId: string } }[];
}

const PLAIN_MESSAGE = [
  '<thinking>Two reads, then the answer.</thinking>',
  'Let me look at the project.',
  '<tool-calls>',
  'const manifest = JSON.parse((await tools.readFile({ path: "package.json" })).content) as { name: string };',
  'const notes = await tools.readFile({ path: "notes.txt" });',
  'console.log("read " + notes.totalLines + " lines");',
  'return { name: manifest.name, lines: notes.totalLines };',
  '</tool-calls>',
  'Then a second block that uses the first:',
  '```ts tool-calls',
  'const [first] = context.previousResults as { value: { lines: number } }[];',
  'return first.value.lines * 2;',
  '```',
  'Done.',
].join('\n');

describe('harness exec-message', () => {
  it('runs every block of a plain-text message and prints the history in message order', async () => {
    const file = await input('plain.md', PLAIN_MESSAGE);
    const run = await harness(['exec-message', file, '--workspace', workspace.path]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const order = [
      '── reasoning',
      'Two reads, then the answer.',
      '── text',
      'Let me look at the project.',
      '── script (ts, call_',
      '1 | const manifest',
      '── tool calls',
      'Tool calls (2)',
      '── script output (ok',
      '[script] read 3 lines',
      '"name": "tiny-app"',
      '── text',
      'Then a second block',
      '── script (ts, call_',
      '── script output (ok',
      '6',
      '── text',
      'Done.',
      '── summary',
      'message format text; 2 script blocks, 2 run, all succeeded; 2 tool calls.',
    ];
    let from = 0;
    for (const fragment of order) {
      const at = run.stdout.indexOf(fragment, from);
      expect(at, `"${fragment}" after offset ${from}`).toBeGreaterThanOrEqual(from);
      from = at + fragment.length;
    }
  });

  it('--json prints one object with the history items (text and reasoning included) and the results', async () => {
    const file = await input('plain-json.md', PLAIN_MESSAGE);
    const run = await harness(['exec-message', file, '--workspace', workspace.path, '--json']);
    expect(run.code).toBe(0);
    const report = parseSingleJson(run.stdout) as unknown as Report;
    expect(report).toMatchObject({ ok: true, mode: 'enabled', format: 'text', blocks: 2 });
    expect(report.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
    ]);
    expect(report.items[0]?.text).toBe('Two reads, then the answer.');
    expect(report.items[3]).toMatchObject({ ok: true, value: { name: 'tiny-app', lines: 3 } });
    expect(report.items[6]).toMatchObject({ ok: true, value: 6 });
    expect(report.results).toHaveLength(2);
    expect(report.results[0]?.calls.map((call) => call.tool)).toEqual(['readFile', 'readFile']);
  });

  it('I1: an OpenAI Responses response (recorded): reasoning, text, the block and its output, in order', async () => {
    const run = await harness(['exec-message', join(RECORDED, 'openai-responses.json'), '--json']);
    // The recorded block calls tools.add, which the CLI does not offer: the block fails, as it would.
    expect(run.code).toBe(1);
    const report = parseSingleJson(run.stdout) as unknown as Report;
    expect(report).toMatchObject({ ok: false, format: 'openai-responses', blocks: 1 });
    expect(report.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
    ]);
    expect(report.items[0]?.text).toBe('Two independent lookups: run them together in one script.');
    expect(report.items[3]).toMatchObject({ ok: false, error: { code: 'TOOL_NOT_FOUND' } });
    expect(report.items[4]?.text).toContain('The totals are above.');

    const readable = await harness(['exec-message', join(RECORDED, 'openai-responses.json')]);
    expect(readable.code).toBe(1);
    expect(readable.stdout).toContain('TOOL_NOT_FOUND at line 1');
    expect(readable.stdout).toContain(
      'message format openai-responses; 1 script block, 1 run, 1 failed; 2 tool calls.',
    );
  });

  it('I3: an Anthropic message: thinking, text, the block with the workspace tools; tool_use is listed, not run', async () => {
    const message = {
      id: 'msg_cli_test',
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Count the lines of the notes.', signature: 'c2lnbmF0dXJl' },
        {
          type: 'text',
          text: 'Counting.\n<tool-calls>\nconst notes = await tools.readFile({ path: "notes.txt" });\nreturn notes.totalLines;\n</tool-calls>\n',
        },
        { type: 'tool_use', id: 'toolu_cli', name: 'calendar_lookup', input: { day: '2026-11-24' } },
      ],
    };
    const file = await input('anthropic.json', JSON.stringify(message));
    const run = await harness(['exec-message', file, '--workspace', workspace.path, '--json']);
    expect(run.code).toBe(0);
    const report = parseSingleJson(run.stdout) as unknown as Report;
    expect(report.format).toBe('anthropic');
    expect(report.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'tool_call',
    ]);
    expect(report.items[3]).toMatchObject({ ok: true, value: 3 });
    expect(report.items[4]).toMatchObject({ name: 'calendar_lookup' });

    const readable = await harness(['exec-message', file, '--workspace', workspace.path]);
    expect(readable.stdout).toContain('── tool call (calendar_lookup, toolu_cli)');
    expect(readable.stdout).toContain('not run here: structured tool calls are left to the agent loop');
  });

  it('I4: a streamed Anthropic message (recorded events) is folded and executed', async () => {
    const run = await harness(['exec-message', join(RECORDED, 'anthropic-stream.json'), '--json']);
    const report = parseSingleJson(run.stdout) as unknown as Report;
    expect(report.format).toBe('anthropic-stream');
    expect(report.items.map((item) => item.type)).toEqual([
      'reasoning',
      'text',
      'script_tool_call',
      'script_tool_call_output',
      'text',
    ]);
    expect(report.items[0]?.text).toBe('The user wants a sum; one script is enough.');
  });

  it('reads the message from stdin; --mode dry-run validates every block and runs none', async () => {
    const message = 'Check this:\n<tool-calls>\nconst x = require("fs");\nreturn x;\n</tool-calls>\n';
    const run = await harness(['exec-message', '-', '--mode', 'dry-run', '--json'], { stdin: message });
    expect(run.code).toBe(1);
    const report = parseSingleJson(run.stdout) as unknown as Report & {
      items: { report?: { findings: { code: string; line: number }[] } }[];
    };
    expect(report.mode).toBe('dry-run');
    expect(report.results).toEqual([]);
    expect(report.items[2]?.report?.findings).toMatchObject([{ code: 'BANNED_CONSTRUCT', line: 1 }]);
  });

  it('--on-error continue runs the blocks after a failed one; stop (the default) cancels them', async () => {
    const message =
      '<tool-calls>\nthrow new Error("first fails");\n</tool-calls>\n<tool-calls>\nreturn "second";\n</tool-calls>\n';
    const stopped = parseSingleJson(
      (await harness(['exec-message', '-', '--json'], { stdin: message })).stdout,
    ) as unknown as Report;
    expect(
      stopped.items.filter((item) => item.type === 'script_tool_call_output').map((item) => item.error?.code),
    ).toEqual(['GUEST_ERROR', 'CANCELLED']);
    const continued = parseSingleJson(
      (await harness(['exec-message', '-', '--json', '--on-error', 'continue'], { stdin: message })).stdout,
    ) as unknown as Report;
    expect(continued.items.filter((item) => item.type === 'script_tool_call_output').map((item) => item.ok)).toEqual([
      false,
      true,
    ]);
  });

  it('a message without script blocks prints its text and exits 0', async () => {
    const run = await harness(['exec-message', '-'], { stdin: 'Just an answer, no code.' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Just an answer, no code.');
    expect(run.stdout).toContain('no script blocks: nothing was run.');
  });

  it('usage errors: a missing file, JSON of an unknown shape, a format that does not match', async () => {
    const missing = await harness(['exec-message', 'no-such-message.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('harness: cannot read message "no-such-message.json": no such file or directory\n');

    const unknown = await harness(['exec-message', '-'], { stdin: '{"hello": "world"}' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^harness: the message is JSON of a shape this command does not know; pass --format/,
    );

    const mismatch = await harness(['exec-message', '-', '--format', 'openai-responses'], { stdin: 'not json' });
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/^harness: the message is not valid JSON for --format openai-responses: /);
  });

  it('--format text runs a JSON-looking message as plain text', async () => {
    const recorded = await readFile(join(RECORDED, 'openai-responses.json'), 'utf8');
    const run = await harness(['exec-message', '-', '--format', 'text', '--json'], { stdin: recorded });
    const report = parseSingleJson(run.stdout) as unknown as Report;
    expect(report.format).toBe('text');
    expect(report.items[0]?.type).toBe('text');
  });
});

describe('harness exec-message on a terminal', () => {
  it('F11: an approval question shows the calling line of the block that asks; "y" lets it write', async () => {
    const message = [
      'First a read.',
      '<tool-calls>',
      'return (await tools.readFile({ path: "notes.txt" })).totalLines;',
      '</tool-calls>',
      'Then a write.',
      '<tool-calls>',
      'const lines = (context.previousResults as { value: number }[])[0]?.value;',
      'await tools.writeFile({ path: "count.txt", content: String(lines) });',
      'return "saved";',
      '</tool-calls>',
    ].join('\n');
    const file = await input('approve.md', message);
    const run = await harnessInTerminal(
      ['exec-message', file, '--workspace', workspace.path],
      [{ after: 'Allow this call of tools.writeFile?', type: 'y' }],
    );
    expect(run.code).toBe(0);
    expect(run.screen).toContain('called from line 2: await tools.writeFile({ path: "count.txt"');
    expect(run.screen).toContain('2 script blocks, 2 run, all succeeded; 2 tool calls.');
    expect(await readFile(join(workspace.path, 'count.txt'), 'utf8')).toBe('3');
  });
});
