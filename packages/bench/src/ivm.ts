/**
 * The product's isolated-vm runtime, when it exists. Loaded only in child processes started with
 * `--no-node-snapshot` (isolated-vm crashes without it).
 */
import type { RuntimeAdapter } from '@script-harness/core';
import { type Probe, probeExport } from './probe.ts';

export const IVM_RUNTIME_PACKAGE = '@script-harness/runtime-ivm';

/** Creates the isolated-vm runtime adapter with its defaults, or says what is missing. */
export async function createIvmRuntime(): Promise<Probe<RuntimeAdapter>> {
  const probe = await probeExport(IVM_RUNTIME_PACKAGE, /^create\w*Runtime$/, 'runtime factory');
  if ('missing' in probe) return probe;
  const create = probe.found.value as () => RuntimeAdapter | Promise<RuntimeAdapter>;
  return { found: await create() };
}
