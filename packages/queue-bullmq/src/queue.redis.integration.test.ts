/**
 * The distributed queue against a real Redis, with several queue instances (nodes) in this
 * process: the bound, priorities, cancellation from any node, the harness's retry rule, events,
 * and a node that shuts down handing its running job to another.
 */
import { HarnessError, type JobPriority } from '@script-harness/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type BullMQJobQueue, type BullMQQueueOptions, createBullMQQueue } from './queue.ts';
import { eventually } from './test-cluster.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testPrefix } from './testing.ts';

interface Payload {
  readonly label: string;
  readonly failFirst?: number;
  readonly waitForAbort?: boolean;
}
interface Outcome {
  readonly ok: boolean;
  readonly label: string;
  readonly attempt: number;
  readonly node: string;
}

// Without Redis this file fails to load, with a message that says how to start one.
const redis = await connectTestRedis();

describe('the BullMQ queue', () => {
  const prefix = testPrefix('queue');
  let open: BullMQJobQueue<Payload, Outcome, string>[] = [];
  let queueNumber = 0;

  afterEach(async () => {
    await Promise.all(open.map((queue) => queue.close({ graceMs: 0 })));
    open = [];
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** A queue name of its own for each test, so no test sees another's jobs. */
  const freshName = () => `q${++queueNumber}`;

  function node(
    name: string,
    nodeId: string,
    options: Partial<BullMQQueueOptions<Payload, Outcome, string>> = {},
  ): BullMQJobQueue<Payload, Outcome, string> {
    const queue = createBullMQQueue<Payload, Outcome, string>({
      connection: TEST_REDIS_URL,
      prefix,
      name,
      nodeId,
      role: 'all',
      concurrency: 4,
      maxQueued: 100,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      pollIntervalMs: 250,
      async run(payload, { attempt, signal }) {
        if (payload.waitForAbort === true) await abortOf(signal);
        return { ok: attempt > (payload.failFirst ?? 0), label: payload.label, attempt, node: nodeId };
      },
      ...options,
    });
    open.push(queue);
    return queue;
  }

  it('refuses submissions beyond maxQueued with QUEUE_FULL, counting the whole cluster', async () => {
    const name = freshName();
    const first = node(name, 'api-1', { role: 'api', maxQueued: 3 });
    const second = node(name, 'api-2', { role: 'api', maxQueued: 3 });
    await Promise.all([first.ready, second.ready]);
    const accepted = [first.submit({ payload: { label: 'a' } }), second.submit({ payload: { label: 'b' } })];
    expect(await Promise.all(accepted.map((handle) => handle.enqueued))).toEqual([true, true]);
    const third = first.submit({ payload: { label: 'c' } });
    expect(await third.enqueued).toBe(true);

    // The fourth is refused whether this node has already seen the backlog (a throw) or learns it in Redis.
    const refusal = await refusalOf(() => second.submit({ payload: { label: 'd' } }));
    expect(refusal).toMatchObject({ code: 'QUEUE_FULL', retryable: true });
    expect(second.stats()).toMatchObject({ rejected: 1, queued: 3 });
    // No worker ever runs them: closing the nodes answers them with SHUTDOWN.
    const shutDown = [...accepted, third].map((handle) =>
      expect(handle.result).rejects.toMatchObject({ code: 'SHUTDOWN' }),
    );
    await Promise.all([first.close({ graceMs: 0 }), second.close({ graceMs: 0 })]);
    await Promise.all(shutDown);
  });

  it('runs high before normal before low, in arrival order within a priority', async () => {
    const name = freshName();
    const api = node(name, 'api', { role: 'api' });
    await api.ready;
    const order: [string, JobPriority][] = [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['high-1', 'high'],
      ['low-2', 'low'],
      ['high-2', 'high'],
      ['normal-2', 'normal'],
    ];
    const handles = [];
    for (const [label, priority] of order) {
      const handle = api.submit({ payload: { label }, priority });
      expect(await handle.enqueued).toBe(true);
      handles.push(handle);
    }
    const ran: string[] = [];
    node(name, 'worker', {
      role: 'worker',
      concurrency: 1,
      async run(payload, { attempt }) {
        ran.push(payload.label);
        return { ok: true, label: payload.label, attempt, node: 'worker' };
      },
    });
    await Promise.all(handles.map((handle) => handle.result));
    expect(ran).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  it('runs at most maxRunningPerTenant jobs of one tenant at once across the nodes', async () => {
    const name = freshName();
    const runningNow = new Map<string, number>();
    const most = new Map<string, number>();
    const run: BullMQQueueOptions<Payload, Outcome, string>['run'] = async (payload, { attempt }) => {
      const tenant = payload.label.split('-')[0] as string;
      const now = (runningNow.get(tenant) ?? 0) + 1;
      runningNow.set(tenant, now);
      most.set(tenant, Math.max(most.get(tenant) ?? 0, now));
      await new Promise((resolve) => setTimeout(resolve, 30));
      runningNow.set(tenant, (runningNow.get(tenant) ?? 1) - 1);
      return { ok: true, label: payload.label, attempt, node: 'worker' };
    };
    const limits = { maxRunningPerTenant: 2, tenantWaitMs: 20, run };
    const first = node(name, 'first', limits);
    node(name, 'second', limits);
    const handles = ['acme', 'acme', 'acme', 'acme', 'acme', 'acme', 'globex', 'globex', 'globex'].map((tenant, i) =>
      first.submit({ payload: { label: `${tenant}-${i}` }, tenant }),
    );
    const outcomes = await Promise.all(handles.map((handle) => handle.result));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(most.get('acme')).toBe(2);
    expect(most.get('globex')).toBe(2);
  });

  it('cancels a queued job: it is removed and its result rejects with CANCELLED', async () => {
    const name = freshName();
    const api = node(name, 'api', { role: 'api' });
    await api.ready;
    const handle = api.submit({ payload: { label: 'never' } });
    expect(await handle.enqueued).toBe(true);
    expect(api.cancel(handle.id)).toBe(true);
    await expect(handle.result).rejects.toMatchObject({ code: 'CANCELLED' });
    // Gone from Redis (BullMQ keeps a job as a hash under prefix:queue:id).
    await eventually(async () => ((await redis.exists(`${prefix}:${name}:${handle.id}`)) === 0 ? true : undefined));
    expect(await api.cancelAnywhere(handle.id)).toBe(false);
    expect(api.cancel('no-such-job')).toBe(false);
  });

  it('cancels from another node a job running on a third: its signal fires, the submitter gets CANCELLED', async () => {
    const name = freshName();
    const submitter = node(name, 'submitter', { role: 'api' });
    const operator = node(name, 'operator', { role: 'api' });
    const reasons: unknown[] = [];
    const started = deferred<void>();
    node(name, 'worker', {
      role: 'worker',
      async run(payload, { signal, attempt }) {
        started.resolve();
        reasons.push(await abortOf(signal));
        return { ok: false, label: payload.label, attempt, node: 'worker' };
      },
    });
    const handle = submitter.submit({ payload: { label: 'long' } });
    await started.promise;
    expect(await operator.cancelAnywhere(handle.id)).toBe(true);
    await expect(handle.result).rejects.toMatchObject({ code: 'CANCELLED' });
    await eventually(() => (reasons.length === 1 ? true : undefined));
    expect(reasons[0]).toMatchObject({ code: 'CANCELLED' });
    // Once its run has stopped the job is finished, and there is nothing left to cancel.
    await eventually(async () => ((await operator.cancelAnywhere(handle.id)) ? undefined : true));
  });

  it('cancels through the submission signal', async () => {
    const queue = node(freshName(), 'all');
    const caller = new AbortController();
    const handle = queue.submit({ payload: { label: 'x', waitForAbort: true }, signal: caller.signal });
    expect(await handle.enqueued).toBe(true);
    caller.abort();
    await expect(handle.result).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('caller'),
    });
  });

  it('retries only what shouldRetry accepts, with backoff, and answers with the last attempt', async () => {
    const name = freshName();
    const api = node(name, 'api', {
      role: 'api',
    });
    const worker = node(name, 'worker', {
      role: 'worker',
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200, shouldRetry: (result) => !result.ok },
    });
    const startedAt = Date.now();
    const recovered = api.submit({ payload: { label: 'flaky', failFirst: 2 } });
    expect(await recovered.result).toMatchObject({ ok: true, attempt: 3 });
    // Two waits of at least half the capped exponential delay: 25 ms then 50 ms.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(75);
    expect(worker.stats()).toMatchObject({ retried: 2, completed: 1 });

    const exhausted = api.submit({ payload: { label: 'broken', failFirst: 10 } });
    expect(await exhausted.result).toMatchObject({ ok: false, attempt: 3 });
  });

  it('does not retry a run that throws: the submitter gets its error', async () => {
    const name = freshName();
    let runs = 0;
    const queue = node(name, 'all', {
      retry: { maxAttempts: 3, shouldRetry: () => true },
      async run() {
        runs++;
        throw new HarnessError('TOOL_ERROR', 'the tool broke');
      },
    });
    const handle = queue.submit({ payload: { label: 'throws' } });
    await expect(handle.result).rejects.toMatchObject({ code: 'TOOL_ERROR', message: 'the tool broke' });
    expect(runs).toBe(1);
    expect(queue.stats()).toMatchObject({ failed: 1, retried: 0 });
  });

  it('delivers the events of a run on another node to the submitter, all before the result', async () => {
    const name = freshName();
    const api = node(name, 'api', { role: 'api' });
    node(name, 'worker', {
      role: 'worker',
      async run(payload, { emit, attempt }) {
        for (let i = 1; i <= 20; i++) emit(`${payload.label} ${i}`);
        return { ok: true, label: payload.label, attempt, node: 'worker' };
      },
    });
    const events: string[] = [];
    const handle = api.submit({ payload: { label: 'step' }, onEvent: (event) => events.push(event) });
    await handle.result;
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => `step ${i + 1}`));
  });

  it('hands a running job to another node when its node shuts down', async () => {
    const name = freshName();
    const api = node(name, 'api', { role: 'api' });
    const started = deferred<void>();
    const leaving = node(name, 'leaving', {
      role: 'worker',
      async run(payload, { signal, attempt }) {
        started.resolve();
        await abortOf(signal);
        return { ok: false, label: payload.label, attempt, node: 'leaving' };
      },
    });
    const handle = api.submit({ payload: { label: 'moved' } });
    await started.promise;
    await leaving.close({ graceMs: 50 });
    node(name, 'staying', { role: 'worker' });
    expect(await handle.result).toMatchObject({ ok: true, label: 'moved', node: 'staying' });
  });

  it('answers a job by id on a node that did not submit it (after its submitter is gone)', async () => {
    const name = freshName();
    const worker = node(name, 'worker', { role: 'worker' });
    await worker.ready;
    const first = node(name, 'first', { role: 'api' });
    const handle = first.submit({ payload: { label: 'kept' } });
    expect(await handle.result).toMatchObject({ label: 'kept' });
    await first.close({ graceMs: 0 });

    const later = node(name, 'later', { role: 'api' });
    const attached = await later.attach(handle.id);
    expect(await attached?.result).toMatchObject({ ok: true, label: 'kept' });
    expect(await later.attach('never-submitted')).toBeUndefined();
  });

  it('refuses a payload that is not JSON and an id that is taken', async () => {
    const name = freshName();
    const queue = node(name, 'all');
    expect(() => queue.submit({ payload: { label: 'x', run: () => {} } as unknown as Payload })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    const handle = queue.submit({ id: 'fixed-id', payload: { label: 'x' } });
    expect(() => queue.submit({ id: 'fixed-id', payload: { label: 'y' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    await handle.result;
    // Taken on another node (or earlier): refused once Redis says so.
    const elsewhere = node(name, 'other', { role: 'api' });
    await expect(elsewhere.submit({ id: 'fixed-id', payload: { label: 'z' } }).result).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });

  it('rejects waiting submissions with SHUTDOWN when it closes, and refuses new ones', async () => {
    const api = node(freshName(), 'api', { role: 'api' });
    await api.ready;
    const handle = api.submit({ payload: { label: 'stranded' } });
    expect(await handle.enqueued).toBe(true);
    const shutDown = expect(handle.result).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await api.close({ graceMs: 20 });
    await shutDown;
    expect(() => api.submit({ payload: { label: 'late' } })).toThrow(expect.objectContaining({ code: 'SHUTDOWN' }));
  });
});

/** The HarnessError a submission is refused with, thrown at once or rejected later. */
async function refusalOf(submit: () => { result: Promise<unknown> }): Promise<HarnessError | undefined> {
  try {
    await submit().result;
    return undefined;
  } catch (error) {
    return error as HarnessError;
  }
}

function abortOf(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}
