/**
 * What the web console shows of approvals: each pending approval with the line of the script that
 * made the call and who asked (the tenant and request of the script), and the settled ones in a
 * bounded history, newest first. It listens to the broker; the decisions themselves still go
 * through `POST /v1/approvals/{id}`.
 */
import type { ApprovalState, ApprovalStatus, PendingApproval } from '@script-harness/policy';
import type { ServerApprovalBroker } from './coordination.ts';
import type { RunRecorder } from './run-recorder.ts';

/** A pending approval as the console shows it. */
export interface ApprovalView extends PendingApproval {
  /** Who asked: the tenant of the script's API key and the request that started it (when known on this node). */
  readonly requestedBy: { readonly tenant: string | undefined; readonly requestId: string | undefined };
}

export interface SettledApprovalView {
  readonly approval: ApprovalView;
  readonly status: Exclude<ApprovalStatus, 'pending'>;
  /** The tenant that decided; absent for timeouts and cancellations. */
  readonly by?: string;
  readonly reason?: string;
  /** Epoch milliseconds. */
  readonly settledAt: number;
}

export interface ApprovalFeedEvents {
  requested: (approval: ApprovalView, tenant: string) => void;
  settled: (settled: SettledApprovalView, tenant: string) => void;
}

export interface ApprovalFeed {
  /** The tenant's pending approvals, oldest first. */
  pending(tenant: string): ApprovalView[];
  /** The tenant's settled approvals, newest first. */
  history(tenant: string, limit?: number): SettledApprovalView[];
  /** Subscribes to new and settled approvals of every tenant; returns the function that unsubscribes. */
  on<E extends keyof ApprovalFeedEvents>(event: E, listener: ApprovalFeedEvents[E]): () => void;
  /** Stops listening to the broker. */
  close(): void;
}

export interface ApprovalFeedOptions {
  readonly broker: Pick<ServerApprovalBroker, 'pending' | 'on'>;
  readonly tenantOfApproval: (id: string) => string | undefined;
  readonly runs: Pick<RunRecorder, 'ownerOf'>;
  /** Settled approvals remembered, all tenants together (default 500). */
  readonly capacity?: number;
}

export const DEFAULT_APPROVAL_HISTORY = 500;

export function createApprovalFeed(options: ApprovalFeedOptions): ApprovalFeed {
  const { broker, tenantOfApproval, runs } = options;
  const capacity = options.capacity ?? DEFAULT_APPROVAL_HISTORY;
  const settled: { view: SettledApprovalView; tenant: string }[] = [];
  const listeners: { [E in keyof ApprovalFeedEvents]: Set<ApprovalFeedEvents[E]> } = {
    requested: new Set(),
    settled: new Set(),
  };

  const view = (approval: PendingApproval): ApprovalView => {
    // The calling line comes with the approval: the broker of the node running the script adds it.
    const owner = runs.ownerOf(approval.scriptId);
    return {
      ...approval,
      requestedBy: { tenant: owner?.tenant ?? tenantOfApproval(approval.id), requestId: owner?.requestId },
    };
  };

  const stopRequested = broker.on('requested', (approval) => {
    const tenant = tenantOfApproval(approval.id);
    if (tenant === undefined) return;
    const shown = view(approval);
    for (const listener of listeners.requested) listener(shown, tenant);
  });
  const stopDecided = broker.on('decided', (state: ApprovalState) => {
    const tenant = tenantOfApproval(state.approval.id);
    if (tenant === undefined || state.status === 'pending') return;
    const entry: SettledApprovalView = {
      approval: view(state.approval),
      status: state.status,
      ...(state.by === undefined ? {} : { by: state.by }),
      ...(state.reason === undefined ? {} : { reason: state.reason }),
      settledAt: state.settledAt ?? Date.now(),
    };
    settled.push({ view: entry, tenant });
    if (settled.length > capacity) settled.splice(0, settled.length - capacity);
    for (const listener of listeners.settled) listener(entry, tenant);
  });

  return {
    pending: (tenant) =>
      broker
        .pending()
        .filter((approval) => tenantOfApproval(approval.id) === tenant)
        .map(view),
    history(tenant, limit = capacity) {
      const found: SettledApprovalView[] = [];
      for (let index = settled.length - 1; index >= 0 && found.length < limit; index--) {
        const entry = settled[index];
        if (entry !== undefined && entry.tenant === tenant) found.push(entry.view);
      }
      return found;
    },
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    close() {
      stopRequested();
      stopDecided();
    },
  };
}
