/**
 * The worker-thread pool of the QuickJS runtime.
 *
 * Each worker loads QuickJS once and runs many scripts at a time, each in a warm sandbox restored
 * from its snapshot or in a fresh runtime and context (see snapshot.ts); scripts that wait for tool calls interleave, so a worker is never idle while
 * a tool is slow. A new script goes to the worker with the fewest running scripts.
 *
 * The interrupt handler inside the worker enforces every deadline. The pool adds the kill switch
 * outside the engine: if a script is still running past its deadline plus a grace period (stuck in
 * a long native builtin, where the interrupt handler is never consulted), the worker is terminated
 * and replaced; that script ends as TIMEOUT and the others on the worker as INTERNAL (retryable).
 * A worker that dies for any other reason ends its scripts as INTERNAL too, and the pool heals.
 * Workers are recycled after a number of scripts in fresh contexts and when their memory grows past
 * a bound.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { GuestErrorInfo, HostBridge, RunOutcome, RunRequest, SandboxLimits } from '@script-harness/core';
import type { FromWorker, ToWorker, WorkerData } from './protocol.ts';

export interface QuickJSPoolOptions {
  /** Worker threads; default: the number of cores. */
  readonly size?: number;
  /**
   * Scripts a worker runs in fresh runtimes and contexts before it is replaced (they leave their
   * fragments in the worker's shared QuickJS module). Scripts in warm sandboxes do not count: the
   * snapshot restore leaves nothing of them behind. Default 1,000.
   */
  readonly recycleAfterScripts?: number;
  /** Worker memory (JS heap outside WebAssembly plus WebAssembly memory) that triggers recycling. Default 512 MB. */
  readonly recycleAboveBytes?: number;
  /** How long past its deadline a script may run before its worker is terminated. Default 1,000 ms. */
  readonly killGraceMs?: number;
  /** Outer cap on each worker's JS heap: an allocation that slips past QuickJS accounting cannot take the process down. */
  readonly maxOldGenerationSizeMb?: number;
  /** Native stack of each worker thread; large, so QuickJS's own stack limit always fires first. */
  readonly stackSizeMb?: number;
}

export interface PoolStats {
  readonly size: number;
  readonly busy: number;
  readonly running: number;
  readonly workerRestarts: number;
  readonly workerKills: number;
  /** Scripts that ran in a warm sandbox restored from a snapshot (see snapshot.ts). */
  readonly warmRuns: number;
  /** Scripts that found no warm sandbox idle and booted a fresh runtime and context. */
  readonly freshRuns: number;
}

interface PoolJob {
  readonly id: number;
  /** Set when the worker starts the script; a queued script has no deadline yet. */
  deadline: number;
  readonly bridge: HostBridge;
  readonly resolve: (outcome: RunOutcome) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly jobs: Map<number, PoolJob>;
  /** Scripts run in fresh contexts on the worker's shared module (see `recycleAfterScripts`). */
  freshScriptsRun: number;
  retiring: boolean;
  dead: boolean;
  /** When the worker last sent anything: a worker stuck in native code cannot answer. */
  lastSeen: number;
  pinged: boolean;
}

/** The worker module next to this one: `worker.ts` run from source, `worker.js` in the built package. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

export class QuickJSPool {
  readonly #size: number;
  readonly #recycleAfter: number;
  readonly #recycleAbove: number;
  readonly #killGraceMs: number;
  readonly #resourceLimits: { maxOldGenerationSizeMb: number; stackSizeMb: number };
  readonly #workers: PoolWorker[] = [];
  #nextJobId = 1;
  #closed = false;
  #restarts = 0;
  #kills = 0;
  #warmRuns = 0;
  #freshRuns = 0;
  readonly #warmSandboxes: number;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(options: QuickJSPoolOptions = {}, warmSandboxes = 2) {
    this.#warmSandboxes = warmSandboxes;
    this.#size = Math.max(1, options.size ?? availableParallelism());
    this.#recycleAfter = options.recycleAfterScripts ?? 1_000;
    this.#recycleAbove = options.recycleAboveBytes ?? 512 * 1024 * 1024;
    this.#killGraceMs = options.killGraceMs ?? 1_000;
    this.#resourceLimits = {
      maxOldGenerationSizeMb: options.maxOldGenerationSizeMb ?? 256,
      stackSizeMb: options.stackSizeMb ?? 16,
    };
    for (let i = 0; i < this.#size; i++) this.#workers.push(this.#spawn());
  }

  /** Resolves when every worker has loaded QuickJS. */
  async ready(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.ready));
  }

  stats(): PoolStats {
    let running = 0;
    let busy = 0;
    for (const w of this.#workers) {
      running += w.jobs.size;
      if (w.jobs.size > 0) busy++;
    }
    return {
      size: this.#workers.length,
      busy,
      running,
      workerRestarts: this.#restarts,
      workerKills: this.#kills,
      warmRuns: this.#warmRuns,
      freshRuns: this.#freshRuns,
    };
  }

  run(limits: SandboxLimits, request: RunRequest, bridge: HostBridge, signal: AbortSignal): Promise<RunOutcome> {
    if (this.#closed) {
      return Promise.resolve({ ok: false, error: { code: 'SHUTDOWN', message: 'the QuickJS pool is closed' } });
    }
    const target = this.#pick();
    const id = this.#nextJobId++;
    return new Promise<RunOutcome>((resolve) => {
      const onAbort = () => {
        const reason = signal.reason as { code?: unknown; message?: unknown } | undefined;
        const code = (typeof reason?.code === 'string' ? reason.code : 'CANCELLED') as GuestErrorInfo['code'];
        const message = typeof reason?.message === 'string' ? reason.message : 'the script was stopped';
        this.#post(target, { type: 'abort', jobId: id, code, message });
      };
      const job: PoolJob = { id, deadline: Number.POSITIVE_INFINITY, bridge, resolve, signal, onAbort };
      target.jobs.set(id, job);
      if (target.jobs.size === 1) target.worker.ref();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#post(target, { type: 'run', jobId: id, limits, request });
      this.#armWatchdog();
    });
  }

  /**
   * Terminates every worker at once (an operator's last resort for a wedged pool). Their scripts
   * end as INTERNAL, which is retryable; fresh workers take over.
   */
  async terminateWorkers(): Promise<void> {
    await Promise.all([...this.#workers].map((entry) => entry.worker.terminate()));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    const workers = this.#workers.splice(0);
    for (const w of workers) this.#fail(w, 'SHUTDOWN', 'the QuickJS pool was closed before the script finished');
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  #spawn(): PoolWorker {
    const workerData: WorkerData = { warmSandboxes: this.#warmSandboxes };
    const worker = new Worker(WORKER_URL, { resourceLimits: this.#resourceLimits, workerData });
    let markReady: () => void = () => {};
    const entry: PoolWorker = {
      worker,
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      jobs: new Map(),
      freshScriptsRun: 0,
      retiring: false,
      dead: false,
      lastSeen: Date.now(),
      pinged: false,
    };
    worker.on('message', (message: FromWorker) => {
      entry.lastSeen = Date.now();
      entry.pinged = false;
      if (message.type === 'ready') {
        markReady();
        if (entry.jobs.size === 0) worker.unref();
      } else this.#onMessage(entry, message);
    });
    worker.on('error', () => {
      // The exit handler below ends the scripts; an 'error' (e.g. out of memory) always precedes an exit.
    });
    worker.on('exit', () => {
      markReady();
      this.#onExit(entry);
    });
    // A worker keeps the process alive only while it starts or runs scripts; an idle pool does not.
    return entry;
  }

  #pick(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const w of this.#workers) {
      if (w.retiring || w.dead) continue;
      if (best === undefined || w.jobs.size < best.jobs.size) best = w;
    }
    if (best !== undefined) return best;
    // Every worker is retiring: start a fresh one rather than queueing behind them.
    const fresh = this.#spawn();
    this.#workers.push(fresh);
    return fresh;
  }

  #post(target: PoolWorker, message: ToWorker): void {
    if (!target.dead) target.worker.postMessage(message);
  }

  #onMessage(entry: PoolWorker, message: FromWorker): void {
    switch (message.type) {
      case 'call': {
        const job = entry.jobs.get(message.jobId);
        if (job === undefined) return;
        void job.bridge.callTool(message.callId, message.name, message.argsJson).then((reply) => {
          if (entry.jobs.has(message.jobId))
            this.#post(entry, { type: 'reply', jobId: message.jobId, callId: message.callId, reply });
        });
        return;
      }
      case 'emit':
        entry.jobs.get(message.jobId)?.bridge.emit(message.kind, message.level, message.text);
        return;
      case 'started': {
        const job = entry.jobs.get(message.jobId);
        if (job === undefined) return;
        job.deadline = message.deadline;
        job.bridge.started(message.deadline, {
          // While held, the kill switch must not count the wait against the script.
          hold: () => {
            job.deadline = Number.POSITIVE_INFINITY;
            this.#post(entry, { type: 'hold', jobId: job.id });
          },
          release: () => this.#post(entry, { type: 'release', jobId: job.id }),
        });
        return;
      }
      case 'done': {
        const job = entry.jobs.get(message.jobId);
        if (job === undefined) return;
        if (message.warm) this.#warmRuns++;
        else {
          this.#freshRuns++;
          entry.freshScriptsRun++;
        }
        this.#finish(entry, job, message.outcome);
        // A retiring worker ends with its last script (it stays past the recycling bound until then).
        if (entry.retiring) {
          if (entry.jobs.size === 0) void entry.worker.terminate();
        } else if (entry.freshScriptsRun >= this.#recycleAfter || message.wasmBytes > this.#recycleAbove) {
          this.#retire(entry);
        }
        return;
      }
    }
  }

  #finish(entry: PoolWorker, job: PoolJob, outcome: RunOutcome): void {
    entry.jobs.delete(job.id);
    if (entry.jobs.size === 0) entry.worker.unref();
    job.signal.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  /** Stops sending work to a worker, starts its replacement, and ends it once its scripts finish. */
  #retire(entry: PoolWorker): void {
    if (entry.retiring) return;
    entry.retiring = true;
    this.#replace(entry);
    if (entry.jobs.size === 0) void entry.worker.terminate();
  }

  #replace(entry: PoolWorker): void {
    const index = this.#workers.indexOf(entry);
    if (index === -1 || this.#closed) return;
    this.#workers.splice(index, 1, this.#spawn());
    this.#restarts++;
  }

  #onExit(entry: PoolWorker): void {
    entry.dead = true;
    this.#fail(entry, 'INTERNAL', 'the worker running the script stopped unexpectedly; the script may be retried');
    if (!entry.retiring) this.#replace(entry);
    else {
      const index = this.#workers.indexOf(entry);
      if (index !== -1) this.#workers.splice(index, 1);
    }
  }

  #fail(entry: PoolWorker, code: GuestErrorInfo['code'], message: string): void {
    for (const job of [...entry.jobs.values()]) this.#finish(entry, job, { ok: false, error: { code, message } });
  }

  /** The kill switch: checks running scripts against their deadlines while any run. */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined) return;
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      let running = 0;
      for (const entry of [...this.#workers]) {
        running += entry.jobs.size;
        let overdue: PoolJob | undefined;
        for (const job of entry.jobs.values()) if (now > job.deadline + this.#killGraceMs) overdue = job;
        if (overdue === undefined) continue;
        // Overdue, but is the worker stuck or only slow (a busy machine)? A stuck worker cannot answer.
        if (now - entry.lastSeen < this.#killGraceMs) {
          if (!entry.pinged) {
            entry.pinged = true;
            this.#post(entry, { type: 'ping' });
          }
          continue;
        }
        this.#kills++;
        this.#finish(entry, overdue, {
          ok: false,
          error: { code: 'TIMEOUT', message: 'the script ran past its deadline and its worker was terminated' },
        });
        entry.retiring = true;
        this.#replace(entry);
        entry.dead = true;
        this.#fail(
          entry,
          'INTERNAL',
          'the worker was terminated because another script on it hung; the script may be retried',
        );
        void entry.worker.terminate();
      }
      if (running === 0 && this.#watchdog !== undefined) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, 100);
    this.#watchdog.unref();
  }
}
