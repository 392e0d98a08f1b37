/**
 * The runtimes `--runtime` can name. QuickJS ships with the CLI; isolated-vm lives in
 * `@script-harness/runtime-ivm` and needs a native module, so the package is imported only when
 * asked for, and a machine that cannot load it gets `RUNTIME_UNAVAILABLE` (exit code 4) saying why.
 */
import { HarnessError, type RuntimeAdapter, redactHostPaths } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { InvalidArgumentError } from 'commander';

export const RUNTIME_NAMES = ['quickjs', 'isolated-vm'] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];
export const DEFAULT_RUNTIME: RuntimeName = 'quickjs';

export const IVM_RUNTIME_PACKAGE = '@script-harness/runtime-ivm';

/** Commander parser of `--runtime`. */
export function parseRuntimeName(value: string): RuntimeName {
  const normalised = value.trim().toLowerCase();
  if (normalised === 'ivm' || normalised === 'isolated_vm') return 'isolated-vm';
  if ((RUNTIME_NAMES as readonly string[]).includes(normalised)) return normalised as RuntimeName;
  throw new InvalidArgumentError(`Expected one of ${RUNTIME_NAMES.join(', ')}.`);
}

/**
 * Creates the runtime. QuickJS runs in a pool of one worker thread: the CLI runs one script at a
 * time, and the worker can be terminated when a script is stuck in a native builtin past its
 * deadline, which the interrupt handler alone cannot stop.
 */
export async function loadRuntime(name: RuntimeName): Promise<RuntimeAdapter> {
  if (name === 'quickjs') return createQuickJSRuntime({ mode: 'pool', pool: { size: 1 } });
  return loadIsolatedVmRuntime();
}

async function loadIsolatedVmRuntime(): Promise<RuntimeAdapter> {
  let runtimePackage: typeof import('@script-harness/runtime-ivm');
  try {
    runtimePackage = await import('@script-harness/runtime-ivm');
  } catch (error) {
    throw unavailable(`${IVM_RUNTIME_PACKAGE} cannot be loaded (${firstLine(error)})`, error);
  }
  try {
    // One child process: the CLI runs one script at a time.
    return await runtimePackage.createIsolatedVMRuntime({ size: 1 });
  } catch (error) {
    // The package says what is missing and how to install it.
    if (error instanceof HarnessError && error.code === 'RUNTIME_UNAVAILABLE') throw error;
    throw unavailable(`isolated-vm could not be started (${firstLine(error)})`, error);
  }
}

function unavailable(why: string, cause?: unknown): HarnessError {
  return new HarnessError(
    'RUNTIME_UNAVAILABLE',
    `the isolated-vm runtime is not available here: ${redactHostPaths(why)}`,
    {
      ...(cause === undefined ? {} : { cause }),
      details: { runtime: 'isolated-vm', available: ['quickjs'] },
    },
  );
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
