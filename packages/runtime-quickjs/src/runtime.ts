import type { RuntimeAdapter, Sandbox, SandboxLimits } from '@script-harness/core';
import { QuickJSModuleHolder, runInFreshContext } from './engine.ts';
import { type PoolStats, QuickJSPool, type QuickJSPoolOptions } from './pool.ts';

export interface QuickJSRuntimeOptions {
  /**
   * `pool` (default) runs scripts in worker threads: a CPU-bound script never blocks the caller,
   * both cores are used, and a stuck worker is terminated and replaced. `inline` runs scripts on
   * the calling thread: lowest latency, but a CPU-bound script holds the thread until its deadline.
   */
  readonly mode?: 'pool' | 'inline';
  /** Options of the worker pool (pool mode only). */
  readonly pool?: QuickJSPoolOptions;
}

export interface QuickJSRuntimeAdapter extends RuntimeAdapter {
  readonly mode: 'pool' | 'inline';
  /** Worker pool figures (pool mode), for health endpoints and metrics. */
  stats(): PoolStats | undefined;
  /** Pool mode: terminates every worker now; running scripts end as INTERNAL (retryable) and fresh workers take over. */
  terminateWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the QuickJS runtime adapter; resolves once QuickJS is loaded (in every worker, in pool mode). */
export async function createQuickJSRuntime(options: QuickJSRuntimeOptions = {}): Promise<QuickJSRuntimeAdapter> {
  const mode = options.mode ?? 'pool';
  if (mode === 'pool') {
    const pool = new QuickJSPool(options.pool);
    await pool.ready();
    return {
      specificationVersion: 'v1',
      name: 'quickjs',
      mode,
      createSandbox(limits: SandboxLimits): Sandbox {
        return { run: (request, bridge, signal) => pool.run(limits, request, bridge, signal), dispose() {} };
      },
      stats: () => pool.stats(),
      terminateWorkers: () => pool.terminateWorkers(),
      close: () => pool.close(),
    };
  }
  const holder = new QuickJSModuleHolder();
  await holder.get();
  return {
    specificationVersion: 'v1',
    name: 'quickjs',
    mode,
    createSandbox(limits: SandboxLimits): Sandbox {
      return {
        run: async (request, bridge, signal) => {
          const module = holder.ready ?? (await holder.get());
          return runInFreshContext(holder, module, limits, request, bridge, signal);
        },
        dispose() {},
      };
    },
    stats: () => undefined,
    terminateWorkers: async () => {},
    close: async () => {},
  };
}
