/**
 * The approval broker: holds each call the policy asked about until a person approves or denies
 * it, the approval times out, or the call is cancelled. A held call pauses only the script that
 * made it. The broker never runs a tool; the engine does, after `request` resolves approved.
 *
 * An approval is bound to what was shown. At request time the broker keeps a deep-frozen clone of
 * `{ tool, args, sequence }` and its hash (`argsHash`, SHA-256 of canonical JSON); approving
 * re-checks that the stored clone and the engine's live arguments both still hash to it, and
 * refuses otherwise. The sequence number is in the hash, so one call's approval cannot be replayed
 * for a later identical call.
 */
import { randomBytes } from 'node:crypto';
import type { ApprovalBroker, ApprovalOutcome, ToolCallRequest } from '@script-harness/core';
import { canonicalJson, deepFreeze, sha256Hex } from './canonical.ts';
import { redactArgs } from './redact.ts';

export interface PendingApproval {
  /** Random and unguessable (144 bits): knowing an id is what lets a client decide it. */
  readonly id: string;
  readonly scriptId: string;
  readonly callId: string;
  readonly sequence: number;
  readonly tool: string;
  /** The arguments for display: secrets redacted, size bounded. */
  readonly args: unknown;
  /** SHA-256 (hex) of the canonical JSON of `{ tool, args, sequence }` with the full arguments. */
  readonly argsHash: string;
  /** The lines of the script around the call, when the broker was given a way to find them. */
  readonly scriptExcerpt?: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'timeout' | 'cancelled';

/** An approval and where it stands; settled ones are kept (a bounded number) for `get`. */
export interface ApprovalState {
  readonly approval: PendingApproval;
  readonly status: ApprovalStatus;
  readonly by?: string;
  readonly reason?: string;
  /** Epoch milliseconds, once settled. */
  readonly settledAt?: number;
}

export type DecideResult =
  | { readonly ok: true; readonly status: 'approved' | 'denied' }
  | { readonly ok: false; readonly reason: string };

export interface DecideOptions {
  /**
   * The `argsHash` the approver was shown. When given and it differs from the pending
   * approval's, nothing is decided: the approver looked at other arguments.
   */
  readonly argsHash?: string;
}

export interface ApprovalBrokerOptions {
  /** How long a call waits for a decision before it fails with `APPROVAL_TIMEOUT` (default 60 s). */
  readonly timeoutMs?: number;
  /** Display form of the arguments (default `redactArgs`). It only shapes what is shown. */
  readonly redact?: (args: unknown, tool: string) => unknown;
  /** Clock for `createdAt`, `expiresAt` and `settledAt` (default `Date.now`). */
  readonly now?: () => number;
  /** Finds the script lines around a call for display (the request carries no source). */
  readonly scriptExcerpt?: (request: ToolCallRequest) => string | undefined;
  /** Settled approvals remembered for `get` and for refusing a second decision (default 1000). */
  readonly maxSettled?: number;
  /** Receives errors thrown by event listeners (default: a process warning). */
  readonly onListenerError?: (error: unknown) => void;
}

export interface ApprovalBrokerEvents {
  requested: (approval: PendingApproval) => void;
  decided: (state: ApprovalState) => void;
}

export interface InteractiveApprovalBroker extends ApprovalBroker {
  /** Approvals waiting for a decision, oldest first. */
  pending(): PendingApproval[];
  /** Approves or denies a pending approval. Never throws; an unknown or settled id is `{ ok: false }`. */
  decide(id: string, decision: 'approve' | 'deny', by: string, reason?: string, options?: DecideOptions): DecideResult;
  get(id: string): ApprovalState | undefined;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof ApprovalBrokerEvents>(event: E, listener: ApprovalBrokerEvents[E]): () => void;
}

export const DEFAULT_APPROVAL_TIMEOUT_MS = 60_000;

/**
 * What a host does with calls the policy asks about: `ask` a person (a broker like this one, or a
 * prompt), `allow` or `deny` them at once. The server's `approvals.mode` and the CLI's `--approve`.
 */
export const APPROVE_MODES = Object.freeze(['ask', 'allow', 'deny'] as const);
export type ApproveMode = (typeof APPROVE_MODES)[number];

interface Waiting {
  readonly approval: PendingApproval;
  /** Deep-frozen clone of `{ tool, args, sequence }` taken when the approval was requested. */
  readonly bound: Readonly<{ tool: string; args: unknown; sequence: number }>;
  /** The engine's request: its `args` are what the tool will run with. */
  readonly original: ToolCallRequest;
  readonly settle: (status: Exclude<ApprovalStatus, 'pending'>, outcome: ApprovalOutcome) => void;
}

export function createApprovalBroker(options: ApprovalBrokerOptions = {}): InteractiveApprovalBroker {
  const timeoutMs = options.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive integer');
  const maxSettled = options.maxSettled ?? 1000;
  const now = options.now ?? Date.now;
  const redact = options.redact ?? ((args: unknown) => redactArgs(args));
  const reportListenerError =
    options.onListenerError ??
    ((error: unknown) =>
      process.emitWarning(
        `an approval event listener threw: ${error instanceof Error ? error.message : String(error)}`,
      ));

  const waiting = new Map<string, Waiting>();
  const settled = new Map<string, ApprovalState>();
  const listeners: { [E in keyof ApprovalBrokerEvents]: Set<ApprovalBrokerEvents[E]> } = {
    requested: new Set(),
    decided: new Set(),
  };

  const emit = <E extends keyof ApprovalBrokerEvents>(event: E, payload: Parameters<ApprovalBrokerEvents[E]>[0]) => {
    for (const listener of [...listeners[event]]) {
      try {
        (listener as (value: typeof payload) => void)(payload);
      } catch (error) {
        reportListenerError(error);
      }
    }
  };

  const remember = (state: ApprovalState) => {
    settled.set(state.approval.id, state);
    while (settled.size > maxSettled) {
      const oldest = settled.keys().next().value;
      if (oldest === undefined) break;
      settled.delete(oldest);
    }
  };

  function request(call: ToolCallRequest, signal: AbortSignal): Promise<ApprovalOutcome> {
    if (signal.aborted) {
      return Promise.resolve({ approved: false, reason: 'the call was cancelled before approval was requested' });
    }
    const binding = bindApproval(call, { redact, createdAt: now(), timeoutMs, scriptExcerpt: options.scriptExcerpt });
    if (binding === undefined) {
      // Arguments without a canonical JSON form cannot be bound to a decision; nothing to approve.
      return Promise.resolve({ approved: false, reason: 'the arguments of this call cannot be shown for approval' });
    }
    const { approval, bound } = binding;

    return new Promise<ApprovalOutcome>((resolve) => {
      const settle: Waiting['settle'] = (status, outcome) => {
        if (!waiting.delete(approval.id)) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const state: ApprovalState = Object.freeze({
          approval,
          status,
          ...(outcome.by === undefined ? {} : { by: outcome.by }),
          ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
          settledAt: now(),
        });
        remember(state);
        resolve(Object.freeze(outcome));
        emit('decided', state);
      };
      const onAbort = () =>
        settle('cancelled', { approved: false, reason: 'the call was cancelled while it waited for approval' });
      const timer = setTimeout(
        () => settle('timeout', { approved: false, timedOut: true, reason: `no decision within ${timeoutMs} ms` }),
        timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      waiting.set(approval.id, { approval, bound, original: call, settle });
      emit('requested', approval);
    });
  }

  function decide(
    id: string,
    decision: 'approve' | 'deny',
    by: string,
    reason?: string,
    decideOptions?: DecideOptions,
  ): DecideResult {
    // Decisions usually arrive over the wire: check the types the signature cannot promise.
    if (typeof id !== 'string') return { ok: false, reason: 'the approval id must be a string' };
    if (decision !== 'approve' && decision !== 'deny') {
      return { ok: false, reason: 'the decision must be "approve" or "deny"' };
    }
    if (typeof by !== 'string' || by.trim() === '') return { ok: false, reason: 'say who decides (by)' };
    if (reason !== undefined && typeof reason !== 'string') return { ok: false, reason: 'the reason must be a string' };
    const entry = waiting.get(id);
    if (entry === undefined) {
      const state = settled.get(id);
      return {
        ok: false,
        reason:
          state === undefined ? 'no pending approval has this id' : `the approval is already settled (${state.status})`,
      };
    }
    const because = reason === undefined ? {} : { reason };
    if (decision === 'deny') {
      entry.settle('denied', { approved: false, by, ...because });
      return { ok: true, status: 'denied' };
    }
    const expected = decideOptions?.argsHash;
    if (expected !== undefined && expected !== entry.approval.argsHash) {
      return {
        ok: false,
        reason: 'the approval was shown with other arguments (argsHash differs); nothing was decided',
      };
    }
    if (!isStillBound(entry)) {
      const refusal = 'the arguments changed after they were shown for approval';
      entry.settle('denied', { approved: false, reason: refusal });
      return { ok: false, reason: `${refusal}; the call was denied` };
    }
    entry.settle('approved', { approved: true, by, ...because });
    return { ok: true, status: 'approved' };
  }

  return {
    request,
    decide,
    pending: () => [...waiting.values()].map((entry) => entry.approval),
    get(id) {
      const entry = waiting.get(id);
      return entry === undefined ? settled.get(id) : Object.freeze({ approval: entry.approval, status: 'pending' });
    },
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
  };
}

/** The binding hash of a call: SHA-256 of the canonical JSON of `{ tool, args, sequence }`. */
export function approvalHash(call: Pick<ToolCallRequest, 'tool' | 'args' | 'sequence'>): string {
  return hashOf({ tool: call.tool, args: call.args, sequence: call.sequence });
}

function hashOf(bound: { tool: string; args: unknown; sequence: number }): string {
  return sha256Hex(canonicalJson(bound));
}

/** A call held for approval, bound to the frozen clone of what the approver is shown. */
export interface BoundApproval {
  readonly approval: PendingApproval;
  /** Deep-frozen clone of `{ tool, args, sequence }` taken when the approval was requested. */
  readonly bound: Readonly<{ tool: string; args: unknown; sequence: number }>;
}

/**
 * Binds a call to an approval: a frozen clone of the call, its hash (`approvalHash`) and the
 * redacted arguments shown to the approver. Undefined when the arguments have no canonical JSON
 * form (nothing could be bound to a decision). Every broker builds its approvals here.
 */
export function bindApproval(
  call: ToolCallRequest,
  options: {
    readonly redact: (args: unknown, tool: string) => unknown;
    readonly createdAt: number;
    readonly timeoutMs: number;
    readonly scriptExcerpt?: ((request: ToolCallRequest) => string | undefined) | undefined;
  },
): BoundApproval | undefined {
  let bound: BoundApproval['bound'];
  let argsHash: string;
  let shown: unknown;
  try {
    bound = deepFreeze(structuredClone({ tool: call.tool, args: call.args, sequence: call.sequence }));
    argsHash = hashOf(bound);
    shown = deepFreeze(structuredClone(options.redact(bound.args, bound.tool)));
  } catch {
    return undefined;
  }
  const excerpt = options.scriptExcerpt?.(call);
  const approval: PendingApproval = Object.freeze({
    id: randomBytes(18).toString('base64url'),
    scriptId: call.scriptId,
    callId: call.callId,
    sequence: call.sequence,
    tool: call.tool,
    args: shown,
    argsHash,
    ...(excerpt === undefined ? {} : { scriptExcerpt: excerpt }),
    createdAt: options.createdAt,
    expiresAt: options.createdAt + options.timeoutMs,
  });
  return { approval, bound };
}

/**
 * Whether what would be approved is still what was shown. The stored clone is frozen, so its
 * hash can only differ if something defeated the freeze; the engine's live arguments, which the
 * tool will run with, can have been changed by any code holding the request.
 */
export function isStillBound(held: BoundApproval & { readonly original: ToolCallRequest }): boolean {
  try {
    return hashOf(held.bound) === held.approval.argsHash && approvalHash(held.original) === held.approval.argsHash;
  } catch {
    return false;
  }
}
