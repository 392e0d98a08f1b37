/** Raw QuickJS and the product's QuickJS runtime, loaded once per run and shared by the rows. */
import releaseSyncVariant from '@jitl/quickjs-wasmfile-release-sync';
import { createQuickJSRuntime, type QuickJSRuntimeAdapter } from '@script-harness/runtime-quickjs';
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import type { RunContext } from './row.ts';

// The package's types describe its CommonJS build; under ESM its default export is the variant itself.
export const quickjsVariant = releaseSyncVariant as unknown as QuickJSSyncVariant;

/** The raw QuickJS WebAssembly module of the floors (the same build the product uses). */
export function rawQuickJSModule(context: RunContext): Promise<QuickJSWASMModule> {
  return context.shared('quickjs.raw-module', () => newQuickJSWASMModuleFromVariant(quickjsVariant));
}

/** What the floor measures: a fresh runtime + context, `1+1`, disposal of both. */
export function freshQuickJSEval(module: QuickJSWASMModule): number {
  const runtime = module.newRuntime();
  const context = runtime.newContext();
  const handle = context.unwrapResult(context.evalCode('1+1'));
  const value = context.getNumber(handle);
  handle.dispose();
  context.dispose();
  runtime.dispose();
  return value;
}

/** The product's QuickJS runtime in inline mode: scripts run on this thread, next to the floor. */
export function inlineQuickJSRuntime(context: RunContext): Promise<QuickJSRuntimeAdapter> {
  return context.shared(
    'quickjs.inline-runtime',
    () => createQuickJSRuntime({ mode: 'inline' }),
    (runtime) => runtime.close(),
  );
}

/**
 * The product's QuickJS runtime exactly as `createQuickJSRuntime()` builds it with no options —
 * the default a user gets (the worker pool, one worker per core).
 */
export function defaultQuickJSRuntime(context: RunContext): Promise<QuickJSRuntimeAdapter> {
  return context.shared(
    'quickjs.default-runtime',
    () => createQuickJSRuntime(),
    (runtime) => runtime.close(),
  );
}

/** How a runtime runs scripts, for notes: `pool mode (N workers)` or `inline mode`. */
export function describeQuickJSRuntime(runtime: QuickJSRuntimeAdapter): string {
  if (runtime.mode === 'inline') return 'inline mode';
  const size = runtime.stats()?.size;
  return `pool mode (${size === undefined ? 'default' : size} worker${size === 1 ? '' : 's'})`;
}
