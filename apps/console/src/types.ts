/** The shapes of the server's answers the console reads (see the server README and `/docs`). */

export interface ErrorData {
  readonly code: string;
  readonly message: string;
  readonly retryable?: boolean;
  readonly phase?: string;
  readonly line?: number;
  readonly column?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ToolCallRecord {
  readonly callId: string;
  readonly tool: string;
  readonly args: unknown;
  readonly status: 'ok' | 'error' | 'aborted';
  readonly value?: unknown;
  readonly error?: ErrorData;
  readonly durationMs: number;
}

export interface ScriptResult {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: ErrorData;
  readonly calls: readonly ToolCallRecord[];
  readonly console: readonly { readonly level: string; readonly text: string; readonly atMs: number }[];
  readonly warnings: readonly { readonly code: string; readonly message: string }[];
  readonly mode?: string;
  readonly notice?: string;
  readonly metadata: {
    readonly scriptId: string;
    readonly runtime: string;
    readonly durationMs: number;
    readonly toolCalls: number;
    readonly tenant?: string;
  };
}

export interface PendingApproval {
  readonly id: string;
  readonly scriptId: string;
  readonly callId: string;
  readonly sequence: number;
  readonly tool: string;
  readonly args: unknown;
  readonly argsHash: string;
  readonly scriptExcerpt?: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly requestedBy?: { readonly tenant?: string; readonly requestId?: string };
}

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

export interface TaskRecord {
  readonly id: string;
  readonly tool: string;
  readonly args: unknown;
  readonly status: string;
  readonly startedAt: number;
  readonly deadline: number;
  readonly endedAt?: number;
  readonly result?: unknown;
  readonly error?: ErrorData;
  readonly scriptId?: string;
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
