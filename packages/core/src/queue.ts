/**
 * The job queue contract and its in-process implementation (the default scheduler): a priority
 * queue with bounded length, bounded concurrency (overall and per tenant), retries with
 * exponential backoff and jitter for retryable failures only, cancellation, and a graceful close.
 * `@script-harness/queue-bullmq` implements the same contract on Redis.
 */
import { randomUUID } from 'node:crypto';
import { HarnessError } from './errors.ts';

export type JobPriority = 'high' | 'normal' | 'low';

export interface JobSubmission<Payload> {
  readonly payload: Payload;
  readonly priority?: JobPriority;
  /** Who the job is for; concurrency per tenant is bounded. */
  readonly tenant?: string;
  /** Aborting cancels the job (queued: removed; running: its signal fires). */
  readonly signal?: AbortSignal;
  readonly id?: string;
}

export interface JobHandle<Result> {
  readonly id: string;
  /** Settles with the job's result, or rejects with a HarnessError (QUEUE_FULL, SHUTDOWN, CANCELLED). */
  readonly result: Promise<Result>;
}

export interface JobQueueStats {
  readonly queued: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly retried: number;
  readonly rejected: number;
  readonly accepting: boolean;
}

export interface JobQueue<Payload, Result> {
  /** Enqueues a job; throws QUEUE_FULL when the queue is at its bound, SHUTDOWN when closing. */
  submit(job: JobSubmission<Payload>): JobHandle<Result>;
  /** Cancels a queued or running job; false when no such job is known. */
  cancel(id: string): boolean;
  stats(): JobQueueStats;
  /**
   * Stops accepting jobs, lets queued and running ones finish for up to `graceMs`, then cancels
   * the rest (their results reject with SHUTDOWN).
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

export interface RetryPolicy<Result> {
  /** Total attempts including the first. Default 3. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Whether a finished attempt should be tried again. Default: never. */
  readonly shouldRetry?: (result: Result, attempt: number) => boolean;
}

export interface InProcessQueueOptions<Payload, Result> {
  /** Runs one job; must settle (it is given a signal for cancellation). */
  readonly run: (
    payload: Payload,
    context: { readonly signal: AbortSignal; readonly attempt: number; readonly id: string },
  ) => Promise<Result>;
  readonly concurrency: number;
  /** Jobs waiting beyond this are refused with QUEUE_FULL. */
  readonly maxQueued: number;
  readonly maxRunningPerTenant?: number;
  readonly retry?: RetryPolicy<Result>;
  /** Random source for jitter (tests pass a fixed one). */
  readonly random?: () => number;
}

const PRIORITY_RANK: Record<JobPriority, number> = { high: 0, normal: 1, low: 2 };

interface QueuedJob<Payload, Result> {
  readonly id: string;
  readonly payload: Payload;
  readonly rank: number;
  readonly sequence: number;
  readonly tenant: string;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
  readonly controller: AbortController;
  attempt: number;
  state: 'queued' | 'running' | 'waiting-retry' | 'done';
  retryTimer?: NodeJS.Timeout;
}

/** Delay before attempt `attempt + 1`: exponential with full jitter, capped. */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function createInProcessQueue<Payload, Result>(
  options: InProcessQueueOptions<Payload, Result>,
): JobQueue<Payload, Result> {
  const heap = new JobHeap<QueuedJob<Payload, Result>>();
  const jobs = new Map<string, QueuedJob<Payload, Result>>();
  const runningPerTenant = new Map<string, number>();
  const deferredByTenant: QueuedJob<Payload, Result>[] = [];
  const random = options.random ?? Math.random;
  const maxAttempts = options.retry?.maxAttempts ?? 3;
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5_000;
  const perTenant = options.maxRunningPerTenant ?? Number.POSITIVE_INFINITY;
  let sequence = 0;
  let running = 0;
  let accepting = true;
  let completed = 0;
  let failed = 0;
  let retried = 0;
  let rejected = 0;
  let idle: (() => void) | undefined;

  const finish = (job: QueuedJob<Payload, Result>) => {
    job.state = 'done';
    jobs.delete(job.id);
    if (jobs.size === 0) idle?.();
  };

  const pump = () => {
    // Jobs held back by their tenant's limit go first once a slot frees up, in their order.
    while (running < options.concurrency) {
      const next = takeRunnable();
      if (next === undefined) return;
      start(next);
    }
  };

  const takeRunnable = (): QueuedJob<Payload, Result> | undefined => {
    for (let i = 0; i < deferredByTenant.length; i++) {
      const job = deferredByTenant[i] as QueuedJob<Payload, Result>;
      if ((runningPerTenant.get(job.tenant) ?? 0) < perTenant) {
        deferredByTenant.splice(i, 1);
        return job;
      }
    }
    for (;;) {
      const job = heap.pop();
      if (job === undefined) return undefined;
      if (job.state !== 'queued') continue;
      if ((runningPerTenant.get(job.tenant) ?? 0) < perTenant) return job;
      // Held back by its tenant's limit: keep the held list in priority order too.
      const at = deferredByTenant.findIndex((held) => before(job, held));
      deferredByTenant.splice(at === -1 ? deferredByTenant.length : at, 0, job);
    }
  };

  const start = (job: QueuedJob<Payload, Result>) => {
    job.state = 'running';
    job.attempt++;
    running++;
    runningPerTenant.set(job.tenant, (runningPerTenant.get(job.tenant) ?? 0) + 1);
    const settle = () => {
      running--;
      runningPerTenant.set(job.tenant, (runningPerTenant.get(job.tenant) ?? 1) - 1);
    };
    options.run(job.payload, { signal: job.controller.signal, attempt: job.attempt, id: job.id }).then(
      (result) => {
        settle();
        if (job.state === 'done') return pump();
        if (
          job.attempt < maxAttempts &&
          !job.controller.signal.aborted &&
          options.retry?.shouldRetry?.(result, job.attempt) === true
        ) {
          retried++;
          job.state = 'waiting-retry';
          job.retryTimer = setTimeout(
            () => {
              if (job.state !== 'waiting-retry') return;
              job.state = 'queued';
              heap.push(job);
              pump();
            },
            retryDelayMs(job.attempt, baseDelayMs, maxDelayMs, random),
          );
        } else {
          completed++;
          finish(job);
          job.resolve(result);
        }
        pump();
      },
      (error: unknown) => {
        settle();
        if (job.state !== 'done') {
          failed++;
          finish(job);
          job.reject(error);
        }
        pump();
      },
    );
  };

  const cancelJob = (job: QueuedJob<Payload, Result>, error: HarnessError) => {
    if (job.state === 'done') return;
    clearTimeout(job.retryTimer);
    const wasRunning = job.state === 'running';
    finish(job);
    job.controller.abort(error);
    job.reject(error);
    if (!wasRunning) {
      const index = deferredByTenant.indexOf(job);
      if (index !== -1) deferredByTenant.splice(index, 1);
    }
  };

  return {
    submit(submission) {
      if (!accepting) throw new HarnessError('SHUTDOWN', 'the harness is shutting down and accepts no new scripts');
      const queued = jobs.size - running;
      if (queued >= options.maxQueued) {
        rejected++;
        throw new HarnessError('QUEUE_FULL', `too many scripts are waiting (${options.maxQueued}); retry shortly`, {
          details: { maxQueued: options.maxQueued },
        });
      }
      const id = submission.id ?? randomUUID();
      if (jobs.has(id)) throw new HarnessError('INVALID_REQUEST', `a job with id ${id} already exists`);
      let resolve: (result: Result) => void = () => {};
      let reject: (error: unknown) => void = () => {};
      const result = new Promise<Result>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const job: QueuedJob<Payload, Result> = {
        id,
        payload: submission.payload,
        rank: PRIORITY_RANK[submission.priority ?? 'normal'],
        sequence: sequence++,
        tenant: submission.tenant ?? '',
        resolve,
        reject,
        controller: new AbortController(),
        attempt: 0,
        state: 'queued',
      };
      jobs.set(id, job);
      submission.signal?.addEventListener(
        'abort',
        () => cancelJob(job, new HarnessError('CANCELLED', 'the script was cancelled by the caller')),
        { once: true },
      );
      heap.push(job);
      pump();
      return { id, result };
    },
    cancel(id) {
      const job = jobs.get(id);
      if (job === undefined) return false;
      cancelJob(job, new HarnessError('CANCELLED', 'the script was cancelled'));
      return true;
    },
    stats: () => ({
      queued: jobs.size - running,
      running,
      completed,
      failed,
      retried,
      rejected,
      accepting,
    }),
    async close({ graceMs = 30_000 } = {}) {
      accepting = false;
      if (jobs.size > 0) {
        await new Promise<void>((resolve) => {
          // Not unref'd: a process that is closing its queue must stay up until the jobs are answered.
          const timer = setTimeout(resolve, graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      for (const job of [...jobs.values()]) {
        cancelJob(job, new HarnessError('SHUTDOWN', 'the harness shut down before the script finished'));
      }
    },
  };
}

/** A binary min-heap ordered by (rank, sequence): priority first, then arrival. */
class JobHeap<T extends { readonly rank: number; readonly sequence: number }> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as T, items[parent] as T)) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left] as T, items[smallest] as T)) smallest = left;
        if (right < items.length && before(items[right] as T, items[smallest] as T)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as T, items[i] as T];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: { rank: number; sequence: number }, b: { rank: number; sequence: number }): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.sequence < b.sequence);
}

/**
 * The default retry rule for scripts: only failures the harness marks retryable (a worker died, the
 * queue was full) and only when the script made no tool call, so a retry never repeats a side effect.
 */
export function isRetryableScriptFailure(result: {
  readonly ok: boolean;
  readonly error?: { readonly retryable: boolean };
  readonly calls: readonly unknown[];
}): boolean {
  return !result.ok && result.error?.retryable === true && result.calls.length === 0;
}
