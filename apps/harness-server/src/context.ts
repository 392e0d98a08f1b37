/**
 * What the routes share: the composed harness, its queue and approval broker (in-process or in
 * Redis), the registry that ties scripts to tenants, and the server's own counters. Built once by
 * `buildServer`.
 */
import type { Harness } from '@script-harness/core';
import type { QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import type { HarnessTelemetry } from '@script-harness/telemetry';
import type { SpawnTools } from '@script-harness/tools';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { ServerApprovalBroker } from './coordination.ts';
import type { ExecutionQueue } from './execution.ts';
import type { EventLoopMonitor } from './health.ts';
import type { ScriptOwners } from './owners.ts';
import type { ServerMetrics } from './server-metrics.ts';

export interface ServerContext {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly runtime: QuickJSRuntimeAdapter;
  readonly harness: Harness;
  /** In-process, or shared with other nodes through Redis. */
  readonly queue: ExecutionQueue;
  readonly broker: ServerApprovalBroker;
  /** The tenant whose script asked for an approval (any node's, with Redis); undefined for an unknown one. */
  tenantOfApproval(approvalId: string): string | undefined;
  readonly owners: ScriptOwners;
  readonly telemetry: HarnessTelemetry;
  readonly metrics: ServerMetrics;
  /** The spawn tools and their tasks; undefined when `tools.spawn` is off. */
  readonly tasks: SpawnTools | undefined;
  readonly eventLoop: EventLoopMonitor;
  /** True from the first moment of a shutdown. */
  isShuttingDown(): boolean;
}
