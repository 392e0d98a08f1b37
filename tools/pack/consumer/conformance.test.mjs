// Run by the pack smoke test with vitest in the consumer project: the conformance suite as a
// runtime author gets it from @script-harness/core/testing, against the published QuickJS runtime.
import { runtimeConformanceSuite } from '@script-harness/core/testing';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';

runtimeConformanceSuite('quickjs (packed)', { createRuntime: () => createQuickJSRuntime({ mode: 'inline' }) });
