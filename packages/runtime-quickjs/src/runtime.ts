import type { RuntimeAdapter, Sandbox, SandboxLimits } from '@script-harness/core';
import { type PoolStats, QuickJSPool, type QuickJSPoolOptions } from './pool.ts';
import { QuickJSEngine, type QuickJSEngineStats } from './snapshot.ts';

/** Warm sandboxes per thread by default (see `QuickJSRuntimeOptions.warmSandboxes`). */
export const DEFAULT_WARM_SANDBOXES = 2;

export interface QuickJSRuntimeOptions {
  /**
   * `pool` (default) runs scripts in worker threads: a CPU-bound script never blocks the caller,
   * both cores are used, and a stuck worker is terminated and replaced. `inline` runs scripts on
   * the calling thread: lowest latency, but a CPU-bound script holds the thread until its deadline.
   */
  readonly mode?: 'pool' | 'inline';
  /** Options of the worker pool (pool mode only). */
  readonly pool?: QuickJSPoolOptions;
  /**
   * Sandboxes kept booted on each thread that runs scripts (each pool worker, or the calling thread
   * inline) and restored from a snapshot after every script; default 2. A script that finds none
   * idle boots a fresh runtime and context. 0 boots one for every script.
   */
  readonly warmSandboxes?: number;
}

export interface QuickJSRuntimeAdapter extends RuntimeAdapter {
  readonly mode: 'pool' | 'inline';
  /** Worker pool figures (pool mode), for health endpoints and metrics. */
  stats(): PoolStats | undefined;
  /** Inline mode: how scripts found their sandboxes on this thread (pool mode: in `stats()`). */
  engineStats(): QuickJSEngineStats | undefined;
  /** Pool mode: terminates every worker now; running scripts end as INTERNAL (retryable) and fresh workers take over. */
  terminateWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the QuickJS runtime adapter; resolves once QuickJS is loaded (in every worker, in pool mode). */
export async function createQuickJSRuntime(options: QuickJSRuntimeOptions = {}): Promise<QuickJSRuntimeAdapter> {
  const mode = options.mode ?? 'pool';
  const warmSandboxes = options.warmSandboxes ?? DEFAULT_WARM_SANDBOXES;
  if (!Number.isSafeInteger(warmSandboxes) || warmSandboxes < 0) {
    throw new RangeError(`warmSandboxes must be a whole number of at least 0, got ${warmSandboxes}`);
  }
  if (mode === 'pool') {
    const pool = new QuickJSPool(options.pool, warmSandboxes);
    await pool.ready();
    return {
      specificationVersion: 'v1',
      name: 'quickjs',
      mode,
      createSandbox(limits: SandboxLimits): Sandbox {
        return { run: (request, bridge, signal) => pool.run(limits, request, bridge, signal), dispose() {} };
      },
      stats: () => pool.stats(),
      engineStats: () => undefined,
      terminateWorkers: () => pool.terminateWorkers(),
      close: () => pool.close(),
    };
  }
  const engine = await QuickJSEngine.create(warmSandboxes);
  return {
    specificationVersion: 'v1',
    name: 'quickjs',
    mode,
    createSandbox(limits: SandboxLimits): Sandbox {
      return {
        run: async (request, bridge, signal) => (await engine.run(limits, request, bridge, signal)).outcome,
        dispose() {},
      };
    },
    stats: () => undefined,
    engineStats: () => engine.stats(),
    terminateWorkers: async () => {},
    close: async () => engine.close(),
  };
}
