/**
 * How a request becomes work: the job kinds of the server's queue, how a job runs, the retry
 * rule, and the responses of the modes that do not run anything (dry-run, disabled).
 *
 * A job is plain JSON (its source, options and owner), so the same job runs on this node's
 * in-process queue or on whichever node of a cluster takes it from Redis. What the run reports
 * while it runs (console lines, tool calls, held approvals) leaves it as `ExecutionEvent`s, which
 * the queue carries back to the node holding the caller's connection.
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
  type JobHandle,
  type JobQueueStats,
  type JobSubmission,
  type MessageExecution,
  type RunOptions,
  type ScriptEvent,
  type ScriptResult,
} from '@script-harness/core';
import type { PendingApproval } from '@script-harness/policy';
import type { ScriptOwner, ScriptOwners } from './owners.ts';

/** The run options a job carries: the JSON ones (signal and event listener belong to the node that runs it). */
export type ScriptJobOptions = Pick<RunOptions, 'language' | 'runtime' | 'limits' | 'tools' | 'context'> & {
  readonly scriptId: string;
  readonly telemetryParent?: {
    readonly traceparent?: string;
    readonly tracestate?: string;
    readonly requestId: string;
  };
};

export type ExecutionJob =
  | {
      readonly kind: 'script';
      readonly source: string;
      readonly options: ScriptJobOptions;
      readonly owner: ScriptOwner;
      /** The caller follows the run live: its events are sent back. */
      readonly stream?: boolean;
    }
  | {
      readonly kind: 'message';
      readonly message: string;
      readonly options: Omit<ExecuteMessageOptions, 'run'> & { readonly run?: Omit<ScriptJobOptions, 'scriptId'> };
      readonly owner: ScriptOwner;
    };

export type ExecutionOutcome =
  | { readonly kind: 'script'; readonly result: ScriptResult }
  | { readonly kind: 'message'; readonly execution: MessageExecution };

/** An event of a running script under its API name, ready for a server-sent event stream. */
export interface ExecutionEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface ExecutionSubmission extends JobSubmission<ExecutionJob> {
  /** Receives the run's events on this node (only a script job with `stream` sends any). */
  readonly onEvent?: (event: ExecutionEvent) => void;
}

export interface ExecutionHandle extends JobHandle<ExecutionOutcome> {
  /** True once the job is queued; false when it was refused (the reason is in `result`). Never rejects. */
  readonly enqueued: Promise<boolean>;
}

/** The server's queue, in-process or shared through Redis: the same contract either way. */
export interface ExecutionQueue {
  /** Throws QUEUE_FULL or SHUTDOWN when the job cannot be taken; a later refusal rejects `result`. */
  submit(submission: ExecutionSubmission): ExecutionHandle;
  stats(): JobQueueStats;
  /** Stops taking jobs, lets the rest finish for up to `graceMs`, then cancels (or hands back) what is left. */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

/** A finished attempt is tried again only when no run in it made a tool call and the last failed retryably. */
export function shouldRetryExecution(outcome: ExecutionOutcome): boolean {
  if (outcome.kind === 'script') return isRetryableScriptFailure(outcome.result);
  const { results } = outcome.execution;
  const last = results[results.length - 1];
  return last !== undefined && results.every((result) => result.calls.length === 0) && isRetryableScriptFailure(last);
}

export interface ExecutionRunnerOptions {
  readonly harness: Harness;
  readonly owners: ScriptOwners;
  /** Calls `listener` for every approval requested by `scriptId` until the returned function is called. */
  readonly watchApprovals: (scriptId: string, listener: (approval: PendingApproval) => void) => () => void;
  /** Called once per finished attempt, for metrics. */
  readonly onAttemptFinished?: (outcome: ExecutionOutcome) => void;
}

export type ExecutionRunner = (
  job: ExecutionJob,
  context: { readonly signal: AbortSignal; readonly emit: (event: ExecutionEvent) => void },
) => Promise<ExecutionOutcome>;

/**
 * Runs one job on this node. Its scripts are registered to their owner while they run, so policy,
 * approvals, audit records and spawned tasks see the right tenant here too.
 */
export function createExecutionRunner(options: ExecutionRunnerOptions): ExecutionRunner {
  const { harness, owners } = options;
  return async (job, { signal, emit }) => {
    let outcome: ExecutionOutcome;
    if (job.kind === 'script') {
      const { scriptId } = job.options;
      owners.register(scriptId, job.owner);
      const stopWatching =
        job.stream === true
          ? options.watchApprovals(scriptId, (approval) => emit({ event: 'approval_requested', data: approval }))
          : () => {};
      try {
        const result = await harness.run(job.source, {
          ...job.options,
          signal,
          ...(job.stream === true ? { onEvent: forwardEvents(emit) } : {}),
        });
        outcome = { kind: 'script', result };
      } finally {
        stopWatching();
        owners.release(scriptId);
      }
    } else {
      const execution = await executeMessage(owners.harnessFor(harness, job.owner), job.message, {
        ...job.options,
        run: { ...job.options.run, signal },
      });
      outcome = { kind: 'message', execution };
    }
    options.onAttemptFinished?.(outcome);
    return outcome;
  };
}

/**
 * Engine events under the names of the API (`progress` for `script_progress`). The ending event
 * is not forwarded: an attempt that is retried ends too, and a stream must end once, with the
 * final result.
 */
function forwardEvents(emit: (event: ExecutionEvent) => void): (event: ScriptEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'script_completed':
      case 'script_error':
        return;
      case 'script_progress': {
        const { type: _type, ...data } = event;
        emit({ event: 'progress', data });
        return;
      }
      default: {
        const { type, ...data } = event;
        emit({ event: type, data });
      }
    }
  };
}

export interface InProcessExecutionQueueOptions {
  readonly run: ExecutionRunner;
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxRunningPerTenant?: number | undefined;
  readonly retry: { readonly maxAttempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
}

/** The embedded queue: jobs run on this node, at most `concurrency` at once. */
export function createInProcessExecutionQueue(options: InProcessExecutionQueueOptions): ExecutionQueue {
  interface Entry {
    readonly job: ExecutionJob;
    readonly onEvent: ((event: ExecutionEvent) => void) | undefined;
  }
  const queue = createInProcessQueue<Entry, ExecutionOutcome>({
    concurrency: options.concurrency,
    maxQueued: options.maxQueued,
    ...(options.maxRunningPerTenant === undefined ? {} : { maxRunningPerTenant: options.maxRunningPerTenant }),
    retry: { ...options.retry, shouldRetry: shouldRetryExecution },
    run: (entry, { signal }) => options.run(entry.job, { signal, emit: (event) => entry.onEvent?.(event) }),
  });
  return {
    submit(submission) {
      const { payload, onEvent, ...rest } = submission;
      const handle = queue.submit({ ...rest, payload: { job: payload, onEvent } });
      return { ...handle, enqueued: Promise.resolve(true) };
    },
    stats: () => queue.stats(),
    close: (closeOptions) => queue.close(closeOptions),
  };
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
