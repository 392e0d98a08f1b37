import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  type AnyTool,
  createHarness,
  HarnessError,
  type ToolCallRequest,
  type ToolExecuteContext,
} from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExecTool, type ExecResult } from './exec.ts';
import { createPatchTool } from './patch.ts';
import { createSearchTools } from './search.ts';
import { type TemporaryWorkspace, temporaryWorkspace, toolContext } from './testing/tool-test-support.ts';

let workspace: TemporaryWorkspace;
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  workspace = await temporaryWorkspace('exec', {});
  ({ base, root, outside } = workspace);
});

afterEach(() => workspace.remove());

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('exec-test', overrides);

/** Calls the tool the way the harness does: input parsed, output checked against the schema. */
async function call(tool: AnyTool, args: unknown, callContext: ToolExecuteContext = context()): Promise<ExecResult> {
  const output = await tool.execute(tool.input.parse(args), callContext);
  return (tool.output === undefined ? output : tool.output.parse(output)) as ExecResult;
}

async function failure(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HarnessError);
  expect((error as HarnessError).code).toBe(code);
  const message = (error as HarnessError).message;
  expect(message).not.toContain(base);
  expect(message).not.toContain(await fs.realpath(base));
  return message;
}

/** Whether a process is still running; a zombie (exited, not yet reaped) counts as gone. */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return process.platform !== 'linux';
    } catch {
      return false;
    }
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function pidFrom(file: string): Promise<number> {
  return waitFor(async () => {
    const text = await fs.readFile(path.join(root, file), 'utf8').catch(() => '');
    return text.trim() === '' ? undefined : Number(text.trim());
  });
}

async function expectGone(pid: number): Promise<void> {
  await waitFor(async () => ((await isRunning(pid)) ? undefined : true));
}

/** A command whose grandchild (`sleep 30`) writes its pid to grandchild.pid before the command waits for it. */
const WITH_GRANDCHILD = ['sh', '-c', 'sleep 30 & echo $! > grandchild.pid; wait'];

describe('createExecTool', () => {
  it('is one tool named exec that needs approval unless configured otherwise', () => {
    const tool = createExecTool({ root });
    expect(tool.name).toBe('exec');
    expect(tool.output).toBeDefined();
    expect(tool.requiresApproval).toBe(true);
    expect(createExecTool({ root, requiresApproval: false }).requiresApproval).toBe(false);
  });

  it('refuses bad options', () => {
    const invalid = expect.objectContaining({ code: 'INVALID_REQUEST' });
    expect(() => createExecTool({ root, defaultTimeoutMs: 0 })).toThrow(invalid);
    expect(() => createExecTool({ root, defaultTimeoutMs: 10_000, maxTimeoutMs: 5_000 })).toThrow(invalid);
    expect(() => createExecTool({ root, maxStreamBytes: 1.5 })).toThrow(invalid);
    expect(() => createExecTool({ root, allowEnv: ['NOT-A-NAME'] })).toThrow(invalid);
    expect(() => createExecTool({ root, allowEnv: ['__proto__'] })).toThrow(invalid);
  });
});

describe('exec', () => {
  it('F23: exec captures stdout, stderr and the exit code', async () => {
    const result = await call(createExecTool({ root }), { command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(result).toMatchObject({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
      truncated: { stdout: false, stderr: false },
    });
    expect(result.signal).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('runs in a working directory inside the workspace', async () => {
    await fs.mkdir(path.join(root, 'sub'));
    await fs.writeFile(path.join(root, 'sub', 'marker.txt'), 'here\n');
    const result = await call(createExecTool({ root }), { command: ['cat', 'marker.txt'], cwd: 'sub' });
    expect(result.stdout).toBe('here\n');
    const atRoot = await call(createExecTool({ root }), { command: ['ls'] });
    expect(atRoot.stdout).toBe('sub\n');
  });

  it('refuses a working directory that is missing or not a directory', async () => {
    await fs.writeFile(path.join(root, 'file.txt'), 'x');
    const tool = createExecTool({ root });
    expect(await failure(call(tool, { command: ['ls'], cwd: 'missing' }), 'TOOL_ERROR')).toContain('does not exist');
    expect(await failure(call(tool, { command: ['ls'], cwd: 'file.txt' }), 'TOOL_ERROR')).toContain(
      'is not a directory',
    );
  });

  it('runs through sh -c only when shell is true', async () => {
    const tool = createExecTool({ root });
    const piped = await call(tool, { command: ['echo', 'abc', '|', 'tr', 'a', 'X'], shell: true });
    expect(piped.stdout).toBe('Xbc\n');
    const literal = await call(tool, { command: ['echo', 'abc', '|', 'tr', 'a', 'X'] });
    expect(literal.stdout).toBe('abc | tr a X\n');
  });

  it('passes a minimal environment: HOME is the workspace, TERM is dumb, host secrets stay out', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    process.env.SCRIPT_HARNESS_TEST_CANARY = canary;
    try {
      const result = await call(createExecTool({ root }), { command: ['env'] });
      expect(result.exitCode).toBe(0);
      const variables = new Map(
        result.stdout
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
      );
      expect(result.stdout).not.toContain(canary);
      expect(result.stdout).not.toContain('SCRIPT_HARNESS_TEST_CANARY');
      expect(variables.get('HOME')).toBe(await fs.realpath(root));
      expect(variables.get('TERM')).toBe('dumb');
      expect(variables.get('PATH')).toBe(process.env.PATH);
      for (const name of variables.keys())
        expect(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'PWD']).toContain(name);
    } finally {
      delete process.env.SCRIPT_HARNESS_TEST_CANARY;
    }
  });

  it('passes env entries whose names the host allows and refuses the others', async () => {
    const tool = createExecTool({ root, allowEnv: ['GREETING'] });
    const result = await call(tool, { command: ['sh', '-c', 'echo "$GREETING"'], env: { GREETING: 'hello' } });
    expect(result.stdout).toBe('hello\n');
    const message = await failure(
      call(tool, { command: ['env'], env: { AWS_SECRET_ACCESS_KEY: 'x' } }),
      'POLICY_DENIED',
    );
    expect(message).toContain('"AWS_SECRET_ACCESS_KEY"');
    expect(message).toContain('allowed: GREETING');
    expect(
      await failure(call(createExecTool({ root }), { command: ['env'], env: { A: 'x' } }), 'POLICY_DENIED'),
    ).toContain('no variables may be set');
  });

  it('kills the whole process group on timeout', async () => {
    const result = await call(createExecTool({ root }), { command: WITH_GRANDCHILD, timeoutMs: 1000 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(result.durationMs).toBeLessThan(10_000);
    await expectGone(await pidFrom('grandchild.pid'));
  });

  it('kills the whole process group when the call is aborted', async () => {
    const controller = new AbortController();
    const running = call(
      createExecTool({ root }),
      { command: WITH_GRANDCHILD },
      context({ signal: controller.signal }),
    );
    const grandchild = await pidFrom('grandchild.pid');
    expect(await isRunning(grandchild)).toBe(true);
    controller.abort(new HarnessError('CANCELLED', 'stop'));
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' });
    await expectGone(grandchild);
  });

  it('ends background processes the command leaves behind when it exits', async () => {
    const started = Date.now();
    // The background sleep keeps stdout open; the call must not wait for it.
    const result = await call(createExecTool({ root }), {
      command: ['sh', '-c', 'sleep 30 & echo $! > background.pid; echo started'],
    });
    expect(result.stdout).toBe('started\n');
    expect(result.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectGone(await pidFrom('background.pid'));
  });

  it('keeps the start and the end of a long stream with a marker in between', async () => {
    const tool = createExecTool({ root, maxStreamBytes: 1000 });
    const result = await call(tool, {
      command: ['sh', '-c', 'i=0; while [ $i -lt 500 ]; do echo line-$i; echo err-$i >&2; i=$((i+1)); done'],
    });
    expect(result.truncated).toEqual({ stdout: true, stderr: true });
    expect(result.stdout.startsWith('line-0\nline-1\n')).toBe(true);
    expect(result.stdout.endsWith('line-498\nline-499\n')).toBe(true);
    expect(result.stdout).toMatch(/\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n/);
    expect(Buffer.byteLength(result.stdout.replace(/\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n/, ''))).toBeLessThanOrEqual(
      1000,
    );
    expect(result.stderr.endsWith('err-499\n')).toBe(true);
  });

  it('fits both streams into the tool result limit', async () => {
    const result = await call(
      createExecTool({ root }),
      { command: ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line \\"$i\\""; echo e$i >&2; i=$((i+1)); done'] },
      context({ maxOutputBytes: 4096 }),
    );
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(4096);
    expect(result.truncated).toEqual({ stdout: true, stderr: true });
    expect(result.stdout.startsWith('line "0"\n')).toBe(true);
    expect(result.stdout.endsWith('line "1999"\n')).toBe(true);
  });

  it('reports a program that cannot be started as TOOL_ERROR without host paths', async () => {
    const tool = createExecTool({ root });
    expect(await failure(call(tool, { command: ['no-such-program-xyz'] }), 'TOOL_ERROR')).toBe(
      'program "no-such-program-xyz" was not found on PATH',
    );
    const message = await failure(call(tool, { command: [path.join(base, 'missing', 'prog')] }), 'TOOL_ERROR');
    expect(message).toBe('program "prog" does not exist');
  });

  it('refuses malformed arguments before running anything', () => {
    const tool = createExecTool({ root, maxTimeoutMs: 60_000 });
    for (const args of [
      { command: [] },
      { command: [''] },
      { command: ['echo', 'a\u0000b'] },
      { command: ['ls'], timeoutMs: 60_001 },
      { command: ['ls'], env: { 'BAD-NAME': 'x' } },
      { command: ['ls'], stdin: 'x' },
      { command: 'ls -la' },
    ]) {
      expect(tool.input.safeParse(args).success).toBe(false);
    }
  });

  it('S41: refuses a working directory outside the workspace (threat 21)', async () => {
    await fs.symlink(outside, path.join(root, 'out'));
    const tool = createExecTool({ root });
    for (const cwd of ['..', '../outside', '/tmp', 'out', 'a/../../outside']) {
      const message = await failure(call(tool, { command: ['touch', 'planted.txt'], cwd }), 'POLICY_DENIED');
      expect(message).not.toContain('/tmp');
    }
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it('S44: shell metacharacters in exec arguments are passed literally without a shell (threat 24)', async () => {
    const tool = createExecTool({ root });
    const result = await call(tool, { command: ['echo', '$(id); rm -rf /'] });
    expect(result.stdout).toBe('$(id); rm -rf /\n');
    const more = await call(tool, {
      command: ['printf', '%s\\n', '`touch backtick`', '; touch semicolon', '| touch pipe', '$HOME', '*', '> redirect'],
    });
    expect(more.stdout).toBe('`touch backtick`\n; touch semicolon\n| touch pipe\n$HOME\n*\n> redirect\n');
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('S44: __proto__ and constructor keys in exec arguments are refused or inert (threat 24)', async () => {
    const tool = createExecTool({ root, allowEnv: ['GREETING'] });
    const refusedByShape = [
      '{"command":["env"],"__proto__":{"shell":true}}',
      '{"command":["env"],"constructor":{"prototype":{"shell":true}}}',
      '{"command":["env"],"env":{"__proto__":{"GREETING":"polluted"}}}',
    ];
    for (const raw of refusedByShape) expect(tool.input.safeParse(JSON.parse(raw)).success).toBe(false);
    // A constructor key is a well-formed name but not an allowed one: refused before anything runs.
    const message = await failure(
      call(tool, JSON.parse('{"command":["env"],"env":{"constructor":"x"}}')),
      'POLICY_DENIED',
    );
    expect(message).toContain('"constructor"');
    expect(({} as Record<string, unknown>).GREETING).toBeUndefined();
    expect(({} as Record<string, unknown>).shell).toBeUndefined();
  });
});

describe('built-in tools in a script', () => {
  it('applies a patch, reads the file back through exec and finds it with grep and fileSearch', async () => {
    const asked: ToolCallRequest[] = [];
    const harness = createHarness({
      runtime: await createQuickJSRuntime({ mode: 'inline' }),
      tools: [createPatchTool({ root }), createExecTool({ root }), ...createSearchTools({ root })],
      approvals: {
        request: async (request) => {
          asked.push(request);
          return { approved: true };
        },
      },
    });
    try {
      const result = await harness.run(`
        const patch = [
          '*** Begin Patch',
          '*** Add File: notes/hello.txt',
          '+hello from a patch',
          '+second line',
          '*** End Patch',
        ].join('\\n');
        const patched = await tools.applyPatch({ patch });
        const shown = await tools.exec({ command: ['cat', 'notes/hello.txt'] });
        const [found, files] = await Promise.all([
          tools.grep({ pattern: 'from a (patch|diff)' }),
          tools.fileSearch({ pattern: 'hello' }),
        ]);
        return { changes: patched.changes, stdout: shown.stdout, exitCode: shown.exitCode, found: found.matches, file: files.matches[0].path };
      `);
      expect(result.error).toBeUndefined();
      expect(result.value).toEqual({
        changes: [{ path: 'notes/hello.txt', kind: 'add' }],
        stdout: 'hello from a patch\nsecond line\n',
        exitCode: 0,
        found: [{ path: 'notes/hello.txt', line: 1, text: 'hello from a patch' }],
        file: 'notes/hello.txt',
      });
      // Only exec asks for approval; the others are allowed by the default policy.
      expect(asked.map((request) => request.tool)).toEqual(['exec']);
      const everything = JSON.stringify(result);
      expect(everything).not.toContain(base);
      expect(everything).not.toContain(await fs.realpath(base));
    } finally {
      await harness.close();
    }
  });

  it('reports a failing hunk and a refused path to the script as error codes', async () => {
    await fs.writeFile(path.join(root, 'a.txt'), 'one\n');
    const harness = createHarness({
      runtime: await createQuickJSRuntime({ mode: 'inline' }),
      tools: [createPatchTool({ root }), createExecTool({ root })],
    });
    try {
      const result = await harness.run(`
        const outcomes = [];
        for (const attempt of [
          () => tools.applyPatch({ patch: '*** Begin Patch\\n*** Update File: a.txt\\n@@\\n-two\\n+three\\n*** End Patch' }),
          () => tools.applyPatch({ patch: '*** Begin Patch\\n*** Add File: ../escape.txt\\n+x\\n*** End Patch' }),
          () => tools.exec({ command: ['ls'] }),
        ]) {
          try { await attempt(); outcomes.push('ok'); } catch (error) { outcomes.push(error.code + ': ' + error.message); }
        }
        return outcomes;
      `);
      expect(result.ok).toBe(true);
      const [hunk, traversal, exec] = result.value as string[];
      expect(hunk).toMatch(/^TOOL_ERROR: hunk 1 of a.txt did not apply: context "two"/);
      expect(traversal).toBe('POLICY_DENIED: path "../escape.txt" leads outside the workspace');
      // No approval broker: exec, which asks for approval, is denied.
      expect(exec).toMatch(/^APPROVAL_DENIED/);
      expect(await fs.readdir(base)).toEqual(['outside', 'root']);
    } finally {
      await harness.close();
    }
  });
});
