/**
 * What the distributed queue writes to Redis and reads back: job data, the outcome of an attempt
 * and the messages between nodes. Everything is plain JSON; these helpers check it on the way in
 * and turn it back into harness errors on the way out.
 */
import {
  type ErrorCode,
  HarnessError,
  type HarnessErrorData,
  isErrorCode,
  type JobPriority,
} from '@script-harness/core';

/** BullMQ priorities: a lower number runs first; every job gets one, so order within a priority is arrival. */
export const BULLMQ_PRIORITY: Readonly<Record<JobPriority, number>> = Object.freeze({ high: 1, normal: 2, low: 3 });

/** The data of one BullMQ job. */
export interface JobData<Payload> {
  readonly payload: Payload;
  /** Node id of the submitter: where the job's events are sent. */
  readonly submitter: string;
  readonly tenant: string;
  /** Epoch milliseconds. */
  readonly submittedAt: number;
}

/**
 * The return value of a job in BullMQ: how its last attempt ended. `run` identifies one execution
 * (an attempt re-run after its node died is another run) and `events` how many events it emitted,
 * so the submitter can wait for stragglers before it answers.
 */
export type JobOutcome<Result> =
  | {
      readonly status: 'ok';
      readonly value: Result;
      readonly attempt: number;
      readonly run: string;
      readonly events: number;
    }
  | {
      readonly status: 'error' | 'cancelled';
      readonly error: HarnessErrorData;
      readonly attempt: number;
      readonly run: string;
      readonly events: number;
    };

/** An event a worker sends to the node that submitted the job. */
export interface EventMessage<Event> {
  readonly id: string;
  readonly run: string;
  readonly event: Event;
}

/** A cancellation, broadcast to every node: the one running the job aborts it, the submitter answers. */
export interface CancelMessage {
  readonly id: string;
  readonly code: 'CANCELLED' | 'SHUTDOWN';
  readonly message: string;
}

/**
 * Checks that a payload survives JSON unchanged in kind: functions, symbols and BigInts would be
 * dropped or refused by JSON.stringify, and a job must not lose part of its input on the way.
 */
export function assertJsonPayload(payload: unknown): void {
  if (payload === undefined) throw new HarnessError('INVALID_REQUEST', 'a job needs a payload (plain JSON data)');
  try {
    JSON.stringify(payload, (_key, value: unknown) => {
      const kind = typeof value;
      if (kind === 'function' || kind === 'symbol' || kind === 'bigint') {
        throw new TypeError(`${kind} values cannot be stored in Redis`);
      }
      return value;
    });
  } catch (error) {
    throw new HarnessError(
      'INVALID_REQUEST',
      `the job payload is not plain JSON data (${error instanceof Error ? error.message : 'unknown'}); pass callbacks such as onEvent to submit, not in the payload`,
    );
  }
}

/** BullMQ refuses ids that are integers or contain ':' (they would clash with its own keys). */
export function assertJobId(id: string): void {
  if (typeof id !== 'string' || id === '' || id.length > 200 || id.includes(':') || /^\d+$/.test(id)) {
    throw new HarnessError(
      'INVALID_REQUEST',
      'a job id must be a non-empty string of at most 200 characters, not a plain integer, without ":"',
    );
  }
}

/** The harness error an error record stands for (an unknown code is reported as INTERNAL). */
export function errorFromData(data: HarnessErrorData | undefined, fallback = 'the job failed'): HarnessError {
  const code: ErrorCode = data !== undefined && isErrorCode(data.code) ? data.code : 'INTERNAL';
  return new HarnessError(code, typeof data?.message === 'string' ? data.message : fallback, {
    line: data?.line,
    column: data?.column,
    stack: data?.stack,
    details: data?.details as Record<string, unknown> | undefined,
  });
}

/** Whether a value read back from Redis is an outcome this package wrote. */
export function isJobOutcome(value: unknown): value is JobOutcome<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const outcome = value as { status?: unknown; run?: unknown; events?: unknown };
  return (
    (outcome.status === 'ok' || outcome.status === 'error' || outcome.status === 'cancelled') &&
    typeof outcome.run === 'string' &&
    typeof outcome.events === 'number'
  );
}

/** Parses a JSON message from a channel; undefined when it is not an object. */
export function parseMessage(message: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
