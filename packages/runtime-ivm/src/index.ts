export { INJECTED_GLOBALS, KEPT_GLOBALS, MAX_JSON_PARSE_DEPTH } from './glue.ts';
export type { IsolatedVMPoolOptions, IsolatedVMPoolStats } from './pool.ts';
export {
  createIsolatedVMRuntime,
  ISOLATED_VM_VERSION,
  type IsolatedVMRuntimeAdapter,
  type IsolatedVMRuntimeOptions,
} from './runtime.ts';
