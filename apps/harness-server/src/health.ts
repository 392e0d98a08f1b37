/**
 * What the health endpoints report. `/live` asks whether the event loop still turns in time (a
 * loop blocked for seconds serves nothing well, and a restart is the cure); `/ready` asks whether
 * this instance should get new work: its sandbox pool is warm, its queue has room, and it is not
 * shutting down.
 */

export interface EventLoopMonitor {
  /** How late the last tick of the monitor's timer fired, in milliseconds. */
  lagMs(): number;
  stop(): void;
}

/** Measures event loop lag as the lateness of a repeating timer. */
export function createEventLoopMonitor(intervalMs = 250): EventLoopMonitor {
  let expected = performance.now() + intervalMs;
  let lag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(0, now - expected);
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return {
    // A tick that is overdue right now counts too: a loop that is blocked never runs the timer.
    lagMs: () => Math.max(lag, performance.now() - expected),
    stop: () => clearInterval(timer),
  };
}

export interface ReadinessInput {
  readonly shuttingDown: boolean;
  /** Pool figures of a pool-mode runtime; undefined for an inline runtime (always warm). */
  readonly pool: { readonly size: number; readonly busy: number } | undefined;
  readonly queue: { readonly queued: number; readonly running: number; readonly accepting: boolean };
  readonly maxQueued: number;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one sentence each. */
  readonly reasons: readonly string[];
}

export function readiness(input: ReadinessInput): Readiness {
  const reasons: string[] = [];
  if (input.shuttingDown || !input.queue.accepting) reasons.push('the server is shutting down');
  if (input.pool !== undefined && input.pool.size < 1) reasons.push('the sandbox pool has no worker');
  if (input.queue.queued >= input.maxQueued) {
    reasons.push(`the queue is full (${input.queue.queued} of ${input.maxQueued} waiting)`);
  }
  return { ready: reasons.length === 0, reasons };
}
