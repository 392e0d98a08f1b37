/**
 * Contracts for deciding tool calls. `@script-harness/policy` implements rules, an approval broker
 * and an audit log; core ships only the safe defaults: a tool that asks for approval is denied
 * unless an approval broker is configured.
 */

export interface ToolCallRequest {
  readonly scriptId: string;
  readonly callId: string;
  /** 1-based position of this call among the script's calls. */
  readonly sequence: number;
  readonly tool: string;
  /** Validated arguments (plain data). */
  readonly args: unknown;
  /** Whether the tool itself asks for approval for these arguments. */
  readonly toolRequiresApproval: boolean;
}

export type PolicyDecision =
  | { readonly decision: 'allow'; readonly reason?: string; readonly rule?: string }
  | { readonly decision: 'deny'; readonly reason?: string; readonly rule?: string }
  | { readonly decision: 'ask'; readonly reason?: string; readonly rule?: string };

export interface PolicyEngine {
  decide(request: ToolCallRequest): PolicyDecision | Promise<PolicyDecision>;
}

export interface ApprovalOutcome {
  readonly approved: boolean;
  /** Set when no decision arrived before the approval's timeout. */
  readonly timedOut?: boolean;
  readonly by?: string;
  readonly reason?: string;
}

export interface ApprovalBroker {
  /** Holds the call until a decision arrives; resolves (never rejects) with the outcome. */
  request(request: ToolCallRequest, signal: AbortSignal): Promise<ApprovalOutcome>;
}

/** Allows every call whose tool does not ask for approval; the rest are held for a decision. */
export const defaultPolicy: PolicyEngine = {
  decide: (request) => (request.toolRequiresApproval ? { decision: 'ask' } : { decision: 'allow' }),
};

/** Denies every request for approval: nobody is there to approve. */
export const denyAllApprovals: ApprovalBroker = {
  request: async () => ({ approved: false, reason: 'no approval broker is configured' }),
};
