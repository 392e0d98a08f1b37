/**
 * The child-process pool of the isolated-vm runtime (parent side).
 *
 * isolated-vm's memory limit is soft and an out-of-memory inside V8 can abort the whole process,
 * so the isolates never live in the caller's process: each child (started with
 * `--no-node-snapshot`) hosts many scripts at a time, each in a fresh isolate. A new script goes to
 * the child with the fewest running scripts.
 *
 * The child enforces deadlines itself (it disposes the isolate). The pool adds what a child cannot
 * do for itself:
 * - the kill switch: a script still running past its deadline plus a grace period (V8 stuck in a
 *   long native builtin, where disposal does not reach it) gets its child killed and replaced; that
 *   script ends as TIMEOUT and the others on the child as INTERNAL (retryable);
 * - the memory bound: a child that reports itself past its resident-set bound (or that the pool
 *   reads past it) is killed and replaced; the scripts that grew it end as MEMORY_LIMIT, the others
 *   as INTERNAL; a child whose isolate V8 lost control of (a catastrophic out-of-memory) likewise;
 * - healing: a child that dies for any other reason ends its scripts as INTERNAL and is replaced.
 * Children are also recycled after a number of scripts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type {
  ErrorCode,
  GuestErrorInfo,
  HostBridge,
  RunOutcome,
  RunRequest,
  SandboxLimits,
} from '@script-harness/core';
import type { ChildConfig, FromChild, ToChild } from './protocol.ts';

export interface IsolatedVMPoolOptions {
  /**
   * Child processes; default 2. Each prepares its next isolate as soon as a script ends, and the
   * pool gives a script to the child that has waited longest, so with two one always has it ready.
   */
  readonly size?: number;
  /** Scripts a child runs before it is replaced. Default 1,000. */
  readonly recycleAfterScripts?: number;
  /** Resident set size of a child past which it is killed and replaced. Default 1,024 MB. */
  readonly maxRssMb?: number;
  /** How long past its deadline a script may run before its child is killed. Default 1,000 ms. */
  readonly killGraceMs?: number;
  /** Module specifier or path of isolated-vm, as the child resolves it. Default `isolated-vm`. */
  readonly modulePath?: string;
}

export interface IsolatedVMPoolStats {
  /** Live child processes. */
  readonly size: number;
  /** Children running at least one script. */
  readonly busy: number;
  /** Scripts running. */
  readonly running: number;
  /** Children started to replace one that was recycled, killed or died. */
  readonly processRestarts: number;
  /** Children killed by the kill switch or the memory bound. */
  readonly processKills: number;
}

interface PoolJob {
  readonly id: number;
  /** Set when the child starts the script (and moved by holds); a queued script has no deadline yet. */
  deadline: number;
  readonly bridge: HostBridge;
  readonly resolve: (outcome: RunOutcome) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

interface PoolChild {
  readonly process: ChildProcess;
  readonly ready: Promise<string | undefined>;
  readonly jobs: Map<number, PoolJob>;
  scriptsRun: number;
  retiring: boolean;
  dead: boolean;
  /** Whether isolated-vm loaded in it; a child that dies before that is replaced only after a pause. */
  started: boolean;
  /** Last lines the child wrote to stderr (V8 prints its fatal errors there), for diagnostics. */
  stderrTail: string;
  /** When the child was last given a script (a counter of the pool's picks). */
  lastPicked: number;
}

/** The child's entry next to this module: `child.ts` run from source, `child.js` in the built package. */
const CHILD_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './child.ts' : './child.js', import.meta.url);
const WATCHDOG_MS = 100;
const RESTART_PAUSE_MS = 1_000;
/** The parent's own reading of a child's memory acts only this far past the bound the child watches itself. */
const BACKSTOP_FACTOR = 1.25;

/** Node options of the parent a child may inherit; everything else (inspector, loaders, test hooks) stays out. */
const INHERITED_FLAGS = new Set([
  '--conditions',
  '-C',
  '--disable-warning',
  '--no-warnings',
  '--enable-source-maps',
  '--max-old-space-size',
  '--stack-size',
  '--trace-warnings',
  '--unhandled-rejections',
]);
/** Options that take a value, which may come as the next argument (kept with it, or dropped with it). */
const FLAGS_WITH_VALUE = new Set([
  '--conditions',
  '-C',
  '--disable-warning',
  '--max-old-space-size',
  '--stack-size',
  '--unhandled-rejections',
  '--require',
  '-r',
  '--import',
  '--loader',
  '--experimental-loader',
  '--inspect-port',
  '--input-type',
  '--eval',
  '-e',
  '--print',
  '-p',
]);

export function childExecArgv(parentExecArgv: readonly string[]): string[] {
  const inherited: string[] = [];
  for (let i = 0; i < parentExecArgv.length; i++) {
    const arg = parentExecArgv[i] as string;
    const equals = arg.indexOf('=');
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const separateValue = equals === -1 && FLAGS_WITH_VALUE.has(flag);
    if (INHERITED_FLAGS.has(flag)) {
      inherited.push(arg);
      if (separateValue && i + 1 < parentExecArgv.length) inherited.push(parentExecArgv[i + 1] as string);
    }
    if (separateValue) i++;
  }
  return ['--no-node-snapshot', ...inherited];
}

export class IsolatedVMPool {
  readonly #size: number;
  readonly #recycleAfter: number;
  /** Scripts handed to children so far, to tell which child waited longest. */
  #picks = 0;
  readonly #killGraceMs: number;
  readonly #config: ChildConfig;
  readonly #children: PoolChild[] = [];
  #nextJobId = 1;
  #closed = false;
  #restarts = 0;
  #kills = 0;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(options: IsolatedVMPoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? 2);
    this.#recycleAfter = options.recycleAfterScripts ?? 1_000;
    this.#killGraceMs = options.killGraceMs ?? 1_000;
    this.#config = {
      modulePath: options.modulePath ?? 'isolated-vm',
      maxRssBytes: (options.maxRssMb ?? 1_024) * 1024 * 1024,
    };
    for (let i = 0; i < this.#size; i++) this.#children.push(this.#spawn());
  }

  /**
   * Resolves when every child has loaded isolated-vm; resolves to the reason when one could not
   * (the same reason for all of them: the addon is missing or does not load on this Node).
   */
  async ready(): Promise<string | undefined> {
    const reasons = await Promise.all(this.#children.map((child) => child.ready));
    return reasons.find((reason) => reason !== undefined);
  }

  stats(): IsolatedVMPoolStats {
    let running = 0;
    let busy = 0;
    let size = 0;
    for (const child of this.#children) {
      if (child.dead) continue;
      size++;
      running += child.jobs.size;
      if (child.jobs.size > 0) busy++;
    }
    return { size, busy, running, processRestarts: this.#restarts, processKills: this.#kills };
  }

  /** Process ids of the live children, for operators and tests. */
  pids(): number[] {
    return this.#children.filter((c) => !c.dead && c.process.pid !== undefined).map((c) => c.process.pid as number);
  }

  run(limits: SandboxLimits, request: RunRequest, bridge: HostBridge, signal: AbortSignal): Promise<RunOutcome> {
    if (this.#closed) {
      return Promise.resolve({ ok: false, error: { code: 'SHUTDOWN', message: 'the isolated-vm pool is closed' } });
    }
    const target = this.#pick();
    const id = this.#nextJobId++;
    return new Promise<RunOutcome>((resolve) => {
      const onAbort = () => {
        const reason = signal.reason as { code?: unknown; message?: unknown } | undefined;
        const code = (typeof reason?.code === 'string' ? reason.code : 'CANCELLED') as ErrorCode;
        const message = typeof reason?.message === 'string' ? reason.message : 'the script was stopped';
        this.#post(target, { type: 'abort', jobId: id, code, message });
      };
      const job: PoolJob = { id, deadline: Number.POSITIVE_INFINITY, bridge, resolve, signal, onAbort };
      target.jobs.set(id, job);
      if (target.jobs.size === 1) this.#reference(target, true);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#post(target, { type: 'run', jobId: id, limits, request });
      this.#armWatchdog();
      if (signal.aborted) onAbort();
    });
  }

  /** Kills every child now (an operator's last resort); their scripts end as INTERNAL and fresh children take over. */
  killChildren(): void {
    for (const child of [...this.#children]) child.process.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    const children = this.#children.splice(0);
    for (const child of children)
      this.#fail(child, 'SHUTDOWN', 'the isolated-vm pool was closed before the script finished');
    await Promise.all(children.map((child) => this.#stop(child)));
  }

  #spawn(): PoolChild {
    const child = fork(CHILD_ENTRY, [JSON.stringify(this.#config)], {
      execPath: process.execPath,
      execArgv: childExecArgv(process.execArgv),
      serialization: 'json',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let settleReady: (reason: string | undefined) => void = () => {};
    const entry: PoolChild = {
      process: child,
      ready: new Promise((resolve) => (settleReady = resolve)),
      jobs: new Map(),
      scriptsRun: 0,
      retiring: false,
      dead: false,
      started: false,
      stderrTail: '',
      lastPicked: 0,
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      entry.stderrTail = (entry.stderrTail + text).slice(-4096);
    });
    child.on('message', (message: FromChild) => {
      if (message.type === 'ready') {
        entry.started = true;
        settleReady(undefined);
        if (entry.jobs.size === 0) this.#reference(entry, false);
      } else if (message.type === 'unavailable') {
        settleReady(message.message);
      } else this.#onMessage(entry, message);
    });
    child.on('error', () => {
      // Spawning failed or a signal could not be delivered; 'exit' (or nothing) follows, and the
      // exit handler ends the scripts.
    });
    child.on('exit', (code, signal) => {
      const lastLine = entry.stderrTail.trim().split('\n').at(-1);
      settleReady(
        `the process exited before isolated-vm was ready (${signal ?? `exit code ${code}`}${lastLine ? `: ${lastLine}` : ''})`,
      );
      this.#onExit(entry);
    });
    return entry;
  }

  /** A child keeps the caller's process alive only while it runs scripts; an idle pool does not. */
  #reference(child: PoolChild, on: boolean): void {
    const channel = child.process.channel as { ref(): void; unref(): void } | null | undefined;
    if (on) {
      child.process.ref();
      channel?.ref();
    } else {
      child.process.unref();
      channel?.unref();
    }
  }

  #pick(): PoolChild {
    let best: PoolChild | undefined;
    for (const child of this.#children) {
      if (child.retiring || child.dead) continue;
      // Fewest scripts first; between equals, a child that is up rather than one still starting,
      // then the one that waited longest: a child that just finished a script is busy preparing
      // its next isolate, while one that has waited has its isolate ready.
      if (
        best === undefined ||
        child.jobs.size < best.jobs.size ||
        (child.jobs.size === best.jobs.size &&
          (child.started !== best.started ? child.started : child.lastPicked < best.lastPicked))
      )
        best = child;
    }
    if (best !== undefined) {
      best.lastPicked = ++this.#picks;
      return best;
    }
    // Every child is retiring: start a fresh one rather than queueing behind them.
    const fresh = this.#spawn();
    this.#children.push(fresh);
    return fresh;
  }

  #post(target: PoolChild, message: ToChild): void {
    if (target.dead || !target.process.connected) return;
    try {
      target.process.send(message);
    } catch {
      // The channel closed under us; the exit handler ends the scripts.
    }
  }

  #onMessage(child: PoolChild, message: Exclude<FromChild, { type: 'ready' | 'unavailable' }>): void {
    switch (message.type) {
      case 'call': {
        const job = child.jobs.get(message.jobId);
        if (job === undefined) return;
        void job.bridge.callTool(message.callId, message.name, message.argsJson).then((reply) => {
          if (child.jobs.has(message.jobId))
            this.#post(child, { type: 'reply', jobId: message.jobId, callId: message.callId, reply });
        });
        return;
      }
      case 'emit':
        child.jobs.get(message.jobId)?.bridge.emit(message.kind, message.level, message.text);
        return;
      case 'started': {
        const job = child.jobs.get(message.jobId);
        if (job === undefined) return;
        job.deadline = message.deadline;
        job.bridge.started(message.deadline, {
          // While held, the kill switch must not count the wait against the script.
          hold: () => {
            job.deadline = Number.POSITIVE_INFINITY;
            this.#post(child, { type: 'hold', jobId: job.id });
          },
          release: () => this.#post(child, { type: 'release', jobId: job.id }),
        });
        return;
      }
      case 'done': {
        const job = child.jobs.get(message.jobId);
        if (job === undefined) return;
        this.#finish(child, job, message.outcome);
        child.scriptsRun++;
        // A retiring child ends with its last script (it stays past the recycling bound until then).
        if (child.retiring) {
          if (child.jobs.size === 0) void this.#stop(child);
        } else if (child.scriptsRun >= this.#recycleAfter) {
          this.#retire(child);
        }
        return;
      }
      case 'fatal':
        this.#kill(child, new Set(message.culprits), { code: message.code, message: message.message });
        return;
    }
  }

  #finish(child: PoolChild, job: PoolJob, outcome: RunOutcome): void {
    if (!child.jobs.delete(job.id)) return;
    if (child.jobs.size === 0 && !child.dead) this.#reference(child, false);
    job.signal.removeEventListener('abort', job.onAbort);
    job.resolve(outcome);
  }

  /** Stops sending work to a child, starts its replacement, and ends it once its scripts finish. */
  #retire(child: PoolChild): void {
    if (child.retiring) return;
    child.retiring = true;
    this.#replace(child);
    if (child.jobs.size === 0) void this.#stop(child);
  }

  #replace(child: PoolChild): void {
    const index = this.#children.indexOf(child);
    if (index === -1 || this.#closed) return;
    this.#children.splice(index, 1, this.#spawn());
    this.#restarts++;
  }

  /** A child that could not even start is replaced after a pause, so a broken install is not a busy loop. */
  #replaceLater(child: PoolChild): void {
    const index = this.#children.indexOf(child);
    if (index !== -1) this.#children.splice(index, 1);
    const timer = setTimeout(() => {
      if (this.#closed || this.#children.length >= this.#size) return;
      this.#children.push(this.#spawn());
      this.#restarts++;
    }, RESTART_PAUSE_MS);
    timer.unref();
  }

  /**
   * Kills a child at once. Its `culprits` end with `cause`; its other scripts end as INTERNAL
   * (retryable: they did nothing wrong). A fresh child takes its place.
   */
  #kill(child: PoolChild, culprits: ReadonlySet<number>, cause: { code: ErrorCode; message: string }): void {
    if (child.dead) return;
    this.#kills++;
    for (const job of [...child.jobs.values()]) {
      if (culprits.has(job.id)) this.#finish(child, job, { ok: false, error: cause });
    }
    child.retiring = true;
    this.#replace(child);
    this.#fail(
      child,
      'INTERNAL',
      'the process running the script was replaced because of another script; the script may be retried',
    );
    child.dead = true;
    child.process.kill('SIGKILL');
  }

  #onExit(child: PoolChild): void {
    const wasDead = child.dead;
    child.dead = true;
    this.#fail(child, 'INTERNAL', 'the process running the script stopped unexpectedly; the script may be retried');
    if (!child.retiring && !wasDead) {
      if (child.started) this.#replace(child);
      else this.#replaceLater(child);
    } else {
      const index = this.#children.indexOf(child);
      if (index !== -1) this.#children.splice(index, 1);
    }
  }

  #fail(child: PoolChild, code: GuestErrorInfo['code'], message: string): void {
    for (const job of [...child.jobs.values()]) this.#finish(child, job, { ok: false, error: { code, message } });
  }

  /** Ends a child politely (it exits when its channel closes), or by force if it does not. */
  #stop(child: PoolChild): Promise<void> {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
    // Keep this process alive until the child is gone, so close() resolves.
    this.#reference(child, true);
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => child.process.kill('SIGKILL'), 1_000);
      child.process.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      if (child.process.connected) child.process.disconnect();
      else child.process.kill('SIGKILL');
    });
  }

  /** The kill switch and the memory backstop: checks running scripts while any run. */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined) return;
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      let running = 0;
      for (const child of [...this.#children]) {
        if (child.dead) continue;
        running += child.jobs.size;
        if (child.jobs.size === 0) continue;
        const overdue = [...child.jobs.values()].filter((job) => now > job.deadline + this.#killGraceMs);
        if (overdue.length > 0) {
          this.#kill(child, new Set(overdue.map((job) => job.id)), {
            code: 'TIMEOUT',
            message: 'the script ran past its deadline and its process was killed',
          });
          continue;
        }
        const rss = residentBytes(child.process.pid);
        if (rss !== undefined && rss > this.#config.maxRssBytes * BACKSTOP_FACTOR) {
          this.#kill(child, new Set(child.jobs.keys()), {
            code: 'MEMORY_LIMIT',
            message: `the script ran out of memory (its process grew past ${Math.round(this.#config.maxRssBytes / 1024 / 1024)} MB)`,
          });
        }
      }
      if (running === 0 && this.#watchdog !== undefined) {
        clearInterval(this.#watchdog);
        this.#watchdog = undefined;
      }
    }, WATCHDOG_MS);
    this.#watchdog.unref();
  }
}

/** A process's resident set from /proc (Linux); undefined where there is no /proc. */
function residentBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}
