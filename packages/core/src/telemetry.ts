/**
 * Telemetry hooks of the engine. Core calls them and ships a no-op default (the OpenTelemetry API
 * and SDK split): `@script-harness/telemetry` implements them with spans and metrics. Every hook is
 * on the per-script path, so implementations must be cheap and must never throw.
 */
import type { ErrorCode } from './errors.ts';
import type { ScriptResult, ToolCallStatus } from './harness.ts';

export interface ScriptTelemetryStart {
  readonly scriptId: string;
  readonly runtime: string;
  /** Whatever the caller passed as `RunOptions.telemetryParent` (e.g. an incoming trace context). */
  readonly parent?: unknown;
}

export interface ToolCallTelemetryEnd {
  readonly status: ToolCallStatus;
  readonly code?: ErrorCode;
  readonly durationMs: number;
  /** Time the call spent waiting for a person's approval, when it needed one. */
  readonly approvalWaitMs?: number;
}

export interface ToolCallTelemetry {
  end(outcome: ToolCallTelemetryEnd): void;
}

export interface ScriptTelemetry {
  /** `tool` is always a registered tool name, or `(unknown)` for a name the script made up. */
  startToolCall(call: { readonly tool: string; readonly callId: string }): ToolCallTelemetry;
  end(result: ScriptResult): void;
}

export interface Telemetry {
  startScript(start: ScriptTelemetryStart): ScriptTelemetry;
}

const noopToolCall: ToolCallTelemetry = { end() {} };
const noopScript: ScriptTelemetry = { startToolCall: () => noopToolCall, end() {} };

export const noopTelemetry: Telemetry = { startScript: () => noopScript };
