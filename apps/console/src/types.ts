/**
 * The shapes of the server's answers the console reads (see the server README and `/docs`): the
 * packages' own types where the server answers with them, so the page follows their changes.
 */
import type {
  MessageExecution as CoreMessageExecution,
  ScriptResult as CoreScriptResult,
  HarnessErrorData as ErrorData,
  HistoryItem,
  ToolCallRecord,
} from '@script-harness/core';
import type { ApprovalView, RunDetail, RunSummary, ServerInfo, SettledApprovalView } from '@script-harness/server';
import type { TaskRecord } from '@script-harness/tools';

export type { ErrorData, HistoryItem, RunDetail, RunSummary, ServerInfo, TaskRecord, ToolCallRecord };

/** A ScriptResult as `/v1/scripts` answers it: with the mode it ran in and whom it ran for. */
export type ScriptResult = CoreScriptResult & {
  readonly mode?: string;
  readonly notice?: string;
  readonly metadata: CoreScriptResult['metadata'] & { readonly tenant?: string };
};

/** A pending approval as the server shows it, with who asked when the server knows. */
export type PendingApproval = ApprovalView;
export type SettledApproval = SettledApprovalView;
export type SettledStatus = SettledApprovalView['status'];
export type ToolInfo = ServerInfo['tools'][number];
export type LimitInfo = ServerInfo['limits'][number];

/** What `/v1/messages:execute` answers: the core's execution with the mode it ran in. */
export type MessageExecution = Omit<CoreMessageExecution, 'results'> & {
  readonly mode: string;
  readonly results: readonly ScriptResult[];
};

/** What the playground sends to `/v1/scripts` besides the code (and to `/v1/messages:execute`). */
export interface RunSettings {
  readonly runtime?: string;
  readonly tools?: readonly string[];
  readonly limits?: Readonly<Record<string, number>>;
}
