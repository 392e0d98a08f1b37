import { describe, expect, it } from 'vitest';
import { EMPTY_FEED, reduceApprovalEvent } from './approval-feed.ts';
import type { PendingApproval } from './types.ts';

function approval(id: string): PendingApproval {
  return {
    id,
    scriptId: 's1',
    callId: '1',
    sequence: 1,
    tool: 'writeFile',
    args: { path: 'a' },
    argsHash: 'h',
    createdAt: 0,
    expiresAt: 60_000,
    requestedBy: { tenant: 'alpha', requestId: undefined },
  };
}

describe('reduceApprovalEvent', () => {
  it('starts from the snapshot, adds new approvals once, and moves settled ones to the history', () => {
    let state = reduceApprovalEvent(EMPTY_FEED, 'snapshot', { serverTime: Date.now(), pending: [approval('a')] });
    expect(state.connected).toBe(true);
    expect(Math.abs(state.clockOffsetMs)).toBeLessThan(1000);
    state = reduceApprovalEvent(state, 'approval_requested', approval('b'));
    state = reduceApprovalEvent(state, 'approval_requested', approval('b'));
    expect(state.pending.map((known) => known.id)).toEqual(['a', 'b']);
    state = reduceApprovalEvent(state, 'approval_settled', {
      approval: approval('a'),
      status: 'denied',
      by: 'alpha',
      reason: 'no',
      settledAt: 1,
    });
    expect(state.pending.map((known) => known.id)).toEqual(['b']);
    expect(state.history.map((settled) => [settled.approval.id, settled.status])).toEqual([['a', 'denied']]);
  });

  it('replaces the pending list with each new snapshot (after a reconnect)', () => {
    const before = reduceApprovalEvent(EMPTY_FEED, 'approval_requested', approval('gone'));
    const after = reduceApprovalEvent(before, 'snapshot', { serverTime: 0, pending: [approval('x')] });
    expect(after.pending.map((known) => known.id)).toEqual(['x']);
    expect(reduceApprovalEvent(after, 'unknown', {})).toBe(after);
  });
});
