import {
  type AnyTool,
  createHarness,
  defineTool,
  HarnessError,
  type ToolCallRequest,
  type ToolExecuteContext,
} from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createMemoryTaskStore,
  createSpawnTools,
  type SpawnTools,
  type SpawnToolsOptions,
  type TaskRecord,
} from './spawn.ts';
import { toolContext } from './testing/tool-test-support.ts';

/** A gate a test opens to let a tool finish. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Tools whose behaviour each test steers: `add` waits for its gate, `forever` only stops on abort. */
function fixtureTools() {
  const addGate = gate();
  const aborts: unknown[] = [];
  const add = defineTool({
    name: 'add',
    description: 'Adds two numbers once the test lets it.',
    input: z.strictObject({ a: z.number(), b: z.number() }),
    output: z.object({ sum: z.number() }),
    async execute(args, context) {
      context.signal.addEventListener('abort', () => aborts.push(context.signal.reason), { once: true });
      await addGate.opened;
      return { sum: args.a + args.b };
    },
  });
  const forever = defineTool({
    name: 'forever',
    description: 'Runs until aborted.',
    input: z.strictObject({}).optional(),
    async execute(_args, context) {
      await new Promise((_resolve, reject) => {
        context.signal.addEventListener(
          'abort',
          () => {
            aborts.push(context.signal.reason);
            reject(context.signal.reason);
          },
          { once: true },
        );
      });
    },
  });
  const fail = defineTool({
    name: 'fail',
    description: 'Always fails.',
    input: z.strictObject({}).optional(),
    execute() {
      throw new HarnessError('TOOL_ERROR', 'it broke');
    },
  });
  const big = defineTool({
    name: 'big',
    description: 'Returns a large string.',
    input: z.strictObject({ bytes: z.number() }),
    execute: (args) => ({ text: 'x'.repeat(args.bytes) }),
  });
  const guarded = defineTool({
    name: 'files.delete',
    description: 'Needs approval.',
    input: z.strictObject({ path: z.string() }),
    requiresApproval: true,
    execute: (args) => ({ deleted: args.path }),
  });
  return { add, forever, fail, big, guarded, addGate, aborts, all: [add, forever, fail, big, guarded] as AnyTool[] };
}

let created: SpawnTools[] = [];

afterEach(async () => {
  await Promise.all(created.map((spawn) => spawn.close()));
  created = [];
});

function spawnTools(options: SpawnToolsOptions): SpawnTools {
  const spawn = createSpawnTools(options);
  created.push(spawn);
  return spawn;
}

function toolOf(spawn: SpawnTools, name: string): AnyTool {
  const tool = spawn.tools.find((candidate) => candidate.name === name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  return tool;
}

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('spawn-test', overrides);

/** Calls a spawn tool as the harness would: arguments validated first, the output checked after. */
async function call<T = Record<string, unknown>>(
  spawn: SpawnTools,
  name: string,
  args: unknown,
  ctx: ToolExecuteContext = context(),
): Promise<T> {
  const tool = toolOf(spawn, name);
  const output = await tool.execute(tool.input.parse(args), ctx);
  return (tool.output === undefined ? output : tool.output.parse(output)) as T;
}

async function failure(promise: Promise<unknown>): Promise<HarnessError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HarnessError);
  return error as HarnessError;
}

async function waitForStatus(spawn: SpawnTools, id: string, status: TaskRecord['status']): Promise<TaskRecord> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const task = await spawn.getTask(id);
    if (task?.status === status) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} is ${task?.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('spawn tools', () => {
  it('F31: tools.spawn runs a detached task whose result is fetched later by id', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const harness = createHarness({
      runtime: await createQuickJSRuntime({ mode: 'inline' }),
      tools: [...fixture.all, ...spawn.tools],
    });
    try {
      const started = await harness.run(
        "const task = await tools.spawn.call({ tool: 'add', args: { a: 2, b: 40 } }); return task.id;",
      );
      expect(started.error).toBeUndefined();
      const id = started.value as string;
      // The script has ended; its task has not.
      expect((await spawn.getTask(id))?.status).toBe('running');
      expect(fixture.aborts).toEqual([]);

      fixture.addGate.open();
      const fetched = await harness.run(
        'const outcome = await tools.spawn.wait({ id: context.taskId, timeoutMs: 5000 }); return outcome;',
        { context: { taskId: id } },
      );
      expect(fetched.error).toBeUndefined();
      expect(fetched.value).toMatchObject({ id, tool: 'add', status: 'succeeded', done: true, result: { sum: 42 } });
    } finally {
      await harness.close();
    }
  });

  it('a task outlives its script: the end of the script does not abort it', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const harness = createHarness({
      runtime: await createQuickJSRuntime({ mode: 'inline' }),
      tools: [...fixture.all, ...spawn.tools],
      limits: { timeoutMs: 2000 },
    });
    try {
      const result = await harness.run("const { id } = await tools.spawn.call({ tool: 'forever' }); return id;");
      const id = result.value as string;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await spawn.getTask(id))?.status).toBe('running');
      expect(fixture.aborts).toEqual([]);
      await spawn.cancelTask(id, 'test over');
      expect((await spawn.getTask(id))?.status).toBe('cancelled');
    } finally {
      await harness.close();
    }
  });

  it('reports status and lets spawn.wait return early with done: false', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const before = Date.now();
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'add', args: { a: 1, b: 2 } });
    const status = await call(spawn, 'spawn.status', { id });
    expect(status).toEqual({ id, tool: 'add', status: 'running', startedAt: expect.any(Number) });
    expect(status.startedAt as number).toBeGreaterThanOrEqual(before);

    const early = await call(spawn, 'spawn.wait', { id, timeoutMs: 30 });
    expect(early).toMatchObject({ id, status: 'running', done: false });
    expect(early).not.toHaveProperty('result');

    fixture.addGate.open();
    const done = await call(spawn, 'spawn.wait', { id, timeoutMs: 5000 });
    expect(done).toMatchObject({ status: 'succeeded', done: true, result: { sum: 3 }, endedAt: expect.any(Number) });
    // Waiting on an ended task answers at once.
    expect(await call(spawn, 'spawn.wait', { id })).toMatchObject({ status: 'succeeded', done: true });
  });

  it('spawn.wait stops with the reason when its own call is aborted', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    const controller = new AbortController();
    const waiting = call(spawn, 'spawn.wait', { id, timeoutMs: 10_000 }, context({ signal: controller.signal }));
    controller.abort(new HarnessError('TIMEOUT', 'the script ran past its deadline'));
    await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((await spawn.getTask(id))?.status).toBe('running');
  });

  it('cancels a running task: its signal fires and it ends cancelled; a second cancel changes nothing', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    await waitForStatus(spawn, id, 'running');
    const cancelled = await call(spawn, 'spawn.cancel', { id });
    expect(cancelled).toMatchObject({ id, status: 'cancelled', cancelled: true, endedAt: expect.any(Number) });
    expect(fixture.aborts).toHaveLength(1);
    expect(fixture.aborts[0]).toMatchObject({ code: 'CANCELLED' });
    expect(await call(spawn, 'spawn.cancel', { id })).toMatchObject({ status: 'cancelled', cancelled: false });
    expect(await call(spawn, 'spawn.wait', { id })).toMatchObject({
      status: 'cancelled',
      done: true,
      error: { code: 'CANCELLED', message: 'the task was cancelled by a script' },
    });
  });

  it('records a failing tool as failed and an oversized result as OUTPUT_LIMIT', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all, maxOutputBytes: 1000 });
    const failing = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'fail' });
    expect(await call(spawn, 'spawn.wait', { id: failing.id, timeoutMs: 5000 })).toMatchObject({
      status: 'failed',
      error: { code: 'TOOL_ERROR', message: 'it broke' },
    });
    const large = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'big', args: { bytes: 2000 } });
    expect(await call(spawn, 'spawn.wait', { id: large.id, timeoutMs: 5000 })).toMatchObject({
      status: 'failed',
      error: { code: 'OUTPUT_LIMIT' },
    });
    const small = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'big', args: { bytes: 10 } });
    expect(await call(spawn, 'spawn.wait', { id: small.id, timeoutMs: 5000 })).toMatchObject({
      status: 'succeeded',
      result: { text: 'xxxxxxxxxx' },
    });
  });

  it("validates the arguments against the target tool's schema before anything is queued", async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const invalid = await failure(call(spawn, 'spawn.call', { tool: 'add', args: { a: 1, b: 'two' } }));
    expect(invalid.code).toBe('TOOL_VALIDATION');
    expect(invalid.message).toMatch(/^invalid arguments for tools.add: b: /);
    const extra = await failure(call(spawn, 'spawn.call', { tool: 'add', args: { a: 1, b: 2, c: 3 } }));
    expect(extra.code).toBe('TOOL_VALIDATION');
    const missing = await failure(call(spawn, 'spawn.call', { tool: 'add' }));
    expect(missing.code).toBe('TOOL_VALIDATION');
    const unknown = await failure(call(spawn, 'spawn.call', { tool: 'ad', args: {} }));
    expect(unknown.code).toBe('TOOL_NOT_FOUND');
    expect(unknown.details).toEqual({ suggestions: ['add'] });
    expect(await spawn.listTasks()).toEqual([]);
    expect(toolOf(spawn, 'spawn.call').input.safeParse({ tool: 'add', args: {}, timeoutMs: 0 }).success).toBe(false);
  });

  it('S46: a task has its own deadline and ends timed_out when it runs past it (threat 26)', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all, defaultTimeoutMs: 5000 });
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever', timeoutMs: 80 });
    const outcome = await call(spawn, 'spawn.wait', { id, timeoutMs: 5000 });
    expect(outcome).toMatchObject({
      status: 'timed_out',
      done: true,
      error: { code: 'TIMEOUT', message: 'the task ran past its 80 ms deadline' },
    });
    expect(fixture.aborts[0]).toMatchObject({ code: 'TIMEOUT' });

    const defaulted = spawnTools({ tools: fixture.all, defaultTimeoutMs: 60 });
    const second = await call<{ id: string }>(defaulted, 'spawn.call', { tool: 'forever' });
    expect(await call(defaulted, 'spawn.wait', { id: second.id, timeoutMs: 5000 })).toMatchObject({
      status: 'timed_out',
    });
  });

  it('S46: each tenant may have only maxLiveTasksPerTenant live tasks, even when spawning concurrently (threat 26)', async () => {
    const fixture = fixtureTools();
    const store = createMemoryTaskStore();
    const spawn = spawnTools({
      tools: fixture.all,
      store,
      maxLiveTasksPerTenant: 2,
      tenant: (ctx) => ctx.scriptId,
    });
    const alice = context({ scriptId: 'alice' });
    const attempts = await Promise.allSettled(
      Array.from({ length: 5 }, () => call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' }, alice)),
    );
    const accepted = attempts.filter((attempt) => attempt.status === 'fulfilled');
    const refused = attempts.filter((attempt) => attempt.status === 'rejected');
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(3);
    for (const attempt of refused) {
      expect(attempt.reason).toMatchObject({ code: 'TOOL_BUDGET' });
      expect((attempt.reason as Error).message).toMatch(/at most 2 may be queued or running/);
    }
    // Another tenant is not affected.
    await call(spawn, 'spawn.call', { tool: 'forever' }, context({ scriptId: 'bob' }));
    // Once a task ends, its slot is free again.
    const first = (accepted[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    await call(spawn, 'spawn.cancel', { id: first }, alice);
    await call(spawn, 'spawn.call', { tool: 'forever' }, alice);
    expect((await store.list({ tenant: 'alice', statuses: ['queued', 'running'] })).length).toBe(2);
  });

  it('S46: spawn tools can never be run through spawn.call, so a task cannot spawn tasks (threat 26)', async () => {
    const fixture = fixtureTools();
    const other = spawnTools({ tools: fixture.all });
    // Even when another instance's spawn tools are handed over as targets, they are left out.
    const spawn = spawnTools({ tools: [...fixture.all, ...other.tools] });
    for (const tool of ['spawn.call', 'tools.spawn.call', 'spawn.wait', 'spawn.exec', 'spawn']) {
      const error = await failure(call(spawn, 'spawn.call', { tool, args: { tool: 'forever' } }));
      expect(error.code, tool).toBe('POLICY_DENIED');
      expect(error.message).toMatch(/a task cannot start further tasks/);
    }
    // A spawn tool renamed is still recognised by identity.
    const renamed = { ...(other.tools[0] as AnyTool), name: 'launcher' } as AnyTool;
    const withRenamed = spawnTools({ tools: [renamed, ...fixture.all] });
    expect((await failure(call(withRenamed, 'spawn.call', { tool: 'launcher', args: {} }))).code).toBe(
      'TOOL_NOT_FOUND',
    );
    expect(await spawn.listTasks()).toEqual([]);
  });

  it("S46: another tenant's task reads as missing (threat 26)", async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all, tenant: (ctx) => ctx.scriptId });
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' }, context({ scriptId: 'alice' }));
    const mallory = context({ scriptId: 'mallory' });
    for (const name of ['spawn.status', 'spawn.wait', 'spawn.cancel']) {
      const error = await failure(call(spawn, name, { id }, mallory));
      expect(error.message, name).toBe(`there is no task with id ${JSON.stringify(id)}`);
    }
    expect(await call(spawn, 'spawn.list', undefined, mallory)).toEqual({ tasks: [], truncated: false });
    expect((await spawn.getTask(id))?.status).toBe('running');
  });

  it('goes through the same policy and approvals: approval required and no hook means APPROVAL_DENIED', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const error = await failure(call(spawn, 'spawn.call', { tool: 'files.delete', args: { path: 'a.txt' } }));
    expect(error.code).toBe('APPROVAL_DENIED');
    expect(await spawn.listTasks()).toEqual([]);
  });

  it('asks the approve hook with the request a direct call would make, and runs the task once approved', async () => {
    const fixture = fixtureTools();
    const requests: ToolCallRequest[] = [];
    let approved = true;
    const spawn = spawnTools({
      tools: fixture.all,
      approve: async (request) => {
        requests.push(request);
        return approved ? { approved: true } : { approved: false, reason: 'not today' };
      },
    });
    const { id } = await call<{ id: string }>(
      spawn,
      'spawn.call',
      { tool: 'files.delete', args: { path: 'a.txt' } },
      context({ callId: '3', scriptId: 'script-9' }),
    );
    expect(requests).toEqual([
      {
        scriptId: 'script-9',
        callId: '3',
        sequence: 3,
        tool: 'files.delete',
        args: { path: 'a.txt' },
        toolRequiresApproval: true,
      },
    ]);
    expect(await call(spawn, 'spawn.wait', { id, timeoutMs: 5000 })).toMatchObject({
      status: 'succeeded',
      result: { deleted: 'a.txt' },
    });
    approved = false;
    const denied = await failure(call(spawn, 'spawn.call', { tool: 'files.delete', args: { path: 'b.txt' } }));
    expect(denied).toMatchObject({ code: 'APPROVAL_DENIED', message: 'tools.files.delete was denied: not today' });
  });

  it('uses the decide hook when given, for every target; a refusal queues nothing', async () => {
    const fixture = fixtureTools();
    const asked: [string, unknown, string][] = [];
    const spawn = spawnTools({
      tools: fixture.all,
      tenant: 'acme',
      decide: async (tool, args, { tenant }) => {
        asked.push([tool, args, tenant]);
        return tool === 'add' ? 'allow' : new HarnessError('POLICY_DENIED', `tools.${tool} is not allowed: rule 7`);
      },
    });
    await call(spawn, 'spawn.call', { tool: 'add', args: { a: 1, b: 1 } });
    const error = await failure(call(spawn, 'spawn.call', { tool: 'fail' }));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', message: 'tools.fail is not allowed: rule 7' });
    expect(asked).toEqual([
      ['add', { a: 1, b: 1 }, 'acme'],
      ['fail', undefined, 'acme'],
    ]);
    expect((await spawn.listTasks()).map((task) => task.tool)).toEqual(['add']);
  });

  it('refuses through a policy engine that denies, as the harness would', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({
      tools: fixture.all,
      policy: {
        decide: (request) =>
          request.tool === 'add' ? { decision: 'deny', reason: 'no maths' } : { decision: 'allow' },
      },
    });
    const error = await failure(call(spawn, 'spawn.call', { tool: 'add', args: { a: 1, b: 1 } }));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', message: 'tools.add is not allowed: no maths' });
  });

  it('offers spawn.exec only with an exec tool, and runs it detached with its own schema', async () => {
    const fixture = fixtureTools();
    expect(spawnTools({ tools: fixture.all }).tools.map((tool) => tool.name)).toEqual([
      'spawn.call',
      'spawn.status',
      'spawn.wait',
      'spawn.cancel',
      'spawn.list',
    ]);
    const exec = defineTool({
      name: 'exec',
      description: 'Runs a command.',
      input: z.strictObject({ command: z.string(), args: z.array(z.string()).default([]) }),
      execute: (args) => ({ exitCode: 0, stdout: [args.command, ...args.args].join(' ') }),
    });
    const spawn = spawnTools({ tools: fixture.all, exec });
    const spawnExec = toolOf(spawn, 'spawn.exec');
    expect(spawnExec.input.safeParse({ command: 'ls', extra: true }).success).toBe(false);
    const { id } = await call<{ id: string }>(spawn, 'spawn.exec', { command: 'echo' });
    expect(await call(spawn, 'spawn.wait', { id, timeoutMs: 5000 })).toMatchObject({
      tool: 'exec',
      status: 'succeeded',
      result: { exitCode: 0, stdout: 'echo' },
    });
  });

  it('lists the tenant tasks newest first, optionally by status', async () => {
    const fixture = fixtureTools();
    const spawn = spawnTools({ tools: fixture.all });
    const first = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    const second = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'fail' });
    await waitForStatus(spawn, second.id, 'failed');
    const all = await call<{ tasks: { id: string }[]; truncated: boolean }>(spawn, 'spawn.list', undefined);
    expect(all.tasks.map((task) => task.id)).toEqual([second.id, first.id]);
    expect(await call(spawn, 'spawn.list', { status: 'running' })).toMatchObject({ tasks: [{ id: first.id }] });
    expect(await call(spawn, 'spawn.list', { limit: 1 })).toMatchObject({
      tasks: [{ id: second.id }],
      truncated: true,
    });
  });

  it('gives operators getTask, listTasks and cancelTask, and a cancel written to the store stops the task', async () => {
    const fixture = fixtureTools();
    const store = createMemoryTaskStore();
    const spawn = spawnTools({ tools: fixture.all, store });
    const one = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    const two = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    expect((await spawn.getTask(one.id))?.args).toBeUndefined();
    expect((await spawn.listTasks({ statuses: ['running'] })).length).toBe(2);

    const cancelled = await spawn.cancelTask(one.id, 'operator request');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      error: { message: 'the task was cancelled: operator request' },
    });
    expect(await spawn.cancelTask('no-such-task')).toBeUndefined();

    // As another process sharing the store would: write the ending, and the running task stops.
    await store.update(two.id, { status: 'cancelled', endedAt: Date.now() }, { from: ['queued', 'running'] });
    expect(fixture.aborts).toHaveLength(2);
  });

  it('close() stops the running tasks with SHUTDOWN', async () => {
    const fixture = fixtureTools();
    const spawn = createSpawnTools({ tools: fixture.all });
    const { id } = await call<{ id: string }>(spawn, 'spawn.call', { tool: 'forever' });
    await spawn.close();
    expect(await spawn.getTask(id)).toMatchObject({ status: 'cancelled', error: { code: 'SHUTDOWN' } });
    expect(fixture.aborts[0]).toMatchObject({ code: 'SHUTDOWN' });
  });

  it('checks its options', () => {
    expect(() => createSpawnTools({ tools: [], maxLiveTasksPerTenant: 0 })).toThrow(/maxLiveTasksPerTenant/);
    expect(() => createSpawnTools({ tools: [], defaultTimeoutMs: 10, maxTimeoutMs: 5 })).toThrow(/defaultTimeoutMs/);
    const fixture = fixtureTools();
    expect(() => createSpawnTools({ tools: [fixture.add, fixture.add] })).toThrow(/duplicate tool name add/);
  });
});

describe('memory task store', () => {
  const task = (id: string, overrides: Partial<TaskRecord> = {}): TaskRecord => ({
    id,
    tenant: 't',
    tool: 'add',
    args: {},
    status: 'running',
    startedAt: Date.now(),
    deadline: Date.now() + 1000,
    ...overrides,
  });

  it('updates only from the given statuses and tells subscribers', async () => {
    const store = createMemoryTaskStore();
    await store.create(task('a'));
    const seen: string[] = [];
    const stop = store.subscribe('a', (current) => seen.push(current.status));
    expect(await store.update('a', { status: 'succeeded', endedAt: Date.now() }, { from: ['running'] })).toMatchObject({
      status: 'succeeded',
    });
    expect(await store.update('a', { status: 'cancelled' }, { from: ['queued', 'running'] })).toBeUndefined();
    stop();
    await store.update('a', { status: 'failed' });
    expect(seen).toEqual(['succeeded']);
    expect(await store.update('missing', { status: 'failed' })).toBeUndefined();
  });

  it('refuses a task over the tenant cap and forgets ended tasks after the retention time', async () => {
    const store = createMemoryTaskStore({ retentionMs: 50 });
    expect(await store.create(task('a'), { maxLive: 1 })).toBe(true);
    expect(await store.create(task('b'), { maxLive: 1 })).toBe(false);
    expect(await store.create(task('c', { tenant: 'other' }), { maxLive: 1 })).toBe(true);
    await store.update('a', { status: 'succeeded', endedAt: Date.now() - 100 });
    expect((await store.list()).map((record) => record.id).sort()).toEqual(['c']);
  });
});
