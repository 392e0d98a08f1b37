import type { ToolCallRequest } from '@script-harness/core';
import { createApprovalBroker } from '@script-harness/policy';
import { describe, expect, it } from 'vitest';
import { type ApprovalView, createApprovalFeed, type SettledApprovalView } from './approval-feed.ts';

function call(scriptId: string, sequence: number): ToolCallRequest {
  return {
    scriptId,
    callId: String(sequence),
    sequence,
    tool: 'writeFile',
    args: { path: 'a.txt', content: 'x', token: 'secret-token' },
    toolRequiresApproval: false,
  };
}

function setup(options: { capacity?: number } = {}) {
  const broker = createApprovalBroker({
    timeoutMs: 60_000,
    scriptExcerpt: ({ scriptId }) => (scriptId === 's1' ? 'line 2: await tools.writeFile(args)' : undefined),
  });
  const tenants = new Map<string, string>();
  const scriptTenants: Record<string, string> = { s1: 'alpha', s2: 'beta', s3: 'alpha' };
  broker.on('requested', (approval) => {
    const tenant = scriptTenants[approval.scriptId];
    if (tenant !== undefined) tenants.set(approval.id, tenant);
  });
  const feed = createApprovalFeed({
    broker,
    tenantOfApproval: (id) => tenants.get(id),
    runs: {
      ownerOf: (scriptId) =>
        scriptId === 's1' ? { tenant: 'alpha', requestId: 'req-1' } : { tenant: undefined, requestId: undefined },
    },
    ...options,
  });
  return { broker, feed };
}

describe('createApprovalFeed', () => {
  it("shows a tenant its pending approvals with the calling line and who asked, and nobody else's", async () => {
    const { broker, feed } = setup();
    const requested: [ApprovalView, string][] = [];
    feed.on('requested', (approval, tenant) => requested.push([approval, tenant]));
    const signal = new AbortController().signal;
    void broker.request(call('s1', 1), signal);
    void broker.request(call('s2', 1), signal);

    const [mine] = feed.pending('alpha');
    expect(feed.pending('alpha')).toHaveLength(1);
    expect(mine).toMatchObject({
      scriptId: 's1',
      tool: 'writeFile',
      args: { path: 'a.txt', token: '[redacted]' },
      scriptExcerpt: 'line 2: await tools.writeFile(args)',
      requestedBy: { tenant: 'alpha', requestId: 'req-1' },
    });
    expect(feed.pending('beta').map((approval) => approval.requestedBy.tenant)).toEqual(['beta']);
    expect(requested.map(([approval, tenant]) => [approval.scriptId, tenant])).toEqual([
      ['s1', 'alpha'],
      ['s2', 'beta'],
    ]);
    feed.close();
  });

  it('moves decided approvals to the history, newest first and per tenant, bounded', async () => {
    const { broker, feed } = setup({ capacity: 2 });
    const settled: [SettledApprovalView, string][] = [];
    feed.on('settled', (view, tenant) => settled.push([view, tenant]));
    const signal = new AbortController().signal;
    const first = broker.request(call('s1', 1), signal);
    const second = broker.request(call('s3', 2), signal);
    const third = broker.request(call('s1', 3), signal);
    const [a, b, c] = broker.pending();
    broker.decide(a?.id ?? '', 'approve', 'alpha', 'looks fine');
    broker.decide(b?.id ?? '', 'deny', 'alpha', 'not this one');
    expect(await first).toMatchObject({ approved: true });
    expect(await second).toMatchObject({ approved: false });
    expect(feed.pending('alpha').map((approval) => approval.sequence)).toEqual([3]);
    expect(feed.history('alpha').map((view) => [view.approval.sequence, view.status, view.by, view.reason])).toEqual([
      [2, 'denied', 'alpha', 'not this one'],
      [1, 'approved', 'alpha', 'looks fine'],
    ]);
    expect(feed.history('beta')).toEqual([]);
    broker.decide(c?.id ?? '', 'approve', 'alpha');
    await third;
    expect(feed.history('alpha').map((view) => view.approval.sequence)).toEqual([3, 2]);
    expect(feed.history('alpha', 1)).toHaveLength(1);
    expect(settled.map(([view, tenant]) => [view.status, tenant])).toEqual([
      ['approved', 'alpha'],
      ['denied', 'alpha'],
      ['approved', 'alpha'],
    ]);
  });

  it('records cancellations, and stops listening once closed', async () => {
    const { broker, feed } = setup();
    const controller = new AbortController();
    const pending = broker.request(call('s1', 1), controller.signal);
    controller.abort();
    await pending;
    expect(feed.history('alpha').map((view) => view.status)).toEqual(['cancelled']);
    feed.close();
    const later = broker.request(call('s1', 2), new AbortController().signal);
    broker.decide(broker.pending()[0]?.id ?? '', 'deny', 'alpha');
    await later;
    expect(feed.history('alpha')).toHaveLength(1);
  });
});
