/**
 * Three harness nodes in separate processes on one Redis: jobs submitted across them complete
 * exactly once, a node killed mid-run loses no job and duplicates no result, a spawned task and
 * an approval are handled from a node other than the one that started them, and a task outlives
 * the node that ran it.
 */
import type { PendingApproval } from '@script-harness/policy';
import type { TaskRecord } from '@script-harness/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type NodeReport, startNode, type TestNode } from './test-cluster.ts';
import { connectTestRedis, deleteKeys, testPrefix } from './testing.ts';

// Without Redis this file fails to load, with a message that says how to start one.
const redis = await connectTestRedis();

describe('three nodes on one Redis', () => {
  const prefix = testPrefix('cluster');
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;
  const extra: TestNode[] = [];

  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      startNode({ id: 'a', prefix }),
      startNode({ id: 'b', prefix }),
      startNode({ id: 'c', prefix }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a, b, c, ...extra].filter((node) => node !== undefined).map((node) => node.stop()));
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }, 30_000);

  /** Collects the results and failures the given nodes' submissions get, by job id. */
  function collectResults(nodes: readonly TestNode[]) {
    const results = new Map<string, Extract<NodeReport, { type: 'result' }>[]>();
    const failures: Extract<NodeReport, { type: 'failure' }>[] = [];
    const stops = nodes.map((node) =>
      node.onReport((report) => {
        if (report.type === 'result') results.set(report.id, [...(results.get(report.id) ?? []), report]);
        if (report.type === 'failure') failures.push(report);
      }),
    );
    const stop = () => {
      for (const stopOne of stops) stopOne();
    };
    return { results, failures, stop };
  }

  it('completes 500 jobs submitted across the nodes exactly once each', async () => {
    const nodes = [a, b, c];
    const collected = collectResults(nodes);
    const runs = new Map<string, number>();
    const stopCounting = nodes.map((node) =>
      node.onReport((report) => {
        if (report.type === 'started') runs.set(report.id, (runs.get(report.id) ?? 0) + 1);
      }),
    );
    const ids = Array.from({ length: 500 }, (_, i) => `bulk-${i}`);
    await Promise.all(
      nodes.map((node, n) => node.call({ type: 'submit', ids: ids.filter((_, i) => i % nodes.length === n) })),
    );

    await eventually(() => (collected.results.size + collected.failures.length >= 500 ? true : undefined), 30_000);
    // A moment for any duplicate to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    collected.stop();
    for (const stop of stopCounting) stop();

    expect(collected.failures).toEqual([]);
    expect(collected.results.size).toBe(500);
    for (const id of ids) {
      const delivered = collected.results.get(id) ?? [];
      expect(delivered).toHaveLength(1);
      expect(delivered[0]?.value.id).toBe(id);
    }
    // Every job ran; a run repeated because a busy node renewed its lock late would still answer once.
    expect(runs.size).toBe(500);
    // The work was shared: every node ran some of it.
    const ranBy = new Set([...collected.results.values()].map((delivered) => delivered[0]?.value.node));
    expect(ranBy).toEqual(new Set(['a', 'b', 'c']));
  }, 40_000);

  it('decides on node B an approval raised on node A, bound to the argument hash', async () => {
    const seenOnB = new Promise<PendingApproval>((resolve) => {
      const stop = b.onReport((report) => {
        if (report.type === 'approval-requested') {
          stop();
          resolve(report.approval);
        }
      });
    });
    const outcome = a.call<{ approved: boolean; by?: string }>({
      type: 'approval-request',
      args: { path: 'notes/old.txt' },
    });
    const approval = await seenOnB;
    const pendingOnB = await b.call<PendingApproval[]>({ type: 'approval-pending' });
    expect(pendingOnB.map((pending) => pending.id)).toContain(approval.id);
    expect(await c.call({ type: 'approval-get', id: approval.id })).toMatchObject({
      state: { status: 'pending' },
      tenant: 'tenant-a',
    });

    // Shown other arguments: refused, and nothing is decided.
    const refused = await b.call({
      type: 'approval-decide',
      id: approval.id,
      decision: 'approve',
      by: 'reviewer',
      argsHash: '0'.repeat(64),
    });
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining('argsHash differs') });

    const decided = await b.call({
      type: 'approval-decide',
      id: approval.id,
      decision: 'approve',
      by: 'reviewer',
      argsHash: approval.argsHash,
    });
    expect(decided).toEqual({ ok: true, status: 'approved' });
    expect(await outcome).toMatchObject({ approved: true, by: 'reviewer' });

    // Every node hears of the decision, and a second one is refused.
    await eventually(async () => {
      const seen = await c.call<{ state: { status: string } | null }>({ type: 'approval-get', id: approval.id });
      return seen.state?.status === 'approved' ? true : undefined;
    });
    expect(await c.call<PendingApproval[]>({ type: 'approval-pending' })).toEqual([]);
    expect(
      await c.call({ type: 'approval-decide', id: approval.id, decision: 'deny', by: 'someone else' }),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('already settled') });
  });

  it('fetches and cancels on node B a task spawned on node A', async () => {
    const aborted = new Promise<string>((resolve) => {
      const stop = a.onReport((report) => {
        if (report.type === 'tool-aborted') {
          stop();
          resolve(report.reason);
        }
      });
    });
    const { id } = await a.call<{ id: string }>({ type: 'spawn', ms: 20_000 });
    const running = await eventually(async () => {
      const task = await b.call<TaskRecord | null>({ type: 'task-get', id });
      return task?.status === 'running' ? task : undefined;
    });
    expect(running).toMatchObject({ id, tool: 'wait', tenant: 'tenant-a', args: { ms: 20_000 } });

    const cancelled = await b.call<TaskRecord>({ type: 'task-cancel', id });
    expect(cancelled).toMatchObject({ id, status: 'cancelled', error: { code: 'CANCELLED' } });
    // The cancel written on B stops the tool running on A.
    expect(await aborted).toBe('CANCELLED');
    expect(await c.call({ type: 'task-get', id })).toMatchObject({ status: 'cancelled' });
  });

  it('loses no job and duplicates no result when a worker node is killed mid-run', async () => {
    const collected = collectResults([a, b]);
    const startedOnC: string[] = [];
    const killedMidRun = new Promise<string>((resolve) => {
      const stop = c.onReport((report) => {
        if (report.type !== 'started') return;
        startedOnC.push(report.id);
        // Killed while this job sleeps on C: C never finishes it.
        if (startedOnC.length === 4) {
          stop();
          void c.kill().then(() => resolve(report.id));
        }
      });
    });
    const ids = Array.from({ length: 120 }, (_, i) => `crash-${i}`);
    await Promise.all([
      a.call({ type: 'submit', ids: ids.filter((_, i) => i % 2 === 0), sleepMs: 250 }),
      b.call({ type: 'submit', ids: ids.filter((_, i) => i % 2 === 1), sleepMs: 250 }),
    ]);
    const interrupted = await killedMidRun;

    await eventually(
      () => (collected.results.size + collected.failures.length >= ids.length ? true : undefined),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    collected.stop();

    expect(collected.failures).toEqual([]);
    expect(collected.results.size).toBe(ids.length);
    for (const id of ids) expect(collected.results.get(id)).toHaveLength(1);
    // The job C was running when it died was run again elsewhere.
    expect(collected.results.get(interrupted)?.[0]?.value.node).not.toBe('c');
  }, 45_000);

  it('runs a task again on another node when the node that ran it dies, and keeps its jobs answerable', async () => {
    const d = await startNode({ id: 'd', prefix });
    extra.push(d);
    await d.call({ type: 'submit', ids: ['orphaned-job'], sleepMs: 400 });
    const { id } = await d.call<{ id: string }>({ type: 'spawn', ms: 600 });
    await eventually(async () => {
      const task = await a.call<TaskRecord | null>({ type: 'task-get', id });
      return task?.status === 'running' ? true : undefined;
    });
    await d.kill();

    const ended = await eventually(async () => {
      const task = await b.call<TaskRecord | null>({ type: 'task-get', id });
      return task?.status === 'succeeded' ? task : undefined;
    }, 15_000);
    expect(ended.result).toMatchObject({ waited: 600 });
    expect(['a', 'b']).toContain((ended.result as { node: string }).node);

    // The job D submitted still runs to its end (on another node if D was running it), and any
    // node can fetch its result by id although its submitter is gone.
    expect(await a.call({ type: 'attach', id: 'orphaned-job' })).toMatchObject({ id: 'orphaned-job' });
  }, 30_000);
});
