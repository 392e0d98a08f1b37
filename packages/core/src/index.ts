export {
  type DeclarationOptions,
  generateDeclarations,
  generatePromptSection,
  type PromptSectionOptions,
} from './declarations.ts';
export { detectScripts, type MessageSegment } from './detect.ts';
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorPhase,
  errorData,
  HarnessError,
  type HarnessErrorData,
  type HarnessErrorOptions,
  isErrorCode,
  redactHostPaths,
  toErrorData,
} from './errors.ts';
export {
  type CheckReport,
  type ConsoleEntry,
  createHarness,
  type Harness,
  type HarnessOptions,
  type ResultWarning,
  type RunOptions,
  type ScriptEvent,
  type ScriptMetadata,
  type ScriptResult,
  type ToolCallRecord,
  type ToolCallStatus,
  toPlainJson,
  UNKNOWN_TOOL,
} from './harness.ts';
export {
  DEFAULT_LIMITS,
  DEFAULT_MAX_LIMITS,
  type Limits,
  type LimitsInput,
  LimitsSchema,
  parseLimits,
  resolveLimits,
} from './limits.ts';
export {
  DISABLED_NOTICE,
  type ExecuteMessageOptions,
  type ExecutionMode,
  executeMessage,
  type HistoryItem,
  type MessageExecution,
  resolveMode,
} from './message.ts';
export {
  type ApprovalBroker,
  type ApprovalOutcome,
  defaultPolicy,
  denyAllApprovals,
  type PolicyDecision,
  type PolicyEngine,
  type ToolCallRequest,
} from './policy.ts';
export {
  type Finding,
  type PreparedScript,
  type PrepareResult,
  prepareScript,
  type ScriptLanguage,
} from './prepare.ts';
export {
  createInProcessQueue,
  type InProcessQueueOptions,
  isRetryableScriptFailure,
  type JobHandle,
  type JobPriority,
  type JobQueue,
  type JobQueueStats,
  type JobSubmission,
  type RetryPolicy,
  retryDelayMs,
} from './queue.ts';
export type {
  BridgeReply,
  DeadlineControl,
  GuestErrorInfo,
  HostBridge,
  RunOutcome,
  RunRequest,
  RuntimeAdapter,
  Sandbox,
  SandboxLimits,
} from './runtime.ts';
export {
  noopTelemetry,
  type ScriptTelemetry,
  type ScriptTelemetryStart,
  type Telemetry,
  type ToolCallTelemetry,
  type ToolCallTelemetryEnd,
} from './telemetry.ts';
export {
  type AnyTool,
  closestNames,
  createToolRegistry,
  defineTool,
  type ToolDefinition,
  type ToolExecuteContext,
  type ToolRegistry,
} from './tool.ts';
