/**
 * Putting a job on the queue the same way from every route: refusals are counted by reason, each
 * finished job is recorded for `harness_jobs_completed_total`, and the request's trace context
 * and id are handed to the engine's telemetry.
 */
import { HarnessError } from '@script-harness/core';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.ts';
import type { ExecutionHandle, ExecutionOutcome, ExecutionSubmission } from '../execution.ts';

export function submitJob(context: ServerContext, submission: ExecutionSubmission): ExecutionHandle {
  const enqueuedAt = performance.now();
  let handle: ExecutionHandle;
  try {
    handle = context.queue.submit(submission);
  } catch (error) {
    countRefusal(context, error);
    throw error;
  }
  handle.result.then(
    (outcome) =>
      context.telemetry.recordJob({
        outcome: outcomeOk(outcome) ? 'ok' : 'error',
        durationMs: performance.now() - enqueuedAt,
      }),
    async (error: unknown) => {
      // With Redis, a submission can also be refused after the fact (the shared backlog was full).
      if (!(await handle.enqueued)) countRefusal(context, error);
      else context.telemetry.recordJob({ outcome: 'error', durationMs: performance.now() - enqueuedAt });
    },
  );
  return handle;
}

function countRefusal(context: ServerContext, error: unknown): void {
  if (error instanceof HarnessError && (error.code === 'QUEUE_FULL' || error.code === 'SHUTDOWN')) {
    context.metrics.rejections.inc({ reason: error.code === 'QUEUE_FULL' ? 'queue_full' : 'shutdown' });
  }
}

function outcomeOk(outcome: ExecutionOutcome): boolean {
  return outcome.kind === 'script' ? outcome.result.ok : outcome.execution.results.every((result) => result.ok);
}

/** The W3C trace context of the request and its id, as `RunOptions.telemetryParent`. */
export function telemetryParentOf(request: FastifyRequest): {
  traceparent?: string;
  tracestate?: string;
  requestId: string;
} {
  const { traceparent, tracestate } = request.headers;
  return {
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
    requestId: request.id,
  };
}
