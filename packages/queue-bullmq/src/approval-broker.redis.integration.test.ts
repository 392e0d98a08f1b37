/**
 * The Redis approval broker against a real Redis, with broker instances (nodes) in this process:
 * listing and deciding from any node, the binding to the argument hash, timeouts, cancellation,
 * and a holder that is gone.
 */
import type { ToolCallRequest } from '@script-harness/core';
import { approvalHash, type PendingApproval } from '@script-harness/policy';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createRedisApprovalBroker,
  type RedisApprovalBroker,
  type RedisApprovalBrokerOptions,
} from './approval-broker.ts';
import { eventually } from './test-cluster.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testPrefix } from './testing.ts';

// Without Redis this file fails to load, with a message that says how to start one.
const redis = await connectTestRedis();

describe('the Redis approval broker', () => {
  const prefix = testPrefix('approvals');
  let open: RedisApprovalBroker[] = [];
  let clusterNumber = 0;
  /** The prefix of the brokers the last `cluster` call made. */
  let shared = '';

  afterEach(async () => {
    await Promise.all(open.map((broker) => broker.close()));
    open = [];
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  async function cluster(count: number, options: Partial<RedisApprovalBrokerOptions> = {}) {
    shared = `${prefix}:${++clusterNumber}`;
    const brokers = Array.from({ length: count }, (_, i) =>
      createRedisApprovalBroker({
        connection: TEST_REDIS_URL,
        prefix: shared,
        nodeId: `node-${i}`,
        tenantOf: (request) => (request.scriptId.startsWith('acme') ? 'acme' : undefined),
        ...options,
      }),
    );
    open.push(...brokers);
    await Promise.all(brokers.map((broker) => broker.ready));
    return brokers;
  }

  const call = (args: unknown, sequence = 1): ToolCallRequest => ({
    scriptId: 'acme-script',
    callId: String(sequence),
    sequence,
    tool: 'deleteFile',
    args,
    toolRequiresApproval: true,
  });

  /** The approval `broker` announces next. */
  const nextRequested = (broker: RedisApprovalBroker) =>
    new Promise<PendingApproval>((resolve) => {
      const stop = broker.on('requested', (approval) => {
        stop();
        resolve(approval);
      });
    });

  it('shows on every node what is held on one, with the argument hash of the policy package', async () => {
    const [holder, other] = (await cluster(2)) as [RedisApprovalBroker, RedisApprovalBroker];
    const announced = nextRequested(other);
    const request = call({ path: 'a.txt', token: 'secret-value' });
    const outcome = holder.request(request, new AbortController().signal);
    const approval = await announced;
    expect(approval.argsHash).toBe(approvalHash(request));
    expect(JSON.stringify(approval.args)).not.toContain('secret-value');
    expect(other.pending().map((pending) => pending.id)).toEqual([approval.id]);
    expect(other.get(approval.id)).toMatchObject({ status: 'pending' });
    expect(other.tenantOf(approval.id)).toBe('acme');

    const decided = new Promise((resolve) => other.on('decided', resolve));
    expect(await other.decide(approval.id, 'deny', 'reviewer', 'not today')).toEqual({ ok: true, status: 'denied' });
    expect(await outcome).toEqual({ approved: false, by: 'reviewer', reason: 'not today' });
    expect(await decided).toMatchObject({ status: 'denied', by: 'reviewer' });
    expect(other.pending()).toEqual([]);
    expect(await other.fetch(approval.id)).toMatchObject({ status: 'denied', by: 'reviewer', reason: 'not today' });
  });

  it('lets only the first of two nodes deciding at once win', async () => {
    const [holder, first, second] = (await cluster(3)) as [
      RedisApprovalBroker,
      RedisApprovalBroker,
      RedisApprovalBroker,
    ];
    const announced = Promise.all([nextRequested(first), nextRequested(second)]);
    const outcome = holder.request(call({ path: 'b.txt' }), new AbortController().signal);
    const [approval] = await announced;
    const results = await Promise.all([
      first.decide(approval.id, 'approve', 'one', undefined, { argsHash: approval.argsHash }),
      second.decide(approval.id, 'deny', 'two'),
    ]);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.find((result) => !result.ok)).toMatchObject({ reason: expect.stringContaining('already settled') });
    expect((await outcome).by).toBe(results[0]?.ok === true ? 'one' : 'two');
  });

  it('times out on the holder and tells every node', async () => {
    const [holder, other] = (await cluster(2, { timeoutMs: 150 })) as [RedisApprovalBroker, RedisApprovalBroker];
    const announced = nextRequested(other);
    const outcome = holder.request(call({ path: 'c.txt' }), new AbortController().signal);
    const approval = await announced;
    expect(await outcome).toMatchObject({ approved: false, timedOut: true });
    await eventually(() => (other.get(approval.id)?.status === 'timeout' ? true : undefined));
    expect(await other.decide(approval.id, 'approve', 'late')).toMatchObject({ ok: false });
  });

  it('settles as cancelled when the held call is aborted', async () => {
    const [holder, other] = (await cluster(2)) as [RedisApprovalBroker, RedisApprovalBroker];
    const controller = new AbortController();
    const announced = nextRequested(other);
    const outcome = holder.request(call({ path: 'd.txt' }), controller.signal);
    const approval = await announced;
    controller.abort();
    expect(await outcome).toMatchObject({ approved: false });
    await eventually(() => (other.get(approval.id)?.status === 'cancelled' ? true : undefined));
  });

  it('refuses a decision for an approval whose node is gone, and drops it', async () => {
    const [broker] = (await cluster(1)) as [RedisApprovalBroker];
    // What a node that crashed while holding a call leaves behind: a pending record nobody listens for.
    const approval: PendingApproval = {
      id: 'left-behind',
      scriptId: 'acme-script',
      callId: '1',
      sequence: 1,
      tool: 'deleteFile',
      args: { path: 'f.txt' },
      argsHash: approvalHash(call({ path: 'f.txt' })),
      createdAt: Date.now(),
      expiresAt: Date.now() + 60_000,
    };
    await redis.hset(`${shared}:approval:left-behind`, {
      approval: JSON.stringify(approval),
      holder: 'crashed-node',
      status: 'pending',
    });
    await redis.zadd(`${shared}:pending`, approval.expiresAt, approval.id);

    const result = await broker.decide(approval.id, 'approve', 'reviewer', undefined, { argsHash: approval.argsHash });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('gone') });
    expect(await broker.fetch(approval.id)).toMatchObject({ status: 'cancelled' });
    await eventually(() => (broker.get(approval.id)?.status === 'cancelled' ? true : undefined));
    expect(await redis.zscore(`${shared}:pending`, approval.id)).toBeNull();
  });

  it('rejects malformed decisions without asking anyone', async () => {
    const [broker] = (await cluster(1)) as [RedisApprovalBroker];
    expect(await broker.decide('nope', 'approve', 'me')).toEqual({
      ok: false,
      reason: 'no pending approval has this id',
    });
    expect(await broker.decide('nope', 'maybe' as 'approve', 'me')).toMatchObject({ ok: false });
    expect(await broker.decide('nope', 'deny', ' ')).toEqual({ ok: false, reason: 'say who decides (by)' });
  });
});
