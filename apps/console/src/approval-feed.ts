/**
 * The caller's approvals, live: one stream (`GET /v1/approvals/events`) for the whole page, so the
 * navigation shows how many wait, the playground can decide its own held calls, and the approvals
 * page lists them. Reconnects after a dropped stream; each connection starts with a snapshot.
 */
import { useEffect, useState } from 'preact/hooks';
import { type ApiClient, ApiError } from './api.ts';
import type { PendingApproval, SettledApproval } from './types.ts';

export interface ApprovalFeedState {
  readonly pending: readonly PendingApproval[];
  /** Newest first. */
  readonly history: readonly SettledApproval[];
  readonly connected: boolean;
  readonly problem?: string;
  /** Server time minus this page's time. */
  readonly clockOffsetMs: number;
}

const RECONNECT_MS = 2000;
const MAX_HISTORY = 200;

export function reduceApprovalEvent(state: ApprovalFeedState, event: string, data: unknown): ApprovalFeedState {
  switch (event) {
    case 'snapshot': {
      const snapshot = data as { serverTime: number; pending: PendingApproval[] };
      return {
        ...state,
        pending: snapshot.pending,
        connected: true,
        clockOffsetMs: snapshot.serverTime - Date.now(),
      };
    }
    case 'approval_requested': {
      const approval = data as PendingApproval;
      if (state.pending.some((known) => known.id === approval.id)) return state;
      return { ...state, pending: [...state.pending, approval] };
    }
    case 'approval_settled': {
      const settled = data as SettledApproval;
      return {
        ...state,
        pending: state.pending.filter((known) => known.id !== settled.approval.id),
        history: [settled, ...state.history.filter((known) => known.approval.id !== settled.approval.id)].slice(
          0,
          MAX_HISTORY,
        ),
      };
    }
    default:
      return state;
  }
}

export const EMPTY_FEED: ApprovalFeedState = { pending: [], history: [], connected: false, clockOffsetMs: 0 };

export function useApprovalFeed(
  api: ApiClient,
  enabled: boolean,
  onUnauthorized: (error: ApiError) => void,
): ApprovalFeedState {
  const [state, setState] = useState<ApprovalFeedState>(EMPTY_FEED);
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    const { signal } = controller;
    const loop = async () => {
      while (!signal.aborted) {
        try {
          const history = await api.approvalHistory(signal);
          setState((current) => ({ ...current, history }));
          for await (const { event, data } of api.approvalEvents(signal)) {
            setState((current) => ({ ...reduceApprovalEvent(current, event, data), problem: undefined }));
          }
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError && error.status === 401) {
            onUnauthorized(error);
            return;
          }
          setState((current) => ({
            ...current,
            connected: false,
            problem: error instanceof Error ? error.message : String(error),
          }));
        }
        setState((current) => ({ ...current, connected: false }));
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    };
    void loop();
    return () => controller.abort();
  }, [api, enabled]);
  return state;
}
