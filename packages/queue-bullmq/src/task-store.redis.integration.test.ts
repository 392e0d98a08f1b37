/**
 * The Redis task store against a real Redis, with two store instances (two nodes) in this
 * process: the TaskStore contract (atomic cap, compare-and-set, listing, change notifications
 * across nodes) and the hand-over of a node's live tasks when it shuts down or dies.
 */
import { defineTool } from '@script-harness/core';
import { createSpawnTools, type TaskRecord } from '@script-harness/tools';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedisTaskStore, type RedisTaskStore, type RedisTaskStoreOptions } from './task-store.ts';
import { eventually } from './test-cluster.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testPrefix } from './testing.ts';

// Without Redis this file fails to load, with a message that says how to start one.
const redis = await connectTestRedis();

describe('the Redis task store', () => {
  const prefix = testPrefix('tasks');
  let open: RedisTaskStore[] = [];
  let storeNumber = 0;

  afterEach(async () => {
    await Promise.all(open.map((store) => store.close({ handOff: false })));
    open = [];
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** Stores that share one prefix of their own (one per test). */
  function cluster(count: number, options: Partial<RedisTaskStoreOptions> = {}): RedisTaskStore[] {
    const shared = `${prefix}:${++storeNumber}`;
    const stores = Array.from({ length: count }, (_, i) =>
      createRedisTaskStore({
        connection: TEST_REDIS_URL,
        prefix: shared,
        nodeId: `node-${i}`,
        heartbeatMs: 100,
        ownerTimeoutMs: 400,
        ...options,
      }),
    );
    open.push(...stores);
    return stores;
  }

  const task = (id: string, overrides: Partial<TaskRecord> = {}): TaskRecord => ({
    id,
    tenant: 'acme',
    tool: 'wait',
    args: { ms: 10, list: [], nested: { ratio: 0.30000000000000004 } },
    status: 'queued',
    startedAt: Date.now(),
    deadline: Date.now() + 60_000,
    scriptId: 'script-1',
    ...overrides,
  });

  it('keeps a task exactly as it was given, JSON values included', async () => {
    const [store] = cluster(1) as [RedisTaskStore];
    const created = task('exact');
    expect(await store.create(created)).toBe(true);
    expect(await store.get('exact')).toEqual(created);
    const ended = await store.update('exact', { status: 'succeeded', endedAt: 5, result: { rows: [], n: 1e21 } });
    expect(ended).toEqual({ ...created, status: 'succeeded', endedAt: 5, result: { rows: [], n: 1e21 } });
    await expect(store.create(created)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await store.get('missing')).toBeUndefined();
  });

  it('caps live tasks per tenant atomically across nodes', async () => {
    const [first, second] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    const attempts = Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? first : second).create(task(`capped-${i}`), { maxLive: 3 }),
    );
    const accepted = (await Promise.all(attempts)).filter(Boolean);
    expect(accepted).toHaveLength(3);
    // Another tenant has its own cap; an ended task frees a place.
    expect(await first.create(task('other-tenant', { tenant: 'globex' }), { maxLive: 3 })).toBe(true);
    const live = await first.list({ tenant: 'acme', statuses: ['queued', 'running'] });
    expect(live).toHaveLength(3);
    await second.update((live[0] as TaskRecord).id, { status: 'cancelled', endedAt: Date.now() });
    expect(await first.create(task('after-one-ended'), { maxLive: 3 })).toBe(true);
  });

  it('applies an update only from the given statuses (compare-and-set)', async () => {
    const [first, second] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    await first.create(task('raced'));
    const outcomes = await Promise.all([
      first.update('raced', { status: 'succeeded', endedAt: 1, result: 'first' }, { from: ['queued', 'running'] }),
      second.update('raced', { status: 'cancelled', endedAt: 2 }, { from: ['queued', 'running'] }),
    ]);
    expect(outcomes.filter((outcome) => outcome !== undefined)).toHaveLength(1);
    const final = await first.get('raced');
    expect(['succeeded', 'cancelled']).toContain(final?.status);
    expect(await first.update('raced', { status: 'running' }, { from: ['queued'] })).toBeUndefined();
    expect(await first.update('missing', { status: 'running' })).toBeUndefined();
  });

  it('lists newest first, by tenant and status, up to a limit', async () => {
    const [store] = cluster(1) as [RedisTaskStore];
    const now = Date.now();
    for (let i = 0; i < 5; i++) await store.create(task(`listed-${i}`, { startedAt: now + i }));
    await store.create(task('listed-other', { tenant: 'globex', startedAt: now + 10 }));
    await store.update('listed-1', { status: 'failed', endedAt: now });
    expect((await store.list({ tenant: 'acme' })).map((t) => t.id)).toEqual([
      'listed-4',
      'listed-3',
      'listed-2',
      'listed-1',
      'listed-0',
    ]);
    expect((await store.list({ tenant: 'acme', statuses: ['failed'] })).map((t) => t.id)).toEqual(['listed-1']);
    expect((await store.list({ limit: 2 })).map((t) => t.id)).toEqual(['listed-other', 'listed-4']);
  });

  it('tells the subscribers on every node about each change', async () => {
    const [first, second] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    await first.create(task('watched'));
    const seen: string[] = [];
    const stop = second.subscribe('watched', (changed) => seen.push(changed.status));
    await first.update('watched', { status: 'running' });
    await first.update('watched', { status: 'succeeded', endedAt: 1, result: 1 });
    await eventually(() => (seen.length === 2 ? true : undefined));
    expect(seen).toEqual(['running', 'succeeded']);
    stop();
  });

  it('hands its live tasks to another node when it shuts down, and ignores its own late writes', async () => {
    const [leaving, staying] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    const ran: string[] = [];
    const echo = defineTool({
      name: 'wait',
      description: 'Returns at once.',
      input: z.object({ ms: z.number() }).passthrough(),
      async execute(args) {
        ran.push('staying');
        return { waited: args.ms };
      },
    });
    await Promise.all([leaving.ready, staying.ready]);
    await leaving.create(task('handed-over', { status: 'running' }));
    staying.adopt({ tools: [echo] });
    await leaving.close();
    expect(await leaving.update('handed-over', { status: 'cancelled', endedAt: 1 })).toBeUndefined();

    const done = await eventually(async () => {
      const current = await staying.get('handed-over');
      return current?.status === 'succeeded' ? current : undefined;
    });
    expect(done.result).toEqual({ waited: 10 });
    expect(ran).toEqual(['staying']);
  });

  it('queues again the tasks of a node that stopped heartbeating; a restarted node takes its own back', async () => {
    const [dying, watching] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    await Promise.all([dying.ready, watching.ready]);
    await dying.create(task('orphan', { status: 'running' }));
    // Dies without a word: no hand-over, no more heartbeats.
    await dying.close({ handOff: false });
    // The other node's heartbeat finds the silence and queues the task again.
    await eventually(async () => ((await watching.get('orphan'))?.status === 'queued' ? true : undefined));
    expect(await watching.reap()).toBe(0);

    const [restarted] = cluster(1, { prefix: `${prefix}:restart` }) as [RedisTaskStore];
    await restarted.create(task('mine', { status: 'running' }));
    await restarted.close({ handOff: false });
    const [again] = cluster(1, { prefix: `${prefix}:restart` }) as [RedisTaskStore];
    await again.ready;
    expect(await again.get('mine')).toMatchObject({ status: 'queued' });
  });

  it("backs the spawn tools: a task's outcome is readable from another node", async () => {
    const [first, second] = cluster(2) as [RedisTaskStore, RedisTaskStore];
    const add = defineTool({
      name: 'add',
      description: 'Adds two numbers.',
      input: z.strictObject({ a: z.number(), b: z.number() }),
      output: z.object({ sum: z.number() }),
      execute: ({ a, b }) => ({ sum: a + b }),
    });
    const spawnOnFirst = createSpawnTools({ tools: [add], store: first });
    const spawnCall = spawnOnFirst.tools.find((tool) => tool.name === 'spawn.call');
    if (spawnCall === undefined) throw new Error('the spawn tools have no spawn.call');
    const { id } = (await spawnCall.execute(
      { tool: 'add', args: { a: 2, b: 3 } },
      { signal: new AbortController().signal, callId: '1', scriptId: 's', maxOutputBytes: 10_000 },
    )) as { id: string };
    const ended = await eventually(async () => {
      const current = await second.get(id);
      return current?.status === 'succeeded' ? current : undefined;
    });
    expect(ended).toMatchObject({ tool: 'add', tenant: 'default', result: { sum: 5 } });
    await spawnOnFirst.close();
  });
});
