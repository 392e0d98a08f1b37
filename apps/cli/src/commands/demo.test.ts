import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../io.ts';
import { DEMO_DIRECTORY, demoCommand, runDemo } from './demo.ts';

const created: string[] = [];

afterEach(async () => {
  await Promise.all(created.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

/** A demo directory of its own: a transcript and a one-file workspace. */
async function demoDirectory(transcript: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'script-harness-cli-demo-'));
  created.push(directory);
  await mkdir(join(directory, 'workspace'));
  await writeFile(join(directory, 'workspace', 'notes.txt'), 'one\ntwo\n');
  await writeFile(join(directory, 'transcript.md'), transcript);
  return directory;
}

function capture(): { io: CliIo; stdout: () => string } {
  let stdout = '';
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      readStdin: async () => new Uint8Array(),
      cwd: process.cwd(),
    },
    stdout: () => stdout,
  };
}

describe('runDemo', () => {
  it('runs the committed transcript against a copy of the committed workspace', async () => {
    const outcome = await runDemo(DEMO_DIRECTORY);
    expect(outcome.ok).toBe(true);
    expect(outcome.execution.results).toHaveLength(1);
    expect(outcome.execution.results[0]?.value).toMatchObject({ name: 'weather-digest', summaryFile: 'SUMMARY.md' });
    expect(outcome.written.map((file) => file.path)).toEqual(['SUMMARY.md']);
    expect(outcome.written[0]?.content).toContain('## Open TODOs');
  });

  it('collects the files the script wrote and removes the temporary workspace', async () => {
    const temporaryParent = await mkdtemp(join(tmpdir(), 'script-harness-cli-demo-parent-'));
    created.push(temporaryParent);
    const directory = await demoDirectory(
      [
        'Counting the notes.',
        '<tool-calls>',
        "const notes = await tools.readFile({ path: 'notes.txt' });",
        "await tools.writeFile({ path: 'out/count.txt', content: String(notes.totalLines) });",
        'return notes.totalLines;',
        '</tool-calls>',
      ].join('\n'),
    );
    const outcome = await runDemo(directory, { temporaryParent });
    expect(outcome.ok).toBe(true);
    expect(outcome.written).toEqual([{ path: 'out/count.txt', content: '2' }]);
    expect(await readdir(temporaryParent)).toEqual([]);
  });

  it('fails (exit 1) and shows the error in the history when the script fails', async () => {
    const directory = await demoDirectory(
      [
        '<thinking>Reading a file that is not there.</thinking>',
        '<tool-calls>',
        "return await tools.readFile({ path: 'missing.txt' });",
        '</tool-calls>',
      ].join('\n'),
    );
    const { io, stdout } = capture();
    const code = await demoCommand({ demoDirectory: directory }, io);
    expect(code).toBe(1);
    expect(stdout()).toContain('── script output (failed');
    expect(stdout()).toMatch(/TOOL_ERROR at line 1, column \d+: /);
    expect(stdout()).toContain('1 script failed with 1 tool call; the temporary workspace was removed.');
  });

  it('fails when the transcript holds no script block at all', async () => {
    const directory = await demoDirectory('Nothing to run here.\n');
    const outcome = await runDemo(directory);
    expect(outcome.ok).toBe(false);
    expect(outcome.execution.items).toEqual([{ type: 'text', text: 'Nothing to run here.\n' }]);
  });
});
