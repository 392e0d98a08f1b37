/**
 * The core `JobQueue` contract on BullMQ: nodes that share a Redis and a queue name share the
 * work. An `api` node only submits, a `worker` node only runs, an `all` node does both.
 *
 * - A job's payload is stored as JSON; its result and its events go back to the node that
 *   submitted it (which holds the client connection): the result through BullMQ's queue events,
 *   with a poll of the job's state as the second path, events through a pub/sub channel of that
 *   node. However many paths deliver it, a handle settles once.
 * - Retries are the harness's, not BullMQ's: a run that throws is a failed job at once; a result
 *   that `retry.shouldRetry` accepts is tried again with exponential backoff and jitter.
 * - A node killed mid-job stops renewing its lock; BullMQ's stalled-job check on the other nodes
 *   puts the job back and another node runs it. Only one run can complete a job (completion
 *   checks the lock), so the submitter gets one result.
 * - `cancel` is broadcast: the node running the job aborts its signal, a queued job is removed,
 *   and a flag keeps a job that is just being picked up from starting.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  HarnessError,
  type JobHandle,
  type JobQueue,
  type JobQueueStats,
  type JobSubmission,
  type RetryPolicy,
  retryDelayMs,
  toErrorData,
} from '@script-harness/core';
import {
  type RedisOptions as BullMQRedisOptions,
  DelayedError,
  type Job,
  Queue,
  QueueEvents,
  WaitingError,
  Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import {
  closeClient,
  createRedisClient,
  type ErrorReporter,
  type RedisConnection,
  redisOptionsOf,
  throttled,
  warnOnError,
  watchErrors,
  withinTime,
} from './connection.ts';
import { subscribeChannels } from './pubsub.ts';
import {
  assertJobId,
  assertJsonPayload,
  BULLMQ_PRIORITY,
  type CancelMessage,
  errorFromData,
  isJobOutcome,
  type JobData,
  type JobOutcome,
  parseMessage,
} from './wire.ts';

export type NodeRole = 'api' | 'worker' | 'all';
export const NODE_ROLES: readonly NodeRole[] = Object.freeze(['api', 'worker', 'all']);

export interface BullMQRunContext<Event> {
  /** Fires when the job is cancelled (from any node) or this node shuts down. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt; a run repeated after its node died keeps its attempt number. */
  readonly attempt: number;
  readonly id: string;
  /** Sends an event to the node that submitted the job, for its client (an SSE stream). */
  readonly emit: (event: Event) => void;
}

export interface BullMQQueueOptions<Payload, Result, Event = never> {
  readonly connection: RedisConnection;
  /** Nodes with the same queue name (and prefix) share the work. Default `scripts`. */
  readonly name?: string;
  /** Prefix of every Redis key of the queue. Default `harness`. */
  readonly prefix?: string;
  /** `api` submits only, `worker` runs only, `all` does both. */
  readonly role: NodeRole;
  /** Runs one job (required for `worker` and `all`); the payload and result must be plain JSON. */
  readonly run?: (payload: Payload, context: BullMQRunContext<Event>) => Promise<Result>;
  /** Jobs this node runs at once. */
  readonly concurrency: number;
  /** Jobs waiting in the whole cluster beyond which a submission is refused with QUEUE_FULL. */
  readonly maxQueued: number;
  /**
   * Jobs of one tenant running at once in the whole cluster. A job over the limit waits (it is
   * put back for `tenantWaitMs`) and its priority and attempt stay as they were. Default: no limit.
   */
  readonly maxRunningPerTenant?: number;
  /** How long a job held back by its tenant's limit waits before it is tried again. Default 200 ms. */
  readonly tenantWaitMs?: number;
  readonly retry?: RetryPolicy<Result>;
  /** This node's id, unique among running nodes. Default: host name, process id and a random suffix. */
  readonly nodeId?: string;
  /** How long a job's lock lasts without renewal (renewed at half); a dead node's job is free after it. Default 30 s. */
  readonly lockDurationMs?: number;
  /** How often each worker looks for jobs whose lock expired. Default 15 s. */
  readonly stalledIntervalMs?: number;
  /** How often one job may be put back after its node died before it fails with INTERNAL. Default 2. */
  readonly maxStalledCount?: number;
  /** How long a finished job (and its result) stays in Redis for `attach`. Default 1 hour. */
  readonly resultRetentionMs?: number;
  /** How often the node checks on its waiting submissions in Redis, in case an event was missed. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** How long a result waits for events of its run still on the way. Default 500 ms. */
  readonly eventGraceMs?: number;
  /** Random source for retry jitter. */
  readonly random?: () => number;
  /** Where connection trouble is reported. Default: a process warning. */
  readonly onError?: ErrorReporter;
}

export interface BullMQJobSubmission<Payload, Event> extends JobSubmission<Payload> {
  /** Receives the events the job's run emits, on this node. */
  readonly onEvent?: (event: Event) => void;
}

export interface BullMQJobHandle<Result> extends JobHandle<Result> {
  /** True once the job is stored in Redis; false when it was refused (the reason is in `result`). Never rejects. */
  readonly enqueued: Promise<boolean>;
}

export interface BullMQJobQueue<Payload, Result, Event = never> extends JobQueue<Payload, Result> {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** Resolves once the connections are up (and, on worker roles, the worker is running). */
  readonly ready: Promise<void>;
  /**
   * Enqueues a job. Throws INVALID_REQUEST (payload not JSON, bad or reused id), SHUTDOWN, or
   * QUEUE_FULL when the backlog last seen is at the bound; the backlog is checked again in Redis
   * before the job is added, and a refusal then rejects `result` with QUEUE_FULL.
   */
  submit(job: BullMQJobSubmission<Payload, Event>): BullMQJobHandle<Result>;
  /**
   * Cancels a job this node submitted or runs, wherever the job is (the cancel is broadcast);
   * false, and nothing is done, for a job this node does not know: use `cancelAnywhere` for those.
   */
  cancel(id: string): boolean;
  /** Cancels a job of any node; true when it was still queued or running. */
  cancelAnywhere(id: string): Promise<boolean>;
  /**
   * A handle on a job submitted earlier, by this node or another (one that has restarted, say):
   * settles with its result as soon as it has one, which may be at once. Undefined when Redis no
   * longer knows the job. Its events are not replayed.
   */
  attach(id: string): Promise<JobHandle<Result> | undefined>;
  /**
   * `queued` is the backlog of the whole cluster as last seen; `running` the jobs this node runs;
   * `completed`, `failed` and `retried` count this node's runs, `rejected` its refused submissions.
   */
  stats(): JobQueueStats;
  /**
   * Stops taking jobs; lets this node's submissions and runs finish for up to `graceMs`; then
   * cancels the submissions still waiting (their results reject with SHUTDOWN) and puts the jobs
   * it still runs for other nodes back in the queue for another node.
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

const JOB_NAME = 'job';

/**
 * Takes (or renews) a running slot of a tenant: KEYS[1] is a sorted set of the tenant's running
 * job ids scored by when their lease ends (Redis's clock). Leases of dead nodes simply run out.
 * ARGV: job id, lease in ms, the limit. Returns 1 when the job holds a slot.
 */
const TENANT_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;
/** How long a submission waits for the node's first connection to Redis before it is refused. */
const READY_TIMEOUT_MS = 10_000;
/** How long a node that is shutting down waits for its runs to notice the abort before it lets go of them. */
const HANDOFF_WAIT_MS = 5_000;

interface Submitted<Result, Event> {
  readonly id: string;
  readonly promise: Promise<Result>;
  readonly enqueued: Promise<boolean>;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
  readonly markEnqueued: (enqueued: boolean) => void;
  readonly onEvent: ((event: Event) => void) | undefined;
  /** Submitted here (not attached to): this node cancels the job when it shuts down before the answer. */
  readonly owned: boolean;
  /** `admitting`: not in Redis yet; `queued`: in Redis; `settled`: answered. */
  state: 'admitting' | 'queued' | 'settled';
  /** An outcome arrived and the handle waits only for its last events. */
  finishing: boolean;
  /** Events received, per run. */
  readonly received: Map<string, number>;
  awaiting?: { readonly run: string; readonly count: number; readonly finish: () => void };
  /** When Redis was last asked about this job (or it was heard of). */
  checkedAt: number;
}

interface Running {
  readonly controller: AbortController;
}

export function createBullMQQueue<Payload, Result, Event = never>(
  options: BullMQQueueOptions<Payload, Result, Event>,
): BullMQJobQueue<Payload, Result, Event> {
  const settings = resolveQueueOptions(options);
  const { name, prefix, nodeId, role, maxQueued, maxAttempts } = settings;
  const report = throttled(options.onError ?? warnOnError);
  const random = options.random ?? Math.random;
  const base = `${prefix}:${name}`;
  const keys = {
    submitted: (id: string) => `${base}:harness:submitted:${id}`,
    cancelled: (id: string) => `${base}:harness:cancelled:${id}`,
    tenantRunning: (tenant: string) => `${base}:harness:tenant-running:${tenant}`,
    cancelChannel: `${base}:harness:cancel`,
    eventsChannel: (node: string) => `${base}:harness:events:${node}`,
  };
  const { retryStrategy, ...connectionOptions } = redisOptionsOf(options.connection);
  // BullMQ's options type has no room for ioredis's `retryStrategy: null`; a function is passed on.
  const bullConnection: BullMQRedisOptions = {
    ...connectionOptions,
    ...(typeof retryStrategy === 'function' ? { retryStrategy } : {}),
    connectionName: `${nodeId}:bullmq`,
  };

  const queue = new Queue(name, {
    connection: { ...bullConnection, maxRetriesPerRequest: 2 },
    prefix,
  });
  watchErrors(queue, `queue ${name}`, report);
  const queueEvents = new QueueEvents(name, { connection: bullConnection, prefix });
  watchErrors(queueEvents, `queue events of ${name}`, report);
  const commands: Redis = createRedisClient(options.connection, `${nodeId}:queue`, report);

  const submitted = new Map<string, Submitted<Result, Event>>();
  const running = new Map<string, Running>();
  let accepting = true;
  let closing: Promise<void> | undefined;
  let lastBacklog = 0;
  let completed = 0;
  let failed = 0;
  let retried = 0;
  let rejected = 0;
  let changed: (() => void) | undefined;

  // ---- answering submissions -------------------------------------------------------------

  const settle = (entry: Submitted<Result, Event>, answer: () => void) => {
    if (entry.state === 'settled') return;
    // A no-op when the job was stored (the promise is already settled true).
    entry.markEnqueued(false);
    entry.state = 'settled';
    submitted.delete(entry.id);
    answer();
    changed?.();
  };
  const refuse = (entry: Submitted<Result, Event>, error: HarnessError) => settle(entry, () => entry.reject(error));

  const deliverEvent = (id: string, run: string, event: Event) => {
    const entry = submitted.get(id);
    if (entry === undefined) return;
    const count = (entry.received.get(run) ?? 0) + 1;
    entry.received.set(run, count);
    entry.checkedAt = Date.now();
    if (entry.onEvent !== undefined) {
      try {
        entry.onEvent(event);
      } catch (error) {
        report(error, `the event listener of job ${id}`);
      }
    }
    if (entry.awaiting !== undefined && entry.awaiting.run === run && count >= entry.awaiting.count) {
      entry.awaiting.finish();
    }
  };

  const answerWith = (id: string, outcome: JobOutcome<Result>) => {
    const entry = submitted.get(id);
    if (entry === undefined || entry.finishing) return;
    entry.finishing = true;
    // Its outcome may be heard of before the reply to the add that stored it.
    entry.markEnqueued(true);
    const answer = () =>
      settle(entry, () => {
        if (outcome.status === 'ok') entry.resolve(outcome.value);
        else entry.reject(errorFromData(outcome.error));
      });
    // Events travel on another connection than the result; give the last ones a moment to arrive.
    if (entry.onEvent === undefined || (entry.received.get(outcome.run) ?? 0) >= outcome.events) return answer();
    const timer = setTimeout(answer, settings.eventGraceMs);
    entry.awaiting = {
      run: outcome.run,
      count: outcome.events,
      finish: () => {
        clearTimeout(timer);
        answer();
      },
    };
  };

  const answerFromReturnValue = (id: string, value: unknown) => {
    const entry = submitted.get(id);
    if (entry === undefined) return;
    if (isJobOutcome(value)) answerWith(id, value as JobOutcome<Result>);
    else refuse(entry, new HarnessError('INTERNAL', 'the job finished without a result this queue wrote'));
  };

  const answerFailed = (id: string, reason: string | undefined) => {
    const entry = submitted.get(id);
    if (entry === undefined || entry.finishing) return;
    refuse(entry, new HarnessError('INTERNAL', `the job failed: ${reason ?? 'unknown reason'}`));
  };

  queueEvents.on('completed', ({ jobId, returnvalue }) => answerFromReturnValue(jobId, returnvalue));
  queueEvents.on('failed', ({ jobId, failedReason }) => answerFailed(jobId, failedReason));
  queueEvents.on('removed', ({ jobId }) => {
    const entry = submitted.get(jobId);
    if (entry?.state === 'queued' && !entry.finishing) {
      refuse(entry, new HarnessError('CANCELLED', 'the script was cancelled'));
    }
  });

  const onCancelMessage = (message: string) => {
    const parsed = parseMessage(message) as Partial<CancelMessage> | undefined;
    if (typeof parsed?.id !== 'string') return;
    const error = new HarnessError(parsed.code === 'SHUTDOWN' ? 'SHUTDOWN' : 'CANCELLED', String(parsed.message));
    const run = running.get(parsed.id);
    if (run !== undefined && !run.controller.signal.aborted) run.controller.abort(error);
    const entry = submitted.get(parsed.id);
    if (entry !== undefined) refuse(entry, error);
  };

  const onEventMessage = (message: string) => {
    const parsed = parseMessage(message);
    if (typeof parsed?.id !== 'string' || typeof parsed.run !== 'string') return;
    deliverEvent(parsed.id, parsed.run, parsed.event as Event);
  };

  const subscription = subscribeChannels(
    options.connection,
    `${nodeId}:queue-subscriber`,
    new Map([
      [keys.cancelChannel, onCancelMessage],
      [keys.eventsChannel(nodeId), onEventMessage],
    ]),
    report,
  );

  // ---- running jobs ----------------------------------------------------------------------

  /** The retry rule's verdict; a rule that throws is reported and counts as "no retry". */
  const wantsRetry = (value: Result, attempt: number): boolean => {
    try {
      return options.retry?.shouldRetry?.(value, attempt) === true;
    } catch (error) {
      report(error, 'the retry rule (shouldRetry) threw');
      return false;
    }
  };

  /** Set as the abort reason of runs this node gives back to the queue when it shuts down. */
  const handOff = new HarnessError('SHUTDOWN', 'the node running the job shut down; another node runs it');

  const processJob = async (job: Job<JobData<Payload>>, token?: string): Promise<JobOutcome<Result>> => {
    const id = job.id as string;
    const run = randomUUID();
    const attempt = job.attemptsMade + 1;
    const controller = new AbortController();
    running.set(id, { controller });
    let events = 0;
    let publishing: Promise<unknown> = Promise.resolve();
    const { submitter } = job.data;
    const emit = (event: Event) => {
      if (controller.signal.aborted) return;
      events++;
      if (submitter === nodeId) {
        deliverEvent(id, run, event);
        return;
      }
      let message: string;
      try {
        message = JSON.stringify({ id, run, event });
      } catch (error) {
        report(error, `an event of job ${id} is not JSON`);
        return;
      }
      // One connection publishes in order; the chain keeps the last publish awaitable.
      publishing = commands
        .publish(keys.eventsChannel(submitter), message)
        .catch((error: unknown) => report(error, `sending an event of job ${id}`));
    };
    const stopped = async (): Promise<JobOutcome<Result> | undefined> => {
      if (!controller.signal.aborted) return undefined;
      if (controller.signal.reason === handOff) {
        // Back to waiting, for another node; BullMQ takes WaitingError as "moved, not failed".
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return { status: 'cancelled', error: toErrorData(controller.signal.reason), attempt, run, events };
    };
    let tenantSlot: NodeJS.Timeout | undefined;
    const tenantKey = keys.tenantRunning(job.data.tenant);
    try {
      if ((await commands.exists(keys.cancelled(id))) === 1) {
        controller.abort(new HarnessError('CANCELLED', 'the script was cancelled'));
        return (await stopped()) as JobOutcome<Result>;
      }
      const limit = settings.maxRunningPerTenant;
      if (limit !== undefined) {
        const takeSlot = () => commands.eval(TENANT_SLOT, 1, tenantKey, id, settings.lockDurationMs, limit);
        if ((await takeSlot()) !== 1) {
          // The tenant has its share running elsewhere: back to waiting for a moment, not failed.
          const wait = Math.round(settings.tenantWaitMs * (0.5 + random()));
          await job.moveToDelayed(Date.now() + wait, token);
          throw new DelayedError();
        }
        // Renewed like the job's lock, so the slot of a node that dies frees itself.
        tenantSlot = setInterval(
          () => void takeSlot().catch((error: unknown) => report(error, `renewing the tenant slot of job ${id}`)),
          Math.max(100, Math.floor(settings.lockDurationMs / 3)),
        );
      }
      let value: Result;
      try {
        value = await (settings.run as NonNullable<typeof settings.run>)(job.data.payload, {
          signal: controller.signal,
          attempt,
          id,
          emit,
        });
      } catch (error) {
        await publishing;
        const aborted = await stopped();
        if (aborted !== undefined) return aborted;
        failed++;
        return { status: 'error', error: toErrorData(error), attempt, run, events };
      }
      await publishing;
      const aborted = await stopped();
      if (aborted !== undefined) return aborted;
      if (attempt < maxAttempts && wantsRetry(value, attempt)) {
        retried++;
        // Failing the attempt hands it to BullMQ's retry with the backoff below; only here, never for a thrown run.
        throw new RetryRequested(attempt);
      }
      completed++;
      return { status: 'ok', value, attempt, run, events };
    } finally {
      if (tenantSlot !== undefined) {
        clearInterval(tenantSlot);
        await commands.zrem(tenantKey, id).catch((error: unknown) => report(error, `freeing the tenant slot of ${id}`));
      }
      running.delete(id);
      changed?.();
    }
  };

  const worker =
    role === 'api'
      ? undefined
      : new Worker<JobData<Payload>, JobOutcome<Result>>(name, processJob, {
          connection: bullConnection,
          prefix,
          name: nodeId,
          concurrency: settings.concurrency,
          lockDuration: settings.lockDurationMs,
          stalledInterval: settings.stalledIntervalMs,
          maxStalledCount: settings.maxStalledCount,
          settings: {
            backoffStrategy: (attemptsMade: number) =>
              retryDelayMs(attemptsMade, settings.baseDelayMs, settings.maxDelayMs, random),
          },
        });
  if (worker !== undefined) {
    watchErrors(worker, `worker of ${name}`, report);
    // A job this node submitted and ran itself is answered without waiting for the event stream.
    worker.on('completed', (job, result) => {
      if (job.data.submitter === nodeId && job.id !== undefined) answerFromReturnValue(job.id, result);
    });
  }

  const ready = Promise.all([
    queue.waitUntilReady(),
    queueEvents.waitUntilReady(),
    subscription.ready,
    worker?.waitUntilReady(),
  ]).then(() => undefined);
  // `ready` is awaited by every submission; this only keeps an early failure from being unhandled here.
  ready.catch(() => {});

  // ---- checking on submissions -----------------------------------------------------------

  const backlog = async (): Promise<number> => {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
    lastBacklog = Object.values(counts).reduce((sum, count) => sum + (count ?? 0), 0);
    return lastBacklog;
  };

  const checkOne = async (entry: Submitted<Result, Event>) => {
    entry.checkedAt = Date.now();
    const state = await queue.getJobState(entry.id);
    if (state === 'completed' || state === 'failed') {
      const job = await queue.getJob(entry.id);
      if (job === undefined) return;
      if (state === 'completed') answerFromReturnValue(entry.id, job.returnvalue);
      else answerFailed(entry.id, job.failedReason);
    } else if (state === 'unknown') {
      const cancelled = (await commands.exists(keys.cancelled(entry.id))) === 1;
      refuse(
        entry,
        cancelled
          ? new HarnessError('CANCELLED', 'the script was cancelled')
          : new HarnessError('INTERNAL', 'the job is no longer in Redis'),
      );
    }
  };

  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      await backlog();
      const due = Date.now() - settings.pollIntervalMs;
      const stale = [...submitted.values()].filter((entry) => entry.state === 'queued' && entry.checkedAt <= due);
      for (let i = 0; i < stale.length; i += 50) {
        await Promise.all(stale.slice(i, i + 50).map(checkOne));
      }
    } catch (error) {
      report(error, `checking on the jobs of queue ${name}`);
    } finally {
      polling = false;
    }
  };
  const pollTimer = setInterval(() => void poll(), settings.pollIntervalMs);
  pollTimer.unref();

  // ---- submitting ------------------------------------------------------------------------

  const admit = async (entry: Submitted<Result, Event>, data: JobData<Payload>, priority: number) => {
    try {
      await withinTime(ready, READY_TIMEOUT_MS, 'the job could not be stored');
      if (entry.state !== 'admitting') return;
      if ((await backlog()) >= maxQueued) {
        rejected++;
        refuse(entry, queueFull(maxQueued));
        return;
      }
      const claimed = await commands.set(keys.submitted(entry.id), nodeId, 'PX', settings.resultRetentionMs, 'NX');
      if (claimed === null) {
        refuse(entry, new HarnessError('INVALID_REQUEST', `a job with id ${entry.id} already exists`));
        return;
      }
      // Cancelled while being admitted: the claim stays, so the id is not reused, but nothing runs.
      if (entry.state !== 'admitting') return;
      try {
        await queue.add(JOB_NAME, data, {
          jobId: entry.id,
          priority,
          attempts: maxAttempts,
          backoff: { type: 'harness' },
          removeOnComplete: { age: Math.ceil(settings.resultRetentionMs / 1000) },
          removeOnFail: { age: Math.ceil(settings.resultRetentionMs / 1000) },
        });
      } catch (error) {
        // Not stored: the id is free again for the client's retry.
        await commands.del(keys.submitted(entry.id)).catch(() => 0);
        throw error;
      }
      if (entry.state === 'admitting') {
        entry.state = 'queued';
        entry.checkedAt = Date.now();
        entry.markEnqueued(true);
      }
    } catch (error) {
      refuse(
        entry,
        error instanceof HarnessError
          ? error
          : new HarnessError('INTERNAL', `the job could not be stored in Redis: ${messageOf(error)}`),
      );
    }
  };

  const newEntry = (
    id: string,
    onEvent: ((event: Event) => void) | undefined,
    owned: boolean,
  ): Submitted<Result, Event> => {
    let resolve: (result: Result) => void = () => {};
    let reject: (error: unknown) => void = () => {};
    let markEnqueued: (enqueued: boolean) => void = () => {};
    const promise = new Promise<Result>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const enqueued = new Promise<boolean>((res) => (markEnqueued = res));
    return {
      id,
      promise,
      enqueued,
      resolve,
      reject,
      markEnqueued,
      onEvent,
      owned,
      state: 'admitting',
      finishing: false,
      received: new Map(),
      checkedAt: Date.now(),
    };
  };

  const broadcastCancel = async (id: string, code: CancelMessage['code'], message: string) => {
    // The flag first: a worker that picks the job up after this sees it; one that already runs it hears the message.
    await commands.set(keys.cancelled(id), code, 'PX', settings.resultRetentionMs);
    await commands.publish(keys.cancelChannel, JSON.stringify({ id, code, message } satisfies CancelMessage));
    // Queued or waiting for a retry: gone at once. Running jobs are locked and stay until their run stops.
    await queue.remove(id).catch(() => 0);
  };

  /** Cancels being sent to Redis; `close` waits for them before it closes the connections. */
  const broadcasts = new Set<Promise<void>>();
  const cancelHere = (id: string, error: HarnessError) => {
    const entry = submitted.get(id);
    const run = running.get(id);
    if (entry !== undefined) refuse(entry, error);
    if (run !== undefined && !run.controller.signal.aborted) run.controller.abort(error);
    const sent = broadcastCancel(id, error.code === 'SHUTDOWN' ? 'SHUTDOWN' : 'CANCELLED', error.message)
      .catch((failure: unknown) => report(failure, `cancelling job ${id}`))
      .finally(() => broadcasts.delete(sent));
    broadcasts.add(sent);
  };

  return {
    nodeId,
    role,
    ready,

    submit(submission) {
      if (!accepting) throw new HarnessError('SHUTDOWN', 'the harness is shutting down and accepts no new scripts');
      assertJsonPayload(submission.payload);
      const id = submission.id ?? randomUUID();
      assertJobId(id);
      if (submitted.has(id)) throw new HarnessError('INVALID_REQUEST', `a job with id ${id} already exists`);
      let admitting = 0;
      for (const entry of submitted.values()) if (entry.state === 'admitting') admitting++;
      if (lastBacklog + admitting >= maxQueued) {
        rejected++;
        throw queueFull(maxQueued);
      }
      const entry = newEntry(id, submission.onEvent, true);
      submitted.set(id, entry);
      const data: JobData<Payload> = {
        payload: submission.payload,
        submitter: nodeId,
        tenant: submission.tenant ?? '',
        submittedAt: Date.now(),
      };
      submission.signal?.addEventListener(
        'abort',
        () => {
          if (submitted.get(id) === entry) {
            cancelHere(id, new HarnessError('CANCELLED', 'the script was cancelled by the caller'));
          }
        },
        { once: true },
      );
      if (submission.signal?.aborted === true) {
        cancelHere(id, new HarnessError('CANCELLED', 'the script was cancelled by the caller'));
      } else {
        void admit(entry, data, BULLMQ_PRIORITY[submission.priority ?? 'normal']);
      }
      return { id, result: entry.promise, enqueued: entry.enqueued };
    },

    cancel(id) {
      // Only jobs this node knows: a cancel for any id would let a caller leave flags in Redis at will.
      if (!submitted.has(id) && !running.has(id)) return false;
      cancelHere(id, new HarnessError('CANCELLED', 'the script was cancelled'));
      return true;
    },

    async cancelAnywhere(id) {
      await withinTime(ready, READY_TIMEOUT_MS, 'the job could not be cancelled');
      const state = await queue.getJobState(id);
      if (state === 'unknown' || state === 'completed' || state === 'failed') return false;
      cancelHere(id, new HarnessError('CANCELLED', 'the script was cancelled'));
      return true;
    },

    async attach(id) {
      const known = submitted.get(id);
      if (known !== undefined) return { id, result: known.promise };
      await withinTime(ready, READY_TIMEOUT_MS, 'the job could not be looked up');
      const state = await queue.getJobState(id);
      if (state === 'unknown') return undefined;
      const entry = newEntry(id, undefined, false);
      entry.state = 'queued';
      entry.markEnqueued(true);
      submitted.set(id, entry);
      // Asked at once, so a job that finished long ago answers now, not at the next poll.
      await checkOne(entry);
      return { id, result: entry.promise };
    },

    stats: () => ({
      queued: lastBacklog,
      running: running.size,
      completed,
      failed,
      retried,
      rejected,
      accepting,
    }),

    close({ graceMs = 30_000 } = {}) {
      closing ??= (async () => {
        accepting = false;
        // No new jobs for this node; the ones it runs carry on.
        await worker?.pause(true).catch((error: unknown) => report(error, `pausing the worker of ${name}`));
        await until(
          () => submitted.size === 0 && running.size === 0,
          graceMs,
          (notify) => (changed = notify),
        );
        clearInterval(pollTimer);
        const shutDown = new HarnessError('SHUTDOWN', 'the harness shut down before the script finished');
        for (const entry of [...submitted.values()]) {
          // Its client is told SHUTDOWN and may submit again: the job must not run as well.
          if (entry.owned) cancelHere(entry.id, shutDown);
          else refuse(entry, shutDown);
        }
        for (const run of running.values()) {
          if (!run.controller.signal.aborted) run.controller.abort(handOff);
        }
        const letGo =
          running.size > 0 &&
          !(await until(
            () => running.size === 0,
            HANDOFF_WAIT_MS,
            (n) => (changed = n),
          ));
        changed = undefined;
        // A run that ignores its signal is let go: its lock expires and another node runs the job.
        await worker?.close(letGo).catch((error: unknown) => report(error, `closing the worker of ${name}`));
        await Promise.allSettled([...broadcasts]);
        await Promise.allSettled([queueEvents.close(), queue.close(), subscription.close(), closeClient(commands)]);
      })();
      return closing;
    },
  };
}

/** Thrown by a run whose result the retry policy wants tried again; BullMQ then schedules the retry. */
class RetryRequested extends Error {
  constructor(attempt: number) {
    super(`attempt ${attempt} asked to be retried`);
    this.name = 'RetryRequested';
  }
}

export interface ResolvedQueueOptions<Payload, Result, Event> {
  readonly name: string;
  readonly prefix: string;
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly run: BullMQQueueOptions<Payload, Result, Event>['run'];
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly maxRunningPerTenant: number | undefined;
  readonly tenantWaitMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  readonly resultRetentionMs: number;
  readonly pollIntervalMs: number;
  readonly eventGraceMs: number;
}

/** Checks the options and fills in the defaults; throws INVALID_REQUEST naming the first bad option. */
export function resolveQueueOptions<Payload, Result, Event>(
  options: BullMQQueueOptions<Payload, Result, Event>,
): ResolvedQueueOptions<Payload, Result, Event> {
  if (!NODE_ROLES.includes(options.role)) {
    throw new HarnessError('INVALID_REQUEST', `role must be one of ${NODE_ROLES.join(', ')}`);
  }
  if (options.role !== 'api' && typeof options.run !== 'function') {
    throw new HarnessError('INVALID_REQUEST', `a node with role ${options.role} runs jobs and needs run`);
  }
  const name = options.name ?? 'scripts';
  const prefix = options.prefix ?? 'harness';
  for (const [label, value] of [
    ['name', name],
    ['prefix', prefix],
  ] as const) {
    if (!/^[\w.-]{1,100}$/.test(value)) {
      throw new HarnessError('INVALID_REQUEST', `${label} must be 1 to 100 letters, digits, ".", "_" or "-"`);
    }
  }
  const nodeId = options.nodeId ?? defaultNodeId();
  if (!/^[\w.-]{1,100}$/.test(nodeId)) {
    throw new HarnessError('INVALID_REQUEST', 'nodeId must be 1 to 100 letters, digits, ".", "_" or "-"');
  }
  const lockDurationMs = positive(options.lockDurationMs, 30_000, 'lockDurationMs');
  return {
    name,
    prefix,
    nodeId,
    role: options.role,
    run: options.run,
    concurrency: positive(options.concurrency, undefined, 'concurrency'),
    maxQueued: positive(options.maxQueued, undefined, 'maxQueued'),
    maxRunningPerTenant:
      options.maxRunningPerTenant === undefined
        ? undefined
        : positive(options.maxRunningPerTenant, undefined, 'maxRunningPerTenant'),
    tenantWaitMs: positive(options.tenantWaitMs, 200, 'tenantWaitMs'),
    maxAttempts: positive(options.retry?.maxAttempts, 3, 'retry.maxAttempts'),
    baseDelayMs: positive(options.retry?.baseDelayMs, 100, 'retry.baseDelayMs'),
    maxDelayMs: positive(options.retry?.maxDelayMs, 5_000, 'retry.maxDelayMs'),
    lockDurationMs,
    stalledIntervalMs: positive(options.stalledIntervalMs, Math.max(1_000, lockDurationMs / 2), 'stalledIntervalMs'),
    maxStalledCount: positive(options.maxStalledCount, 2, 'maxStalledCount'),
    resultRetentionMs: positive(options.resultRetentionMs, 3_600_000, 'resultRetentionMs'),
    pollIntervalMs: positive(options.pollIntervalMs, 1_000, 'pollIntervalMs'),
    eventGraceMs: positive(options.eventGraceMs, 500, 'eventGraceMs'),
  };
}

/** A node id that differs between processes and hosts: host name, process id, random suffix. */
export function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^\w.-]/g, '-')
      .slice(0, 60) || 'node';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function positive(value: number | undefined, fallback: number | undefined, label: string): number {
  const chosen = value ?? fallback;
  if (chosen === undefined || !Number.isSafeInteger(chosen) || chosen <= 0) {
    throw new HarnessError('INVALID_REQUEST', `${label} must be a positive integer`);
  }
  return chosen;
}

function queueFull(maxQueued: number): HarnessError {
  return new HarnessError('QUEUE_FULL', `too many scripts are waiting (${maxQueued}); retry shortly`, {
    details: { maxQueued },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Waits until `done()` holds, re-checking whenever the notifier installed through `watch` is
 * called, for at most `timeoutMs`. Resolves whether it held.
 */
function until(done: () => boolean, timeoutMs: number, watch: (notify: () => void) => void): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    // Not unref'd: a node that is closing stays up until its jobs are answered or the grace ends.
    const timer = setTimeout(() => resolve(done()), timeoutMs);
    watch(() => {
      if (!done()) return;
      clearTimeout(timer);
      resolve(true);
    });
  });
}
