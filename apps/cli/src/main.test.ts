import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './io.ts';
import { CLI_VERSION, EXIT_OK, EXIT_SCRIPT_FAILED, EXIT_USAGE, main } from './main.ts';

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'script-harness-cli-main-'));
  await writeFile(join(directory, 'answer.ts'), 'const answer: number = 6 * 7;\nreturn answer;\n');
  await writeFile(join(directory, 'notes.txt'), 'first\nsecond\n');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Runs `main` in this process with captured output, the way bin.ts runs it with the real one. */
async function harness(args: readonly string[], stdin = ''): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: async () => Buffer.from(stdin, 'utf8'),
    cwd: directory,
  };
  const code = await main(['node', 'harness', ...args], io);
  return { code, stdout, stderr };
}

describe('main', () => {
  it('prints the version of the package', async () => {
    const { code, stdout } = await harness(['--version']);
    expect(code).toBe(EXIT_OK);
    expect(stdout.trim()).toBe(CLI_VERSION);
    expect(CLI_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('prints help for the program and for each command', async () => {
    const program = await harness(['--help']);
    expect(program.code).toBe(EXIT_OK);
    expect(program.stdout).toContain('Usage: harness [options] [command]');
    expect(program.stdout).toContain('Exit codes:');
    const run = await harness(['run', '--help']);
    expect(run.code).toBe(EXIT_OK);
    for (const flag of ['--json', '--workspace <dir>', '--language <ts|js>', '--timeout-ms <ms>', '--memory-mb <mb>']) {
      expect(run.stdout).toContain(flag);
    }
    const demo = await harness(['help', 'demo']);
    expect(demo.code).toBe(EXIT_OK);
    expect(demo.stdout).toContain('examples/demo/transcript.md');
  });

  it('shows the help on stderr and exits 2 when no command is given', async () => {
    const { code, stdout, stderr } = await harness([]);
    expect(code).toBe(EXIT_USAGE);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: harness');
  });

  it('runs a script file relative to the working directory', async () => {
    const { code, stdout, stderr } = await harness(['run', 'answer.ts', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, value: 42, calls: [] });
  });

  it('reads the script from stdin for "-" and gives it the workspace of the working directory', async () => {
    const { code, stdout } = await harness(
      ['run', '-', '--json'],
      "return (await tools.readFile({ path: 'notes.txt' })).totalLines",
    );
    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(stdout).value).toBe(2);
  });

  it('exits 1 with a readable paragraph when the script fails', async () => {
    const { code, stdout } = await harness(['run', '-'], "throw new Error('no luck')");
    expect(code).toBe(EXIT_SCRIPT_FAILED);
    expect(stdout).toContain('Result: failed');
    expect(stdout).toMatch(/GUEST_ERROR at line 1, column \d+: Error: no luck\. Remedy: /);
  });

  it.each([
    [['run', 'missing.ts'], 'harness: cannot read script "missing.ts": no such file or directory'],
    [['run', '.'], 'harness: cannot read script ".": it is a directory, not a file'],
    [
      ['run', 'answer.ts', '--workspace', 'nowhere'],
      'harness: cannot use workspace "nowhere": no such file or directory',
    ],
    [
      ['run', 'answer.ts', '--workspace', 'notes.txt'],
      'harness: cannot use workspace "notes.txt": it is not a directory',
    ],
    [
      ['run', 'answer.ts', '--timeout-ms', 'abc'],
      "harness: option '--timeout-ms <ms>' argument 'abc' is invalid. Expected a whole number of milliseconds greater than 0, such as 5000.",
    ],
    [
      ['run', 'answer.ts', '--memory-mb', '5000'],
      'harness: invalid limit: --memory-mb: Too big: expected number to be <=4096',
    ],
    [
      ['run', 'answer.ts', '--language', 'py'],
      "harness: option '--language <ts|js>' argument 'py' is invalid. Expected ts or js.",
    ],
    [['run', 'answer.ts', '--jsn'], "harness: unknown option '--jsn' (Did you mean --json?)"],
    [['run'], "harness: missing required argument 'file'"],
    [['rnu'], "harness: unknown command 'rnu' (Did you mean run?)"],
  ])('reports the usage error of %j as one line on stderr and exits 2', async (args, message) => {
    const { code, stdout, stderr } = await harness(args);
    expect(code).toBe(EXIT_USAGE);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${message}\n`);
  });
});
