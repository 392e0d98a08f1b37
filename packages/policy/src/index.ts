export {
  type ApprovalOutcomeKind,
  type AuditOptions,
  type AuditRecord,
  type AuditSink,
  auditLine,
  createJsonlAuditSink,
  createMemoryAuditSink,
  type JsonlAuditSink,
  type JsonlAuditSinkOptions,
  type MemoryAuditSink,
  withAudit,
} from './audit.ts';
export {
  APPROVE_MODES,
  type ApprovalBrokerEvents,
  type ApprovalBrokerOptions,
  type ApprovalState,
  type ApprovalStatus,
  type ApproveMode,
  approvalHash,
  type BoundApproval,
  bindApproval,
  createApprovalBroker,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  type DecideOptions,
  type DecideResult,
  type InteractiveApprovalBroker,
  isStillBound,
  type PendingApproval,
} from './broker.ts';
export { describeCallingLines, findCallingLines } from './calling-lines.ts';
export { canonicalJson } from './canonical.ts';
export { PATH_ARGUMENT_KEYS } from './conditions.ts';
export { canonicalHostname, HostPatternSchema, isPrivateAddress } from './hosts.ts';
export { REDACTED, type RedactOptions, redactArgs, SECRET_KEY } from './redact.ts';
export {
  type FilePolicy,
  type FilePolicyInput,
  FilePolicySchema,
  isHostAllowed,
  type NetworkPolicy,
  type NetworkPolicyInput,
  NetworkPolicySchema,
  parseFilePolicy,
  parseNetworkPolicy,
} from './resources.ts';
export {
  createRulePolicy,
  DEFAULT_RULES,
  type Decision,
  DecisionSchema,
  type LayeredPolicyOptions,
  layerPolicies,
  type PolicyRule,
  PolicyRuleSchema,
  parsePolicyRules,
  type RuleConditions,
  RuleConditionsSchema,
  type RulePolicyOptions,
  TOOL_DEFAULT_RULE,
} from './rules.ts';
