/**
 * What the routes share: the composed harness, its queue and approval broker, the registries
 * that tie scripts to tenants, and the server's own counters. Built once by `buildServer`.
 */
import type { Harness, JobQueue } from '@script-harness/core';
import type { InteractiveApprovalBroker, PendingApproval } from '@script-harness/policy';
import type { QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import type { HarnessTelemetry } from '@script-harness/telemetry';
import type { SpawnTools } from '@script-harness/tools';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { ExecutionJob, ExecutionOutcome } from './execution.ts';
import type { EventLoopMonitor } from './health.ts';
import type { ScriptOwners } from './owners.ts';
import type { ServerMetrics } from './server-metrics.ts';

export interface ServerContext {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly runtime: QuickJSRuntimeAdapter;
  readonly harness: Harness;
  readonly queue: JobQueue<ExecutionJob, ExecutionOutcome>;
  readonly broker: InteractiveApprovalBroker;
  readonly approvals: ApprovalDirectory;
  readonly owners: ScriptOwners;
  readonly telemetry: HarnessTelemetry;
  readonly metrics: ServerMetrics;
  /** The spawn tools and their tasks; undefined when `tools.spawn` is off. */
  readonly tasks: SpawnTools | undefined;
  readonly eventLoop: EventLoopMonitor;
  /** True from the first moment of a shutdown. */
  isShuttingDown(): boolean;
}

/**
 * Which tenant each approval belongs to, and who wants to hear of new approvals for a script
 * (the event stream of that script).
 */
export interface ApprovalDirectory {
  tenantOf(approvalId: string): string | undefined;
  /** Calls `listener` for every approval requested by `scriptId` until the returned function is called. */
  watch(scriptId: string, listener: (approval: PendingApproval) => void): () => void;
}
