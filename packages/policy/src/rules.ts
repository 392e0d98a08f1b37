/**
 * Ordered allow/deny/ask rules. A rule names a tool (exactly or with `*`) and, optionally,
 * conditions on the call's arguments; the first rule that matches decides, and when none does,
 * the defaults decide. Layers let a provider or a single request add rules on top of the
 * operator's, which by default may only make decisions stricter.
 */
import { HarnessError, type PolicyDecision, type PolicyEngine, type ToolCallRequest } from '@script-harness/core';
import { z } from 'zod';
import {
  commandMatches,
  compileHostPatterns,
  compilePathGlobs,
  compileToolPattern,
  hostsMatch,
  isToolPattern,
  type Polarity,
  pathGlobProblem,
  pathsMatch,
} from './conditions.ts';
import { HostPatternSchema } from './hosts.ts';
import { formatIssues } from './issues.ts';

export type Decision = PolicyDecision['decision'];

export const DecisionSchema = z.enum(['allow', 'deny', 'ask']);

const PathGlobSchema = z.string().superRefine((glob, context) => {
  const problem = pathGlobProblem(glob);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: `${problem}: ${JSON.stringify(glob)}` });
});

export const RuleConditionsSchema = z.strictObject({
  commandPrefix: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Words the command must start with (`args.command`, then `args.args`), e.g. ["git", "status"].'),
  paths: z
    .array(PathGlobSchema)
    .min(1)
    .optional()
    .describe('Globs relative to the workspace root matched against `args.path`, `args.paths`, `args.from`, ...'),
  hosts: z
    .array(HostPatternSchema)
    .min(1)
    .optional()
    .describe('Host patterns ("api.example.com", "*.example.com") matched against the hostname of `args.url`.'),
});

export const PolicyRuleSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Name of the rule in decisions and the audit log (default: its position, e.g. "rules[2]").'),
  tool: z
    .string()
    .min(1)
    .max(200)
    .refine(isToolPattern, { message: 'a tool pattern holds letters, digits, "_", "$", "." and "*" only' })
    .describe('Tool name, or a pattern where "*" matches any characters: "mcp.*", "*".'),
  when: RuleConditionsSchema.optional().describe('Conditions on the arguments; the rule matches only if all hold.'),
  decision: DecisionSchema,
  reason: z.string().max(1000).optional().describe('Shown to the script (in the error) and written to the audit log.'),
});

/** A rule as written by an operator (input of `PolicyRuleSchema`). */
export type PolicyRule = z.input<typeof PolicyRuleSchema>;
export type RuleConditions = z.input<typeof RuleConditionsSchema>;

const RulesSchema = z.array(PolicyRuleSchema);

/**
 * The rules consulted after an operator's own, as data: reading the workspace is allowed,
 * changing it and running commands ask, the network is denied. A tool none of them names falls
 * to `default:tool`: allowed unless the tool itself asks for approval of these arguments.
 */
export const DEFAULT_RULES: readonly PolicyRule[] = deepFreeze([
  ...['readFile', 'listDir', 'fileSearch', 'grep'].map((tool) => ({
    id: 'default:reads',
    tool,
    decision: 'allow' as const,
    reason: 'reading the workspace is allowed by default',
  })),
  ...['writeFile', 'applyPatch'].map((tool) => ({
    id: 'default:writes',
    tool,
    decision: 'ask' as const,
    reason: 'changing the workspace needs approval by default',
  })),
  { id: 'default:exec', tool: 'exec', decision: 'ask', reason: 'running commands needs approval by default' },
  { id: 'default:http', tool: 'http', decision: 'deny', reason: 'network access is denied unless a rule allows it' },
]);

/** The identifier of the last resort, used when no rule and no default rule names the tool. */
export const TOOL_DEFAULT_RULE = 'default:tool';

export interface RulePolicyOptions {
  /** Consulted in order; the first matching rule decides. */
  readonly rules: readonly PolicyRule[];
  /** Consulted after `rules` (default `DEFAULT_RULES`); pass `[]` to go straight to `default:tool`. */
  readonly defaults?: readonly PolicyRule[];
  /** Match path globs case-insensitively (workspaces on case-insensitive file systems). */
  readonly ignoreCase?: boolean;
}

/**
 * A policy of ordered rules. Throws `HarnessError` (`INVALID_REQUEST`) listing every problem when
 * a rule is invalid.
 */
export function createRulePolicy(options: RulePolicyOptions): PolicyEngine {
  const rules = compileLayer(options.rules, { label: undefined, ignoreCase: options.ignoreCase });
  const defaults = compileDefaults(options.defaults ?? DEFAULT_RULES, options.ignoreCase);
  return {
    decide: (request) => rules.first(request) ?? defaults(request),
  };
}

export interface LayeredPolicyOptions {
  /** The operator's rules; followed by the defaults. */
  readonly base: readonly PolicyRule[];
  /** Rules of the model provider or integration, consulted before `base`. */
  readonly provider?: readonly PolicyRule[];
  /** Rules of this one request, consulted first. */
  readonly request?: readonly PolicyRule[];
  /**
   * When true, the first layer with a matching rule decides (request, then provider, then base),
   * so a layer may also loosen. Default false: every layer's decision counts and the strictest
   * wins (deny over ask over allow), so layers may only tighten.
   */
  readonly allowLoosening?: boolean;
  readonly defaults?: readonly PolicyRule[];
  readonly ignoreCase?: boolean;
}

const STRICTNESS: Readonly<Record<Decision, number>> = { allow: 0, ask: 1, deny: 2 };

/**
 * Rules in layers. Decisions name the layer of the rule that decided: `request:rules[0]`,
 * `provider:no-network`, `base:rules[3]`, or a default such as `default:writes`.
 */
export function layerPolicies(options: LayeredPolicyOptions): PolicyEngine {
  const problems: string[] = [];
  const collect = (rules: readonly PolicyRule[] | undefined, label: string) => {
    if (rules === undefined) return undefined;
    try {
      return compileLayer(rules, { label, ignoreCase: options.ignoreCase });
    } catch (error) {
      if (!(error instanceof PolicyRulesError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const request = collect(options.request, 'request');
  const provider = collect(options.provider, 'provider');
  const base = collect(options.base, 'base');
  if (problems.length > 0) throw new PolicyRulesError(problems);
  const defaults = compileDefaults(options.defaults ?? DEFAULT_RULES, options.ignoreCase);
  const layers = [request, provider].filter((layer) => layer !== undefined);
  const baseDecision = (call: ToolCallRequest) => base?.first(call) ?? defaults(call);

  return {
    decide(call) {
      const layered = layers.map((layer) => layer.first(call)).filter((decision) => decision !== undefined);
      if (options.allowLoosening === true) return layered[0] ?? baseDecision(call);
      // Every layer counts: a request layer that allows cannot undo a provider layer that denies.
      let strictest = baseDecision(call);
      for (const decision of layered.reverse()) {
        if (STRICTNESS[decision.decision] >= STRICTNESS[strictest.decision]) strictest = decision;
      }
      return strictest;
    },
  };
}

/** Validates rules without building a policy; returns them parsed, or throws like `createRulePolicy`. */
export function parsePolicyRules(value: unknown, label?: string): PolicyRule[] {
  const parsed = RulesSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new PolicyRulesError(formatIssues(parsed.error.issues, label === undefined ? 'rules' : `${label} rules`));
}

// ---------------------------------------------------------------------------------------------

interface CompiledLayer {
  first(request: ToolCallRequest): PolicyDecision | undefined;
}

class PolicyRulesError extends HarnessError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('INVALID_REQUEST', `invalid policy rules: ${problems.join('; ')}`, { details: { problems } });
    this.problems = problems;
  }
}

function compileLayer(
  rules: readonly PolicyRule[],
  options: { label: string | undefined; ignoreCase: boolean | undefined },
): CompiledLayer {
  const parsed = parsePolicyRules(rules, options.label);
  const prefix = options.label === undefined ? '' : `${options.label}:`;
  const compiled = parsed.map((rule, index) => compileRule(rule, `${prefix}${rule.id ?? `rules[${index}]`}`, options));
  return {
    first(request) {
      for (const rule of compiled) if (rule.matches(request)) return rule.decision;
      return undefined;
    },
  };
}

function compileDefaults(
  rules: readonly PolicyRule[],
  ignoreCase: boolean | undefined,
): (request: ToolCallRequest) => PolicyDecision {
  const parsed = parsePolicyRules(rules, 'default');
  const compiled = parsed.map((rule, index) => compileRule(rule, rule.id ?? `default:rules[${index}]`, { ignoreCase }));
  return (request) => {
    for (const rule of compiled) if (rule.matches(request)) return rule.decision;
    return request.toolRequiresApproval
      ? { decision: 'ask', rule: TOOL_DEFAULT_RULE, reason: 'the tool asks for approval of these arguments' }
      : { decision: 'allow', rule: TOOL_DEFAULT_RULE };
  };
}

interface CompiledRule {
  readonly decision: PolicyDecision;
  matches(request: ToolCallRequest): boolean;
}

function compileRule(rule: PolicyRule, identifier: string, options: { ignoreCase: boolean | undefined }): CompiledRule {
  const polarity: Polarity = rule.decision === 'allow' ? 'allow' : 'restrict';
  const checks: ((request: ToolCallRequest) => boolean)[] = [];
  const toolMatches = compileToolPattern(rule.tool);
  checks.push((request) => toolMatches(request.tool));
  const { commandPrefix, paths, hosts } = rule.when ?? {};
  if (commandPrefix !== undefined) {
    const prefix = [...commandPrefix];
    checks.push((request) => commandMatches(request.args, prefix, polarity));
  }
  if (paths !== undefined) {
    const matches = compilePathGlobs(paths, { ignoreCase: options.ignoreCase });
    checks.push((request) => pathsMatch(request.args, matches, polarity));
  }
  if (hosts !== undefined) {
    const matches = compileHostPatterns(hosts);
    checks.push((request) => hostsMatch(request.args, matches, polarity));
  }
  const decision: PolicyDecision = Object.freeze({
    decision: rule.decision,
    rule: identifier,
    ...(rule.reason === undefined ? {} : { reason: rule.reason }),
  });
  return { decision, matches: (request) => checks.every((check) => check(request)) };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
