export { INJECTED_GLOBALS, REMOVED_GLOBALS } from './glue.ts';
export type { PoolStats, QuickJSPoolOptions } from './pool.ts';
export { createQuickJSRuntime, type QuickJSRuntimeAdapter, type QuickJSRuntimeOptions } from './runtime.ts';
