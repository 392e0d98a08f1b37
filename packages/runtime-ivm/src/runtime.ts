import {
  HarnessError,
  type RuntimeAdapter,
  redactHostPaths,
  type Sandbox,
  type SandboxLimits,
} from '@script-harness/core';
import { IsolatedVMPool, type IsolatedVMPoolOptions, type IsolatedVMPoolStats } from './pool.ts';

export type IsolatedVMRuntimeOptions = IsolatedVMPoolOptions;

export interface IsolatedVMRuntimeAdapter extends RuntimeAdapter {
  readonly name: 'isolated-vm';
  /** Pool figures, for health endpoints and metrics. */
  stats(): IsolatedVMPoolStats;
  /** Process ids of the live child processes. */
  pids(): number[];
  /** Kills every child process now; running scripts end as INTERNAL (retryable) and fresh children take over. */
  killChildren(): void;
  close(): Promise<void>;
}

/** The version this package is built and tested against; isolated-vm is an optional dependency. */
export const ISOLATED_VM_VERSION = '6.2.0';

/**
 * Creates the isolated-vm runtime adapter; resolves once every child process has loaded
 * isolated-vm. Rejects with RUNTIME_UNAVAILABLE, naming the fix, when isolated-vm is not installed
 * or does not load on this Node; nothing else in the harness depends on it.
 */
export async function createIsolatedVMRuntime(
  options: IsolatedVMRuntimeOptions = {},
): Promise<IsolatedVMRuntimeAdapter> {
  const modulePath = options.modulePath ?? 'isolated-vm';
  // Checked here first, without loading the addon (which must not load in a process started
  // without --no-node-snapshot): a missing install is reported before any child is started.
  try {
    import.meta.resolve(modulePath);
  } catch (error) {
    throw unavailable(`it is not installed (${firstLine(error)})`, error);
  }
  const pool = new IsolatedVMPool(options);
  const reason = await pool.ready();
  if (reason !== undefined) {
    await pool.close();
    throw unavailable(reason);
  }
  return {
    specificationVersion: 'v1',
    name: 'isolated-vm',
    createSandbox(limits: SandboxLimits): Sandbox {
      return { run: (request, bridge, signal) => pool.run(limits, request, bridge, signal), dispose() {} };
    },
    stats: () => pool.stats(),
    pids: () => pool.pids(),
    killChildren: () => pool.killChildren(),
    close: () => pool.close(),
  };
}

function unavailable(reason: string, cause?: unknown): HarnessError {
  return new HarnessError(
    'RUNTIME_UNAVAILABLE',
    `isolated-vm could not be loaded: ${redactHostPaths(reason)}. Install it with \`npm install isolated-vm@${ISOLATED_VM_VERSION}\` ` +
      '(an optional dependency of @script-harness/runtime-ivm: it needs a prebuilt binary for this Node version, ' +
      'or a C++ toolchain to build one), or choose the quickjs runtime.',
    cause === undefined ? {} : { cause },
  );
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
