/**
 * How a request becomes work: the job kinds of the server's queue, the retry rule, and the
 * responses of the modes that do not run anything (dry-run, disabled).
 *
 * Retries repeat only failures of the harness itself (a worker that died) in runs that made no
 * tool call, so a retry never repeats a side effect and never hides a fault of the script.
 */
import {
  type CheckReport,
  createInProcessQueue,
  DISABLED_NOTICE,
  type ExecuteMessageOptions,
  type ExecutionMode,
  errorData,
  executeMessage,
  type Harness,
  type HarnessErrorData,
  isRetryableScriptFailure,
  type JobQueue,
  type MessageExecution,
  type RunOptions,
  type ScriptResult,
} from '@script-harness/core';
import type { ScriptOwner, ScriptOwners } from './owners.ts';

export type ExecutionJob =
  | {
      readonly kind: 'script';
      readonly source: string;
      readonly options: RunOptions & { readonly scriptId: string };
    }
  | {
      readonly kind: 'message';
      readonly message: string;
      readonly options: ExecuteMessageOptions;
      readonly owner: ScriptOwner;
    };

export type ExecutionOutcome =
  | { readonly kind: 'script'; readonly result: ScriptResult }
  | { readonly kind: 'message'; readonly execution: MessageExecution };

/** A finished attempt is tried again only when no run in it made a tool call and the last failed retryably. */
export function shouldRetryExecution(outcome: ExecutionOutcome): boolean {
  if (outcome.kind === 'script') return isRetryableScriptFailure(outcome.result);
  const { results } = outcome.execution;
  const last = results[results.length - 1];
  return last !== undefined && results.every((result) => result.calls.length === 0) && isRetryableScriptFailure(last);
}

export interface ExecutionQueueOptions {
  readonly harness: Harness;
  readonly owners: ScriptOwners;
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxRunningPerTenant?: number | undefined;
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Called once per finished attempt, for metrics. */
  readonly onAttemptFinished?: (outcome: ExecutionOutcome) => void;
}

export function createExecutionQueue(options: ExecutionQueueOptions): JobQueue<ExecutionJob, ExecutionOutcome> {
  const { harness, owners } = options;
  return createInProcessQueue<ExecutionJob, ExecutionOutcome>({
    concurrency: options.concurrency,
    maxQueued: options.maxQueued,
    ...(options.maxRunningPerTenant === undefined ? {} : { maxRunningPerTenant: options.maxRunningPerTenant }),
    retry: { ...options.retry, shouldRetry: shouldRetryExecution },
    async run(job, { signal }) {
      let outcome: ExecutionOutcome;
      if (job.kind === 'script') {
        outcome = { kind: 'script', result: await harness.run(job.source, { ...job.options, signal }) };
      } else {
        const execution = await executeMessage(owners.harnessFor(harness, job.owner), job.message, {
          ...job.options,
          run: { ...job.options.run, signal },
        });
        outcome = { kind: 'message', execution };
      }
      options.onAttemptFinished?.(outcome);
      return outcome;
    },
  });
}

/** What `/v1/scripts` answers: the ScriptResult, with the mode it ran in and whom it ran for. */
export type ScriptResponse = Omit<ScriptResult, 'metadata'> & {
  readonly mode: ExecutionMode;
  readonly report?: CheckReport;
  readonly notice?: string;
  readonly metadata: ScriptResult['metadata'] & { readonly tenant: string };
};

export function scriptResponse(result: ScriptResult, mode: ExecutionMode, tenant: string): ScriptResponse {
  return { ...result, mode, metadata: { ...result.metadata, tenant } };
}

/** The answer of a dry run: `ok` when the script would be run, with what validation found. */
export function dryRunResponse(
  report: CheckReport,
  context: { readonly scriptId: string; readonly runtime: string; readonly tenant: string; readonly startedAt: number },
): ScriptResponse {
  const first = report.findings[0];
  return {
    ok: report.ok,
    mode: 'dry-run',
    report,
    ...(first === undefined
      ? {}
      : {
          error: errorData(first.code, first.message, {
            line: first.line,
            column: first.column,
            details: { findings: report.findings.length },
          }),
        }),
    calls: [],
    console: [],
    warnings: [],
    metadata: emptyMetadata(context),
  };
}

/** The answer in disabled mode: nothing ran, and the notice says what to do instead. */
export function disabledResponse(context: {
  readonly scriptId: string;
  readonly runtime: string;
  readonly tenant: string;
  readonly startedAt: number;
}): ScriptResponse {
  return {
    ok: false,
    mode: 'disabled',
    notice: DISABLED_NOTICE,
    calls: [],
    console: [],
    warnings: [],
    metadata: emptyMetadata(context),
  };
}

/** A ScriptResult for a run that never produced one (cancelled at shutdown), for event streams. */
export function failedResult(error: HarnessErrorData, scriptId: string, runtime: string): ScriptResult {
  return {
    ok: false,
    error,
    calls: [],
    partial: [],
    console: [],
    warnings: [],
    metadata: { scriptId, runtime, durationMs: 0, toolCalls: 0, consoleDropped: 0 },
  };
}

function emptyMetadata(context: {
  readonly scriptId: string;
  readonly runtime: string;
  readonly tenant: string;
  readonly startedAt: number;
}): ScriptResponse['metadata'] {
  return {
    scriptId: context.scriptId,
    runtime: context.runtime,
    durationMs: performance.now() - context.startedAt,
    toolCalls: 0,
    consoleDropped: 0,
    tenant: context.tenant,
  };
}
