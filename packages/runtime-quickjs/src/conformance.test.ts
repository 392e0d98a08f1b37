import { runtimeConformanceSuite } from '@script-harness/core/testing';
import { createQuickJSRuntime } from './runtime.ts';

runtimeConformanceSuite('quickjs (inline)', { createRuntime: () => createQuickJSRuntime({ mode: 'inline' }) });
runtimeConformanceSuite('quickjs (pool)', {
  createRuntime: () => createQuickJSRuntime({ mode: 'pool', pool: { size: 2 } }),
  concurrentIsolation: true,
});
