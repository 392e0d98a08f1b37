export { createQuickJSRuntime, type QuickJSRuntimeOptions } from './runtime.ts';
export { INJECTED_GLOBALS, REMOVED_GLOBALS } from './glue.ts';
