/**
 * The shapes of the server's answers the console reads (see the server README and `/docs`): the
 * packages' own types where the server answers with them, so the page follows their changes.
 */
import type {
  ScriptResult as CoreScriptResult,
  HarnessErrorData as ErrorData,
  ToolCallRecord,
} from '@script-harness/core';
import type { PendingApproval as PolicyPendingApproval } from '@script-harness/policy';
import type { TaskRecord } from '@script-harness/tools';

export type { ErrorData, TaskRecord, ToolCallRecord };

/** A ScriptResult as `/v1/scripts` answers it: with the mode it ran in and whom it ran for. */
export type ScriptResult = CoreScriptResult & {
  readonly mode?: string;
  readonly notice?: string;
  readonly metadata: CoreScriptResult['metadata'] & { readonly tenant?: string };
};

/** A pending approval as the server shows it, with who asked when the server knows. */
export type PendingApproval = PolicyPendingApproval & {
  readonly requestedBy?: { readonly tenant?: string; readonly requestId?: string };
};

export type SettledStatus = 'approved' | 'denied' | 'timeout' | 'cancelled';

export interface SettledApproval {
  readonly approval: PendingApproval;
  readonly status: SettledStatus;
  readonly by?: string;
  readonly reason?: string;
  readonly settledAt: number;
}

export interface ToolInfo {
  readonly name: string;
  readonly description: string;
  readonly requiresApproval: 'always' | 'never' | 'depends';
}

export interface LimitInfo {
  readonly name: string;
  readonly value: number;
  readonly max?: number;
  readonly description: string;
}

export interface ServerInfo {
  readonly tenant: string;
  readonly auth: 'api-key' | 'none';
  readonly mode: string;
  readonly runtimes: readonly string[];
  readonly defaultRuntime: string;
  readonly tools: readonly ToolInfo[];
  readonly limits: readonly LimitInfo[];
  readonly approvalTimeoutMs: number;
}

export interface RunSummary {
  readonly scriptId: string;
  readonly tenant?: string;
  readonly requestId?: string;
  readonly runtime: string;
  readonly status: 'running' | 'ok' | 'error';
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly durationMs?: number;
  readonly toolCalls?: number;
  readonly consoleLines?: number;
  readonly attempts: number;
  readonly error?: Pick<ErrorData, 'code' | 'message' | 'line' | 'column'>;
}

export interface RunDetail extends RunSummary {
  readonly language: string;
  readonly source: string;
  readonly sourceTruncated: boolean;
}

export type HistoryItem =
  | { readonly type: 'text' | 'reasoning'; readonly text: string }
  | { readonly type: 'tool_call'; readonly id: string; readonly name: string; readonly arguments: unknown }
  | {
      readonly type: 'script_tool_call';
      readonly id: string;
      readonly callId: string;
      readonly language: string;
      readonly source: string;
    }
  | {
      readonly type: 'script_tool_call_output';
      readonly callId: string;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: ErrorData;
      readonly calls?: readonly ToolCallRecord[];
      readonly console?: readonly { readonly level: string; readonly text: string }[];
    };

export interface MessageExecution {
  readonly mode: string;
  readonly blocks: number;
  readonly items: readonly HistoryItem[];
  readonly results: readonly ScriptResult[];
}

/** What the playground sends to `/v1/scripts` besides the code (and to `/v1/messages:execute`). */
export interface RunSettings {
  readonly runtime?: string;
  readonly tools?: readonly string[];
  readonly limits?: Readonly<Record<string, number>>;
}
