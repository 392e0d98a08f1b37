import type { Harness, RunOptions, ScriptResult } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import { createScriptOwners } from './owners.ts';
import { createRunRecorder } from './run-recorder.ts';

function resultOf(options: RunOptions | undefined, overrides: Partial<ScriptResult> = {}): ScriptResult {
  return {
    ok: true,
    value: 1,
    calls: [],
    partial: [],
    console: [{ level: 'log', text: 'hi', atMs: 1 }],
    warnings: [],
    metadata: {
      scriptId: options?.scriptId ?? '?',
      runtime: 'quickjs',
      durationMs: 12,
      toolCalls: 2,
      consoleDropped: 0,
    },
    ...overrides,
  };
}

/** A harness whose runs end when the test says so. */
function fakeHarness() {
  const waiting: {
    options: RunOptions | undefined;
    finish: (result: ScriptResult) => void;
    fail: (e: unknown) => void;
  }[] = [];
  const harness = {
    runtime: 'quickjs',
    runtimes: ['quickjs'],
    run: (_source: string | Uint8Array, options?: RunOptions) =>
      new Promise<ScriptResult>((resolve, reject) => waiting.push({ options, finish: resolve, fail: reject })),
  } as unknown as Harness;
  return { harness, waiting };
}

describe('createRunRecorder', () => {
  it('records a run from start to result, for its tenant only', async () => {
    const owners = createScriptOwners();
    let clock = 1000;
    const runs = createRunRecorder({ owners, now: () => clock });
    const { harness, waiting } = fakeHarness();
    owners.register('s1', { tenant: 'alpha', requestId: 'r1' });
    const running = runs.wrap(harness).run('return await tools.echo({ text: "x" })', { scriptId: 's1' });

    expect(runs.list('alpha')).toEqual([
      expect.objectContaining({ scriptId: 's1', tenant: 'alpha', requestId: 'r1', status: 'running', startedAt: 1000 }),
    ]);
    expect(runs.list('beta')).toEqual([]);
    expect(runs.get('s1', 'beta')).toBeUndefined();
    expect(runs.scriptExcerpt({ scriptId: 's1', tool: 'echo' })).toBe('line 1: return await tools.echo({ text: "x" })');
    expect(runs.ownerOf('s1')).toEqual({ tenant: 'alpha', requestId: 'r1' });

    clock = 1500;
    waiting[0]?.finish(resultOf(waiting[0]?.options));
    await running;
    expect(runs.get('s1', 'alpha')).toMatchObject({
      status: 'ok',
      endedAt: 1500,
      durationMs: 12,
      toolCalls: 2,
      consoleLines: 1,
      attempts: 1,
      language: 'ts',
      source: 'return await tools.echo({ text: "x" })',
      sourceTruncated: false,
    });
  });

  it('keeps the error code and line of a failed run, and a thrown failure', async () => {
    const owners = createScriptOwners();
    const runs = createRunRecorder({ owners });
    const { harness, waiting } = fakeHarness();
    owners.register('s1', { tenant: 'alpha', requestId: 'r1' });
    owners.register('s2', { tenant: 'alpha', requestId: 'r2' });
    const wrapped = runs.wrap(harness);
    const first = wrapped.run('throw new Error("x")', { scriptId: 's1' });
    const second = wrapped.run('return 1', { scriptId: 's2' });
    waiting[0]?.finish(
      resultOf(waiting[0]?.options, {
        ok: false,
        error: { code: 'GUEST_ERROR', message: 'x', retryable: false, phase: 'execute', line: 1, column: 7 },
      }),
    );
    waiting[1]?.fail(new Error('the pool is gone'));
    await first;
    await expect(second).rejects.toThrow('the pool is gone');
    expect(runs.list('alpha').map((run) => [run.scriptId, run.status, run.error?.code, run.error?.line])).toEqual([
      ['s2', 'error', 'INTERNAL', undefined],
      ['s1', 'error', 'GUEST_ERROR', 1],
    ]);
  });

  it('counts a retried attempt of the same script as one run', async () => {
    const owners = createScriptOwners();
    const runs = createRunRecorder({ owners });
    const { harness, waiting } = fakeHarness();
    owners.register('s1', { tenant: 'alpha', requestId: 'r1' });
    const wrapped = runs.wrap(harness);
    const first = wrapped.run('return 1', { scriptId: 's1' });
    waiting[0]?.finish(
      resultOf(waiting[0]?.options, {
        ok: false,
        error: { code: 'INTERNAL', message: 'worker died', retryable: true, phase: 'execute' },
      }),
    );
    await first;
    const again = wrapped.run('return 1', { scriptId: 's1' });
    expect(runs.list('alpha')).toEqual([expect.objectContaining({ status: 'running', attempts: 2 })]);
    expect(runs.list('alpha')[0]?.error).toBeUndefined();
    waiting[1]?.finish(resultOf(waiting[1]?.options));
    await again;
    expect(runs.list('alpha')).toEqual([expect.objectContaining({ status: 'ok', attempts: 2 })]);
  });

  it('forgets the oldest finished runs first, and cuts long sources', async () => {
    const owners = createScriptOwners();
    const runs = createRunRecorder({ owners, capacity: 2, maxSourceChars: 5 });
    const { harness, waiting } = fakeHarness();
    const wrapped = runs.wrap(harness);
    for (const id of ['a', 'b', 'c']) owners.register(id, { tenant: 't', requestId: id });
    const a = wrapped.run('return 1', { scriptId: 'a' });
    const b = wrapped.run('return 2', { scriptId: 'b' });
    waiting[1]?.finish(resultOf(waiting[1]?.options));
    await b;
    void wrapped.run(new TextEncoder().encode('return 3'), { scriptId: 'c' });
    // b ended, a still runs: b goes first.
    expect(runs.list('t').map((run) => run.scriptId)).toEqual(['c', 'a']);
    expect(runs.get('c', 't')).toMatchObject({ source: 'retur', sourceTruncated: true });
    waiting[0]?.finish(resultOf(waiting[0]?.options));
    await a;
    expect(() => createRunRecorder({ owners, capacity: 0 })).toThrow(RangeError);
  });

  it('records runs no request owns without a tenant, so no tenant lists them', async () => {
    const runs = createRunRecorder({ owners: createScriptOwners() });
    const { harness, waiting } = fakeHarness();
    const running = runs.wrap(harness).run('return 1');
    const scriptId = waiting[0]?.options?.scriptId;
    expect(scriptId).toEqual(expect.any(String));
    waiting[0]?.finish(resultOf(waiting[0]?.options));
    await running;
    expect(runs.ownerOf(scriptId ?? '')).toEqual({ tenant: undefined, requestId: undefined });
    expect(runs.list('local')).toEqual([]);
  });
});
