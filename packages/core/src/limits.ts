import { z } from 'zod';
import { HarnessError } from './errors.ts';

/**
 * Every limit of a script run. Defaults are safe for a model's script; a request may override
 * any of them, but never above the ceilings the operator configured (`maxLimits`).
 */
export const LimitsSchema = z.strictObject({
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('Wall-clock deadline of the whole run, tool calls and promise jobs included.'),
  memoryMb: z.number().positive().max(4096).default(96).describe('Heap available to the script.'),
  stackKb: z.number().int().positive().max(65_536).default(512).describe('Stack available to the script.'),
  maxToolCalls: z.number().int().nonnegative().default(32).describe('Tool calls one script may make.'),
  maxConcurrentToolCalls: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe('Tool calls running at once; further calls wait their turn.'),
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(128 * 1024)
    .describe('Size of the JSON of the value a script returns.'),
  maxSourceBytes: z
    .number()
    .int()
    .positive()
    .default(20 * 1024)
    .describe('Size of the script source.'),
  maxConsoleEvents: z.number().int().nonnegative().default(200).describe('Console lines kept per script.'),
  consoleEventsPerSecond: z.number().positive().default(20).describe('Console lines per second before dropping.'),
  maxConsoleLineBytes: z.number().int().positive().default(2048).describe('Longest console line kept.'),
  maxProgressEvents: z.number().int().nonnegative().default(50).describe('Progress events per script.'),
  progressIntervalMs: z.number().int().nonnegative().default(500).describe('Minimum gap between progress events.'),
  maxToolArgsBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024)
    .describe('Size of the JSON of one tool call’s arguments.'),
  maxToolOutputBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024)
    .describe('Size of one tool result (JSON) handed back to the script.'),
  detachedGraceMs: z
    .number()
    .int()
    .nonnegative()
    .default(250)
    .describe('Time given to aborted, never-awaited tool calls to settle after the script ends.'),
});

export type Limits = z.output<typeof LimitsSchema>;
export type LimitsInput = z.input<typeof LimitsSchema>;

/**
 * The same fields without their defaults, all optional: an override names only what it changes
 * (`LimitsSchema.partial()` would still fill in every default and reset the rest).
 */
const LimitsOverrideSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(LimitsSchema.shape).map(([key, field]) => [key, field.removeDefault().optional()]),
  ) as {
    [K in keyof typeof LimitsSchema.shape]: z.ZodOptional<ReturnType<(typeof LimitsSchema.shape)[K]['removeDefault']>>;
  },
);

/** Ceilings a per-request override may not exceed. */
export const DEFAULT_MAX_LIMITS: Readonly<Partial<Limits>> = Object.freeze({
  timeoutMs: 300_000,
  memoryMb: 512,
  stackKb: 4096,
  maxToolCalls: 1000,
  maxConcurrentToolCalls: 32,
  maxOutputBytes: 4 * 1024 * 1024,
  maxSourceBytes: 256 * 1024,
});

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(LimitsSchema.parse({}));

/** Validates configured limits, filling defaults; throws INVALID_REQUEST naming every bad field. */
export function parseLimits(input: unknown): Limits {
  const parsed = LimitsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new HarnessError('INVALID_REQUEST', `invalid limits: ${formatIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/**
 * Applies a per-request override on top of the configured limits. A value above its ceiling is
 * refused (never silently clamped): the caller asked for something the operator did not allow.
 */
export function resolveLimits(
  base: Limits,
  override: Partial<Limits> | undefined,
  ceilings: Readonly<Partial<Limits>>,
): Limits {
  if (override === undefined) return base;
  const partial = LimitsOverrideSchema.safeParse(override);
  if (!partial.success) {
    throw new HarnessError('INVALID_REQUEST', `invalid limits: ${formatIssues(partial.error.issues)}`);
  }
  const merged: Limits = { ...base };
  for (const [key, value] of Object.entries(partial.data) as [keyof Limits, number | undefined][]) {
    if (value === undefined) continue;
    const ceiling = ceilings[key];
    if (ceiling !== undefined && value > ceiling) {
      throw new HarnessError('INVALID_REQUEST', `limits.${key} = ${value} is above the allowed maximum of ${ceiling}`, {
        details: { field: `limits.${key}`, maximum: ceiling },
      });
    }
    merged[key] = value;
  }
  return merged;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
