import type { RuntimeAdapter, Sandbox, SandboxLimits } from '@script-harness/core';
import { QuickJSModuleHolder, runInFreshContext } from './engine.ts';

export interface QuickJSRuntimeOptions {
  /**
   * `inline` runs scripts on the calling thread: lowest latency, but a CPU-bound script holds the
   * thread until its deadline.
   */
  readonly mode?: 'inline';
}

/** Creates the QuickJS runtime adapter; loads the WebAssembly module once. */
export async function createQuickJSRuntime(options: QuickJSRuntimeOptions = {}): Promise<RuntimeAdapter> {
  void options;
  const holder = new QuickJSModuleHolder();
  await holder.get();
  return {
    specificationVersion: 'v1',
    name: 'quickjs',
    createSandbox(limits: SandboxLimits): Sandbox {
      return {
        run: async (request, bridge, signal) => {
          const module = holder.ready ?? (await holder.get());
          return runInFreshContext(holder, module, limits, request, bridge, signal);
        },
        dispose() {},
      };
    },
  };
}
