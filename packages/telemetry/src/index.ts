export { boundedId, DEFAULT_MAX_TOOL_LABELS, errorCodeLabel, OTHER_LABEL, UNKNOWN_TOOL } from './labels.ts';
export {
  createLogger,
  escapeGuestText,
  type GuestConsoleEntry,
  type GuestConsoleLogOptions,
  type LoggerOptions,
  logGuestConsole,
  MAX_GUEST_LOG_BYTES,
  withScriptLogging,
} from './logging.ts';
export {
  APPROVAL_WAIT_BUCKETS,
  HARNESS_METRIC_NAMES,
  JOB_DURATION_BUCKETS,
  PROMETHEUS_CONTENT_TYPE,
  SCRIPT_DURATION_BUCKETS,
} from './metrics.ts';
export {
  createTelemetry,
  type HarnessScriptTelemetry,
  type HarnessTelemetry,
  type JobRecord,
  type PoolFigures,
  type QueueFigures,
  type TelemetryOptions,
  type Unregister,
} from './telemetry.ts';
export {
  otlpTracingRequested,
  parentContext,
  type TelemetryParent,
  type TelemetryParentCarrier,
  type TracingOptions,
} from './tracing.ts';
