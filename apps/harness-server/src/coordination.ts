/**
 * Where the state that outlives one request lives: the queue of scripts, the approval broker and
 * the store of spawned tasks. Embedded (the default), all three are in this process. With a Redis
 * URL configured they live in Redis (`@script-harness/queue-bullmq`), and any number of nodes
 * share them: a script submitted on one node may run on another, an approval held on one is
 * decided on any, a task started on one is read or cancelled on any and survives its node.
 *
 * The package for Redis is imported only when a URL is configured, so an embedded server never
 * loads BullMQ or ioredis.
 */
import type { AnyTool, ApprovalBroker, ToolCallRequest } from '@script-harness/core';
import {
  type ApprovalBrokerEvents,
  type ApprovalState,
  createApprovalBroker,
  type DecideOptions,
  type DecideResult,
  type PendingApproval,
} from '@script-harness/policy';
import { createMemoryTaskStore, type TaskStore } from '@script-harness/tools';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { createInProcessExecutionQueue, type ExecutionQueue, type ExecutionRunner } from './execution.ts';
import type { ScriptOwners } from './owners.ts';

/** The approval broker the routes use: in-process, or shared through Redis (where deciding is asynchronous). */
export interface ServerApprovalBroker extends ApprovalBroker {
  pending(): PendingApproval[];
  decide(
    id: string,
    decision: 'approve' | 'deny',
    by: string,
    reason?: string,
    options?: DecideOptions,
  ): DecideResult | Promise<DecideResult>;
  get(id: string): ApprovalState | undefined;
  on<E extends keyof ApprovalBrokerEvents>(event: E, listener: ApprovalBrokerEvents[E]): () => void;
}

export interface Coordination {
  /** `embedded`, or `redis` with the URL's host (never its password). */
  readonly description: string;
  readonly broker: ServerApprovalBroker;
  readonly taskStore: TaskStore;
  /** The tenant whose script asked for an approval; undefined for an unknown one. */
  tenantOfApproval(id: string): string | undefined;
  /** The queue; on a node that runs scripts, `run` runs the ones it takes. */
  createQueue(run: ExecutionRunner): ExecutionQueue;
  /** Lets this node run tasks whose node died (a no-op when embedded: no other node exists). */
  adoptTasks(tools: readonly AnyTool[]): void;
  /** Resolves once every connection is up (the queue's too); rejects with a readable error when it cannot be. */
  whenReady(): Promise<void>;
  /** Hands this node's spawned tasks to other nodes; call before the spawn tools close (they would cancel them). */
  releaseTasks(): Promise<void>;
  /** Closes the broker and the connections, after the queue has closed. */
  close(): Promise<void>;
}

export interface CoordinationOptions {
  readonly config: ServerConfig;
  readonly owners: ScriptOwners;
  readonly logger: Logger;
  /** The script lines around a held call, kept with the approval so every node can show them. */
  readonly scriptExcerpt?: (request: ToolCallRequest) => string | undefined;
}

/** The configured Redis cannot be reached: the node does not start. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** How many settled approvals keep their tenant, so a late second decision answers 409 rather than 404. */
const MAX_REMEMBERED_APPROVALS = 10_000;

export async function createCoordination(options: CoordinationOptions): Promise<Coordination> {
  if (options.config.redis.url !== undefined) {
    const { createRedisCoordination } = await import('./coordination-redis.ts');
    return createRedisCoordination(options, options.config.redis.url);
  }
  return createEmbeddedCoordination(options);
}

function createEmbeddedCoordination({ config, owners, scriptExcerpt }: CoordinationOptions): Coordination {
  const broker = createApprovalBroker({
    timeoutMs: config.approvals.timeoutMs,
    ...(scriptExcerpt === undefined ? {} : { scriptExcerpt }),
  });
  // Approvals are tied to the tenant of their script when they are requested.
  const tenants = new Map<string, string>();
  const stop = broker.on('requested', (approval) => {
    const tenant = owners.get(approval.scriptId)?.tenant;
    if (tenant !== undefined) tenants.set(approval.id, tenant);
    while (tenants.size > MAX_REMEMBERED_APPROVALS) {
      const oldest = tenants.keys().next().value;
      if (oldest === undefined) break;
      tenants.delete(oldest);
    }
  });
  return {
    description: 'embedded',
    broker,
    taskStore: createMemoryTaskStore(),
    tenantOfApproval: (id) => tenants.get(id),
    createQueue: (run) =>
      createInProcessExecutionQueue({
        run,
        concurrency: config.queue.concurrency,
        maxQueued: config.queue.maxQueued,
        maxRunningPerTenant: config.queue.maxRunningPerTenant,
        retry: config.queue.retry,
      }),
    adoptTasks: () => {},
    whenReady: async () => {},
    releaseTasks: async () => {},
    close: async () => {
      stop();
    },
  };
}
