import {
  createToolRegistry,
  DEFAULT_LIMITS,
  DISABLED_NOTICE,
  errorData,
  type Harness,
  type ScriptResult,
} from '@script-harness/core';
import type { PendingApproval } from '@script-harness/policy';
import { describe, expect, it } from 'vitest';
import {
  createExecutionRunner,
  createInProcessExecutionQueue,
  disabledResponse,
  dryRunResponse,
  type ExecutionEvent,
  type ExecutionOutcome,
  failedResult,
  scriptResponse,
  shouldRetryExecution,
} from './execution.ts';
import { createScriptOwners } from './owners.ts';

function result(overrides: Partial<ScriptResult> = {}): ScriptResult {
  return {
    ok: true,
    value: 1,
    calls: [],
    console: [],
    warnings: [],
    metadata: { scriptId: 's', runtime: 'fake', durationMs: 1, toolCalls: 0, consoleDropped: 0 },
    ...overrides,
  };
}

const workerDied = result({ ok: false, value: undefined, error: errorData('INTERNAL', 'the worker died') });
const scriptFault = result({ ok: false, value: undefined, error: errorData('GUEST_ERROR', 'boom') });
const call = {
  callId: '1',
  tool: 'writeFile',
  args: {},
  status: 'ok' as const,
  startedAt: 0,
  durationMs: 1,
};

describe('shouldRetryExecution', () => {
  it('retries only harness failures of runs that made no tool call', () => {
    const script = (r: ScriptResult): ExecutionOutcome => ({ kind: 'script', result: r });
    expect(shouldRetryExecution(script(workerDied))).toBe(true);
    expect(shouldRetryExecution(script(scriptFault))).toBe(false);
    expect(shouldRetryExecution(script(result()))).toBe(false);
    expect(shouldRetryExecution(script({ ...workerDied, calls: [call] }))).toBe(false);
  });

  it('retries a message only when no block made a tool call and the last failed retryably', () => {
    const message = (...results: ScriptResult[]): ExecutionOutcome => ({
      kind: 'message',
      execution: { items: [], results, blocks: results.length },
    });
    expect(shouldRetryExecution(message(result(), workerDied))).toBe(true);
    expect(shouldRetryExecution(message(result({ calls: [call] }), workerDied))).toBe(false);
    expect(shouldRetryExecution(message(workerDied, result()))).toBe(false);
    expect(shouldRetryExecution(message())).toBe(false);
  });
});

/** A harness whose runs return the given results in turn, counting them. */
function scriptedHarness(results: ScriptResult[]): Harness & { runs: number; scriptIds: string[] } {
  const fake = {
    runtime: 'fake',
    runtimes: ['fake'],
    limits: DEFAULT_LIMITS,
    registry: createToolRegistry([]),
    runs: 0,
    scriptIds: [] as string[],
    async run(_source: string | Uint8Array, options: { scriptId?: string } = {}) {
      fake.scriptIds.push(options.scriptId ?? '');
      return results[Math.min(fake.runs++, results.length - 1)] as ScriptResult;
    },
    check: () => ({ ok: true, findings: [], referencedTools: [] }),
    close: async () => {},
  };
  return fake;
}

describe('the in-process execution queue', () => {
  const retry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
  const noApprovals = () => () => {};
  const owner = { tenant: 'alpha', requestId: 'r0' };
  const createExecutionQueue = (options: {
    harness: Harness;
    owners: ReturnType<typeof createScriptOwners>;
    concurrency: number;
    maxQueued: number;
    retry: typeof retry;
  }) =>
    createInProcessExecutionQueue({
      ...options,
      run: createExecutionRunner({ harness: options.harness, owners: options.owners, watchApprovals: noApprovals }),
    });

  it('runs a script again after its worker died, but never after a script fault', async () => {
    const recovering = scriptedHarness([workerDied, result({ value: 'second try' })]);
    const queue = createExecutionQueue({
      harness: recovering,
      owners: createScriptOwners(),
      concurrency: 1,
      maxQueued: 1,
      retry,
    });
    const outcome = await queue.submit({ payload: { kind: 'script', source: 'x', options: { scriptId: 'a' }, owner } })
      .result;
    expect(outcome).toMatchObject({ kind: 'script', result: { ok: true, value: 'second try' } });
    expect(recovering.runs).toBe(2);

    const faulty = scriptedHarness([scriptFault, result()]);
    const strict = createExecutionQueue({
      harness: faulty,
      owners: createScriptOwners(),
      concurrency: 1,
      maxQueued: 1,
      retry,
    });
    const failed = await strict.submit({ payload: { kind: 'script', source: 'x', options: { scriptId: 'b' }, owner } })
      .result;
    expect(failed).toMatchObject({ result: { ok: false, error: { code: 'GUEST_ERROR' } } });
    expect(faulty.runs).toBe(1);
  });

  it('registers every block of a message to its owner while it runs', async () => {
    const owners = createScriptOwners();
    const seen: (string | undefined)[] = [];
    const harness = scriptedHarness([result()]);
    const run = harness.run.bind(harness);
    harness.run = async (source, options) => {
      seen.push(owners.get(options?.scriptId ?? '')?.tenant);
      return run(source, options);
    };
    const queue = createExecutionQueue({ harness, owners, concurrency: 1, maxQueued: 1, retry });
    const outcome = await queue.submit({
      payload: {
        kind: 'message',
        message: '<tool-calls>return 1</tool-calls> and <tool-calls>return 2</tool-calls>',
        options: {},
        owner: { tenant: 'alpha', requestId: 'r1' },
      },
    }).result;
    expect(outcome).toMatchObject({ kind: 'message', execution: { blocks: 2 } });
    expect(seen).toEqual(['alpha', 'alpha']);
    expect(harness.scriptIds.every((id) => id.length > 0 && owners.get(id) === undefined)).toBe(true);
  });
});

describe('createExecutionRunner', () => {
  it('sends a streamed script its events and approvals under their API names, and runs it as its owner', async () => {
    const owners = createScriptOwners();
    let watched: ((approval: PendingApproval) => void) | undefined;
    let watching = 0;
    let watchCalls = 0;
    const harness = scriptedHarness([result()]);
    harness.run = async (_source, options) => {
      const scriptId = options?.scriptId ?? '';
      expect(owners.get(scriptId)).toEqual({ tenant: 'alpha', requestId: 'r9' });
      options?.onEvent?.({ type: 'console', level: 'log', text: 'hi', scriptId } as never);
      options?.onEvent?.({ type: 'script_progress', scriptId, message: 'half', fraction: 0.5 } as never);
      watched?.({ id: 'ap1', scriptId, tool: 'writeFile' } as PendingApproval);
      options?.onEvent?.({ type: 'script_completed', scriptId } as never);
      return result();
    };
    const run = createExecutionRunner({
      harness,
      owners,
      watchApprovals(_scriptId, listener) {
        watching++;
        watchCalls++;
        watched = listener;
        return () => {
          watching--;
          watched = undefined;
        };
      },
    });
    const events: ExecutionEvent[] = [];
    const job = {
      kind: 'script' as const,
      source: 'x',
      options: { scriptId: 's9' },
      owner: { tenant: 'alpha', requestId: 'r9' },
    };
    await run({ ...job, stream: true }, { signal: new AbortController().signal, emit: (event) => events.push(event) });
    expect(events.map((event) => event.event)).toEqual(['console', 'progress', 'approval_requested']);
    expect(events[1]?.data).toEqual({ scriptId: 's9', message: 'half', fraction: 0.5 });
    expect(watching).toBe(0);
    expect(owners.get('s9')).toBeUndefined();

    // Without a stream nothing is sent and no approval is watched.
    events.length = 0;
    harness.run = async () => result();
    await run(job, { signal: new AbortController().signal, emit: (event) => events.push(event) });
    expect(events).toEqual([]);
    expect(watchCalls).toBe(1);
  });
});

describe('responses of the modes', () => {
  const context = { scriptId: 's1', runtime: 'quickjs', tenant: 'alpha', startedAt: performance.now() };

  it('adds the mode and the tenant to a ScriptResult', () => {
    expect(scriptResponse(result(), 'enabled', 'alpha')).toMatchObject({
      ok: true,
      mode: 'enabled',
      metadata: { scriptId: 's', tenant: 'alpha' },
    });
  });

  it('answers a dry run with the report, and the first finding as the error', () => {
    expect(dryRunResponse({ ok: true, findings: [], referencedTools: ['echo'] }, context)).toMatchObject({
      ok: true,
      mode: 'dry-run',
      report: { referencedTools: ['echo'] },
      calls: [],
      metadata: { scriptId: 's1', tenant: 'alpha', toolCalls: 0 },
    });
    const failed = dryRunResponse(
      {
        ok: false,
        findings: [
          { code: 'SYNTAX_ERROR', message: 'unexpected end', line: 1, column: 9 },
          { code: 'TOOL_NOT_FOUND', message: 'tools.x does not exist' },
        ],
        referencedTools: [],
      },
      context,
    );
    expect(failed).toMatchObject({
      ok: false,
      error: { code: 'SYNTAX_ERROR', line: 1, column: 9, details: { findings: 2 } },
    });
  });

  it('answers disabled mode with the notice and nothing run', () => {
    expect(disabledResponse(context)).toMatchObject({
      ok: false,
      mode: 'disabled',
      notice: DISABLED_NOTICE,
      calls: [],
    });
    expect(disabledResponse(context).error).toBeUndefined();
  });

  it('builds a failed ScriptResult for a run that never produced one', () => {
    expect(failedResult(errorData('SHUTDOWN', 'stopped'), 's2', 'quickjs')).toMatchObject({
      ok: false,
      error: { code: 'SHUTDOWN', retryable: true },
      metadata: { scriptId: 's2', toolCalls: 0 },
    });
  });
});
