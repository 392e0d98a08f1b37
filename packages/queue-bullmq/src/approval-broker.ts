/**
 * The approval broker of the policy package, shared through Redis: a call held for approval on
 * one node is listed on every node and can be decided on any of them.
 *
 * - The node whose script made the call holds it, exactly as the in-process broker does (the
 *   frozen clone, the binding hash, the timeout, the abort); nothing but that node settles it.
 * - The approval is written to Redis and announced on a channel; every node keeps a copy of the
 *   pending ones, which is what `pending()`, `get()` and the `requested`/`decided` events read.
 * - A decision made on another node is sent to the holder, which applies it with the same checks
 *   (the argument hash of what the approver saw, the arguments still bound) and replies; so
 *   `decide` is asynchronous here.
 *
 * The binding hash is the policy package's `approvalHash`, so an `argsHash` shown by any node
 * (or by the in-process broker) means the same call.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalBroker, ApprovalOutcome, ToolCallRequest } from '@script-harness/core';
import {
  type ApprovalBrokerEvents,
  type ApprovalState,
  type ApprovalStatus,
  bindApproval,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  type DecideOptions,
  type DecideResult,
  isStillBound,
  type PendingApproval,
  redactArgs,
} from '@script-harness/policy';
import type { Redis } from 'ioredis';
import {
  closeClient,
  createRedisClient,
  type ErrorReporter,
  type RedisConnection,
  throttled,
  warnOnError,
} from './connection.ts';
import { subscribeChannels } from './pubsub.ts';
import { defaultNodeId } from './queue.ts';
import { parseMessage } from './wire.ts';

export interface RedisApprovalBrokerOptions {
  readonly connection: RedisConnection;
  /** Prefix of every key and channel of the broker. Default `harness:approvals`. */
  readonly prefix?: string;
  /** This node's id, unique among running nodes. */
  readonly nodeId?: string;
  /** How long a call waits for a decision before it fails with `APPROVAL_TIMEOUT` (default 60 s). */
  readonly timeoutMs?: number;
  /** Display form of the arguments (default `redactArgs`). It only shapes what is shown. */
  readonly redact?: (args: unknown, tool: string) => unknown;
  /** Clock for `createdAt`, `expiresAt` and `settledAt` (default `Date.now`). */
  readonly now?: () => number;
  /** Finds the script lines around a call for display. */
  readonly scriptExcerpt?: (request: ToolCallRequest) => string | undefined;
  /** Whose call it is, kept with the approval so any node can tell (`tenantOf`). */
  readonly tenantOf?: (request: ToolCallRequest) => string | undefined;
  /** Settled approvals this node remembers for `get` (default 1000); Redis keeps them for `fetch`. */
  readonly maxSettled?: number;
  /** How long a settled approval stays in Redis (default 1 hour). */
  readonly retentionMs?: number;
  /** How long `decide` waits for the holding node to answer (default 5 s). */
  readonly decideTimeoutMs?: number;
  /** Receives errors thrown by event listeners (default: a process warning). */
  readonly onListenerError?: (error: unknown) => void;
  /** Where Redis trouble is reported (default: a process warning). */
  readonly onError?: ErrorReporter;
}

export interface RedisApprovalBroker extends ApprovalBroker {
  readonly nodeId: string;
  /** Resolves once the broker is subscribed and has read the approvals already pending. */
  readonly ready: Promise<void>;
  /** Approvals waiting for a decision on any node, oldest first. */
  pending(): PendingApproval[];
  /**
   * Approves or denies a pending approval held by any node. Never rejects; an unknown or settled
   * id, a changed argument hash or a holder that does not answer is `{ ok: false }`.
   */
  decide(
    id: string,
    decision: 'approve' | 'deny',
    by: string,
    reason?: string,
    options?: DecideOptions,
  ): Promise<DecideResult>;
  /** Where an approval stands, as this node last heard. */
  get(id: string): ApprovalState | undefined;
  /** Where an approval stands, read from Redis. */
  fetch(id: string): Promise<ApprovalState | undefined>;
  /** The tenant of an approval (from `options.tenantOf` on the node that holds it). */
  tenantOf(id: string): string | undefined;
  on<E extends keyof ApprovalBrokerEvents>(event: E, listener: ApprovalBrokerEvents[E]): () => void;
  /** Denies the calls this node still holds (their scripts are ending with the node) and stops listening. */
  close(): Promise<void>;
}

interface Held {
  readonly approval: PendingApproval;
  readonly bound: Readonly<{ tool: string; args: unknown; sequence: number }>;
  readonly original: ToolCallRequest;
  readonly settle: (status: Exclude<ApprovalStatus, 'pending'>, outcome: ApprovalOutcome) => void;
}

interface Known {
  readonly approval: PendingApproval;
  readonly holder: string;
  readonly tenant: string | undefined;
}

type BrokerMessage =
  | {
      readonly type: 'requested';
      readonly holder: string;
      readonly approval: PendingApproval;
      readonly tenant?: string;
    }
  | { readonly type: 'decided'; readonly holder: string; readonly state: ApprovalState };

interface DecisionMessage {
  readonly request: string;
  readonly replyTo: string;
  readonly id: string;
  readonly decision: 'approve' | 'deny';
  readonly by: string;
  readonly reason?: string;
  readonly argsHash?: string;
}

/** Marks a pending approval cancelled when its holder is gone; false when it was no longer pending. */
const ABANDON = `
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'reason', ARGV[2], 'settledAt', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

export function createRedisApprovalBroker(options: RedisApprovalBrokerOptions): RedisApprovalBroker {
  const timeoutMs = options.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be a positive integer');
  const prefix = options.prefix ?? 'harness:approvals';
  const nodeId = options.nodeId ?? defaultNodeId();
  const maxSettled = options.maxSettled ?? 1000;
  const retentionMs = options.retentionMs ?? 3_600_000;
  const decideTimeoutMs = options.decideTimeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  const redact = options.redact ?? ((args: unknown) => redactArgs(args));
  const report = throttled(options.onError ?? warnOnError);
  const reportListenerError =
    options.onListenerError ??
    ((error: unknown) =>
      process.emitWarning(
        `an approval event listener threw: ${error instanceof Error ? error.message : String(error)}`,
      ));
  const key = {
    approval: (id: string) => `${prefix}:approval:${id}`,
    pending: `${prefix}:pending`,
  };
  const channel = {
    events: `${prefix}:events`,
    decide: (node: string) => `${prefix}:decide:${node}`,
    reply: (node: string) => `${prefix}:reply:${node}`,
  };

  const client: Redis = createRedisClient(options.connection, `${nodeId}:approvals`, report);
  const held = new Map<string, Held>();
  const known = new Map<string, Known>();
  const settled = new Map<string, ApprovalState>();
  const settledTenants = new Map<string, string>();
  const replies = new Map<string, (result: DecideResult) => void>();
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

  const remember = (state: ApprovalState, tenant: string | undefined) => {
    known.delete(state.approval.id);
    settled.set(state.approval.id, state);
    if (tenant !== undefined) settledTenants.set(state.approval.id, tenant);
    while (settled.size > maxSettled) {
      const oldest = settled.keys().next().value;
      if (oldest === undefined) break;
      settled.delete(oldest);
      settledTenants.delete(oldest);
    }
  };

  const write = (label: string, operation: Promise<unknown>) => {
    operation.catch((error: unknown) => report(error, label));
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
    const tenant = options.tenantOf?.(call);

    return new Promise<ApprovalOutcome>((resolve) => {
      const settle: Held['settle'] = (status, outcome) => {
        if (!held.delete(approval.id)) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const state: ApprovalState = Object.freeze({
          approval,
          status,
          ...(outcome.by === undefined ? {} : { by: outcome.by }),
          ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
          settledAt: now(),
        });
        remember(state, tenant);
        resolve(Object.freeze(outcome));
        emit('decided', state);
        const fields = ['status', status, 'settledAt', String(state.settledAt)];
        if (state.by !== undefined) fields.push('by', state.by);
        if (state.reason !== undefined) fields.push('reason', state.reason);
        write(
          'recording an approval decision',
          client
            .multi()
            .hset(key.approval(approval.id), ...fields)
            .zrem(key.pending, approval.id)
            .pexpire(key.approval(approval.id), retentionMs)
            .publish(channel.events, JSON.stringify({ type: 'decided', holder: nodeId, state } satisfies BrokerMessage))
            .exec(),
        );
      };
      const onAbort = () =>
        settle('cancelled', { approved: false, reason: 'the call was cancelled while it waited for approval' });
      const timer = setTimeout(
        () => settle('timeout', { approved: false, timedOut: true, reason: `no decision within ${timeoutMs} ms` }),
        timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      held.set(approval.id, { approval, bound, original: call, settle });
      known.set(approval.id, { approval, holder: nodeId, tenant });
      const fields = ['approval', JSON.stringify(approval), 'holder', nodeId, 'status', 'pending'];
      if (tenant !== undefined) fields.push('tenant', tenant);
      write(
        'recording an approval request',
        client
          .multi()
          .hset(key.approval(approval.id), ...fields)
          .zadd(key.pending, approval.expiresAt, approval.id)
          .pexpire(key.approval(approval.id), timeoutMs + retentionMs)
          .publish(
            channel.events,
            JSON.stringify({
              type: 'requested',
              holder: nodeId,
              approval,
              ...(tenant === undefined ? {} : { tenant }),
            } satisfies BrokerMessage),
          )
          .exec(),
      );
      emit('requested', approval);
    });
  }

  /** The in-process broker's decision, for a call this node holds. */
  function decideHeld(
    entry: Held,
    decision: 'approve' | 'deny',
    by: string,
    reason: string | undefined,
    argsHash: string | undefined,
  ): DecideResult {
    const because = reason === undefined ? {} : { reason };
    if (decision === 'deny') {
      entry.settle('denied', { approved: false, by, ...because });
      return { ok: true, status: 'denied' };
    }
    if (argsHash !== undefined && argsHash !== entry.approval.argsHash) {
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

  const onBrokerMessage = (text: string) => {
    const message = parseMessage(text) as BrokerMessage | undefined;
    if (message === undefined || message.holder === nodeId) return;
    if (message.type === 'requested' && typeof message.approval?.id === 'string') {
      if (known.has(message.approval.id) || settled.has(message.approval.id)) return;
      known.set(message.approval.id, { approval: message.approval, holder: message.holder, tenant: message.tenant });
      emit('requested', message.approval);
    } else if (message.type === 'decided' && typeof message.state?.approval?.id === 'string') {
      const id = message.state.approval.id;
      if (settled.has(id)) return;
      remember(message.state, known.get(id)?.tenant);
      emit('decided', message.state);
    }
  };

  const onDecisionMessage = (text: string) => {
    const message = parseMessage(text) as Partial<DecisionMessage> | undefined;
    if (typeof message?.request !== 'string' || typeof message.replyTo !== 'string' || typeof message.id !== 'string') {
      return;
    }
    const entry = held.get(message.id);
    const result: DecideResult =
      entry === undefined
        ? settledReason(message.id)
        : decideHeld(
            entry,
            message.decision === 'approve' ? 'approve' : 'deny',
            String(message.by),
            typeof message.reason === 'string' ? message.reason : undefined,
            typeof message.argsHash === 'string' ? message.argsHash : undefined,
          );
    write(
      'answering a decision from another node',
      client.publish(channel.reply(message.replyTo), JSON.stringify({ request: message.request, result })),
    );
  };

  const onReplyMessage = (text: string) => {
    const message = parseMessage(text);
    if (typeof message?.request !== 'string') return;
    replies.get(message.request)?.(message.result as DecideResult);
  };

  const settledReason = (id: string): DecideResult => {
    const state = settled.get(id);
    return {
      ok: false,
      reason:
        state === undefined ? 'no pending approval has this id' : `the approval is already settled (${state.status})`,
    };
  };

  const subscription = subscribeChannels(
    options.connection,
    `${nodeId}:approvals-subscriber`,
    new Map([
      [channel.events, onBrokerMessage],
      [channel.decide(nodeId), onDecisionMessage],
      [channel.reply(nodeId), onReplyMessage],
    ]),
    report,
  );

  const ready = (async () => {
    await subscription.ready;
    // Approvals whose time ran out while no one held them any more (their node died) are dropped.
    await client.zremrangebyscore(key.pending, '-inf', now() - 1);
    const ids = await client.zrange(key.pending, 0, -1);
    for (const id of ids) {
      const state = await readState(id);
      if (state?.status === 'pending' && !known.has(id)) {
        known.set(id, { approval: state.approval, holder: state.holder, tenant: state.tenant });
      }
    }
  })();
  ready.catch(() => {});

  async function readState(id: string): Promise<(ApprovalState & { holder: string; tenant?: string }) | undefined> {
    const fields = await client.hgetall(key.approval(id));
    if (fields.approval === undefined || fields.status === undefined || fields.holder === undefined) return undefined;
    return Object.freeze({
      approval: JSON.parse(fields.approval) as PendingApproval,
      status: fields.status as ApprovalStatus,
      holder: fields.holder,
      ...(fields.tenant === undefined ? {} : { tenant: fields.tenant }),
      ...(fields.by === undefined ? {} : { by: fields.by }),
      ...(fields.reason === undefined ? {} : { reason: fields.reason }),
      ...(fields.settledAt === undefined ? {} : { settledAt: Number(fields.settledAt) }),
    });
  }

  async function decide(
    id: string,
    decision: 'approve' | 'deny',
    by: string,
    reason?: string,
    decideOptions?: DecideOptions,
  ): Promise<DecideResult> {
    // Decisions usually arrive over the wire: check the types the signature cannot promise.
    if (typeof id !== 'string') return { ok: false, reason: 'the approval id must be a string' };
    if (decision !== 'approve' && decision !== 'deny') {
      return { ok: false, reason: 'the decision must be "approve" or "deny"' };
    }
    if (typeof by !== 'string' || by.trim() === '') return { ok: false, reason: 'say who decides (by)' };
    if (reason !== undefined && typeof reason !== 'string') return { ok: false, reason: 'the reason must be a string' };
    const argsHash = decideOptions?.argsHash;
    const local = held.get(id);
    if (local !== undefined) return decideHeld(local, decision, by, reason, argsHash);

    let state: Awaited<ReturnType<typeof readState>>;
    try {
      state = await readState(id);
    } catch (error) {
      report(error, 'reading an approval');
      return { ok: false, reason: 'the approval could not be read from Redis; nothing was decided' };
    }
    if (state === undefined) return { ok: false, reason: 'no pending approval has this id' };
    if (state.status !== 'pending') return { ok: false, reason: `the approval is already settled (${state.status})` };
    if (decision === 'approve' && argsHash !== undefined && argsHash !== state.approval.argsHash) {
      return {
        ok: false,
        reason: 'the approval was shown with other arguments (argsHash differs); nothing was decided',
      };
    }

    const requestId = randomUUID();
    const answered = new Promise<DecideResult>((resolve) => {
      const timer = setTimeout(() => {
        replies.delete(requestId);
        resolve({ ok: false, reason: 'the node holding this approval did not answer in time; nothing was decided' });
      }, decideTimeoutMs);
      replies.set(requestId, (result) => {
        clearTimeout(timer);
        replies.delete(requestId);
        resolve(result);
      });
    });
    const message: DecisionMessage = {
      request: requestId,
      replyTo: nodeId,
      id,
      decision,
      by,
      ...(reason === undefined ? {} : { reason }),
      ...(argsHash === undefined ? {} : { argsHash }),
    };
    let receivers: number;
    try {
      receivers = await client.publish(channel.decide(state.holder), JSON.stringify(message));
    } catch (error) {
      replies.get(requestId)?.({ ok: false, reason: 'the decision could not be sent; nothing was decided' });
      report(error, 'sending a decision');
      return answered;
    }
    if (receivers === 0) {
      // Nobody listens for the holder: its node is gone, and the script that asked went with it.
      const abandoned: ApprovalState = Object.freeze({
        approval: state.approval,
        status: 'cancelled',
        reason: 'the node holding the call is gone',
        settledAt: now(),
      });
      await client
        .eval(
          ABANDON,
          2,
          key.approval(id),
          key.pending,
          id,
          abandoned.reason as string,
          String(abandoned.settledAt),
          channel.events,
          JSON.stringify({ type: 'decided', holder: state.holder, state: abandoned } satisfies BrokerMessage),
        )
        .catch((error: unknown) => report(error, 'dropping an approval of a node that is gone'));
      replies.get(requestId)?.({
        ok: false,
        reason: 'the node holding this approval is gone (its script ended with it); nothing was decided',
      });
    }
    return answered;
  }

  return {
    nodeId,
    ready,
    request,
    decide,
    pending() {
      const current = now();
      for (const [id, entry] of known) {
        // Past its time and not held here: its holder settled it (the news was lost) or died with it.
        if (entry.approval.expiresAt <= current && !held.has(id)) known.delete(id);
      }
      return [...known.values()].map((entry) => entry.approval).sort((a, b) => a.createdAt - b.createdAt);
    },
    get(id) {
      const entry = known.get(id);
      return entry === undefined ? settled.get(id) : Object.freeze({ approval: entry.approval, status: 'pending' });
    },
    async fetch(id) {
      const state = await readState(id);
      if (state === undefined) return undefined;
      const { holder: _holder, tenant: _tenant, ...rest } = state;
      return Object.freeze(rest);
    },
    tenantOf(id) {
      return known.get(id)?.tenant ?? settledTenants.get(id);
    },
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>;
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    async close() {
      for (const entry of [...held.values()]) {
        entry.settle('cancelled', { approved: false, reason: 'the node holding the call is shutting down' });
      }
      for (const resolve of [...replies.values()]) {
        resolve({ ok: false, reason: 'the broker is closing; nothing was decided' });
      }
      await subscription.close();
      // The decisions just recorded are queued on this connection; QUIT runs after them.
      await closeClient(client);
    },
  };
}
