export { INJECTED_GLOBALS, REMOVED_GLOBALS } from './glue.ts';
export type { PoolStats, QuickJSPoolOptions } from './pool.ts';
export {
  createQuickJSRuntime,
  DEFAULT_WARM_SANDBOXES,
  type QuickJSRuntimeAdapter,
  type QuickJSRuntimeOptions,
} from './runtime.ts';
export type { QuickJSEngineStats } from './snapshot.ts';
