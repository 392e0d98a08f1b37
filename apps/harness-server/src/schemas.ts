/**
 * The wire format of the API as zod schemas: requests are validated with them (strictly: an
 * unknown field is an error, not silently dropped) and the OpenAPI document at `/docs` is
 * generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { EXECUTION_MODES, LimitsOverrideSchema } from './config.ts';

const JsonObject = z.record(z.string(), z.unknown());

const ToolNames = z
  .array(z.string().min(1).max(200))
  .max(1000)
  .describe('Tools this run may call (a subset of the server tools); default: all.');

const RunFields = {
  limits: LimitsOverrideSchema.optional().describe(
    'Per-request limit overrides, within the ceilings the operator configured.',
  ),
  tools: ToolNames.optional(),
  mode: z
    .enum(EXECUTION_MODES)
    .optional()
    .describe('enabled runs, dry-run validates without running, disabled runs nothing; default: the server mode.'),
  context: JsonObject.optional().describe('Plain data added to the `context` global the script sees.'),
  priority: z.enum(['high', 'normal', 'low']).optional().describe('Queue priority; default normal.'),
  runtime: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe("One of the server's runtimes (quickjs); default: the server's default runtime."),
};

export const ScriptRequestSchema = z
  .strictObject({
    code: z.string().describe('The script: the body of an async function; `return` its result.'),
    language: z.enum(['ts', 'js']).optional().describe('Default ts.'),
    ...RunFields,
  })
  .describe('A script to run.');

export const MessageRequestSchema = z
  .strictObject({
    message: z.string().describe('The assistant message (plain text) whose script blocks are executed.'),
    onError: z
      .enum(['stop', 'continue'])
      .optional()
      .describe('After a failed block: skip (stop, default) or run (continue) the rest.'),
    ...RunFields,
  })
  .describe('An assistant message to execute.');

export const ApprovalDecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  reason: z.string().max(1000).optional(),
  argsHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional()
    .describe('The argsHash you were shown; when it differs, nothing is decided (409).'),
});

export const IdParamsSchema = z.strictObject({ id: z.string().min(1).max(200) });

export const TaskListQuerySchema = z.strictObject({
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const ErrorDataSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  phase: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
  stack: z.string().optional(),
  details: JsonObject.optional(),
});

const ToolCallRecordSchema = z.object({
  callId: z.string(),
  tool: z.string(),
  args: z.unknown(),
  status: z.enum(['ok', 'error', 'aborted']),
  value: z.unknown().optional(),
  error: ErrorDataSchema.optional(),
  startedAt: z.number(),
  durationMs: z.number(),
});

const FindingSchema = z.object({
  code: z.string(),
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
  construct: z.string().optional(),
});

export const CheckReportSchema = z.object({
  ok: z.boolean(),
  findings: z.array(FindingSchema).readonly(),
  referencedTools: z.array(z.string()).readonly(),
});

const ScriptMetadataSchema = z.object({
  scriptId: z.string(),
  runtime: z.string(),
  durationMs: z.number(),
  toolCalls: z.number(),
  consoleDropped: z.number(),
  memoryBytes: z.number().optional(),
});

/** Core's ScriptResult. */
export const ScriptResultSchema = z.object({
  ok: z.boolean().describe('False for every script fault; the API call itself still succeeded.'),
  value: z.unknown().optional().describe('What the script returned (JSON), when ok.'),
  error: ErrorDataSchema.optional(),
  calls: z.array(ToolCallRecordSchema).readonly().describe('Every tool call, in the order the script made them.'),
  partial: z.array(ToolCallRecordSchema).readonly().optional(),
  console: z.array(z.object({ level: z.string(), text: z.string(), atMs: z.number() })).readonly(),
  warnings: z.array(z.object({ code: z.string(), message: z.string() })).readonly(),
  metadata: ScriptMetadataSchema,
});

export const ScriptResponseSchema = ScriptResultSchema.extend({
  mode: z.enum(EXECUTION_MODES),
  report: CheckReportSchema.optional().describe('dry-run: what validation found.'),
  notice: z.string().optional().describe('disabled: why nothing ran.'),
  metadata: ScriptMetadataSchema.extend({ tenant: z.string() }),
}).describe('The ScriptResult, with the mode it ran in and the tenant it ran for.');

export const MessageResponseSchema = z.object({
  mode: z.enum(EXECUTION_MODES),
  tenant: z.string(),
  blocks: z.number().describe('Script blocks found in the message.'),
  items: z
    .array(JsonObject)
    .readonly()
    .describe('History items in message order: text, reasoning, script calls and outputs.'),
  results: z.array(ScriptResultSchema).readonly().describe('The ScriptResult of every block that ran, in order.'),
});

export const PendingApprovalSchema = z.object({
  id: z.string(),
  scriptId: z.string(),
  callId: z.string(),
  sequence: z.number(),
  tool: z.string(),
  args: z.unknown().describe('Redacted for display.'),
  argsHash: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});

export const ApprovalListSchema = z.object({ approvals: z.array(PendingApprovalSchema).readonly() });

export const ApprovalDecidedSchema = z.object({ id: z.string(), status: z.enum(['approved', 'denied']) });

export const TaskSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  tool: z.string(),
  args: z.unknown(),
  status: z.string(),
  startedAt: z.number(),
  deadline: z.number(),
  endedAt: z.number().optional(),
  result: z.unknown().optional(),
  error: ErrorDataSchema.optional(),
  scriptId: z.string().optional(),
});

export const TaskListSchema = z.object({ tasks: z.array(TaskSchema).readonly() });

export const TaskCancelledSchema = z.object({ task: TaskSchema, cancelled: z.boolean() });

export const ErrorResponseSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean().optional(),
    details: JsonObject.optional(),
  }),
});

export const HealthSchema = z.object({ status: z.string() }).passthrough();

export type ScriptRequest = z.output<typeof ScriptRequestSchema>;
export type MessageRequest = z.output<typeof MessageRequestSchema>;
