export { ALLOWED_GLOBALS, type ConformanceOptions, FORBIDDEN_GLOBALS, runtimeConformanceSuite } from './conformance.ts';
export {
  CANARY_SECRET,
  type ConformanceHarness,
  createConformanceHarness,
  createTestTools,
  type ToolObservations,
} from './fixtures.ts';
export { runtimeSecuritySuite } from './security.ts';
