/**
 * `GET /v1/runs` and `GET /v1/runs/{id}`: the caller's recent scripts on this node, newest first,
 * with outcome, duration and tool-call count; one run with its source. A tenant sees only its own
 * runs; another tenant's run answers 404. Runs are kept in memory (a bounded number), so a
 * restart forgets them, and with several nodes each lists the scripts it ran itself.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../http-errors.ts';
import type { RunRecorder } from '../run-recorder.ts';
import { ErrorResponseSchema, IdParamsSchema } from '../schemas.ts';

const DEFAULT_RUN_LIST_LIMIT = 50;

const RunErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  line: z.number().optional(),
  column: z.number().optional(),
});

export const RunSummarySchema = z.object({
  scriptId: z.string(),
  tenant: z.string().optional(),
  requestId: z.string().optional(),
  runtime: z.string(),
  status: z.enum(['running', 'ok', 'error']),
  startedAt: z.number().describe('Epoch milliseconds.'),
  endedAt: z.number().optional(),
  durationMs: z.number().optional().describe("The run's own duration, once it ended."),
  toolCalls: z.number().optional(),
  consoleLines: z.number().optional(),
  attempts: z.number().describe('More than 1 when the run was retried after its worker died.'),
  error: RunErrorSchema.optional(),
});

export const RunDetailSchema = RunSummarySchema.extend({
  language: z.string(),
  source: z.string(),
  sourceTruncated: z.boolean(),
});

export const RunListSchema = z.object({ runs: z.array(RunSummarySchema).readonly() });

export const RunListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export function runRoutes(runs: RunRecorder): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/runs',
      {
        schema: {
          tags: ['runs'],
          summary: "The caller's recent scripts on this node, newest first",
          description:
            'Scripts of /v1/scripts and of the blocks of /v1/messages:execute, running or ended: outcome, duration, ' +
            'tool-call count, error code and line. Kept in memory, a bounded number per node.',
          security: [{ apiKey: [] }],
          querystring: RunListQuerySchema,
          response: { 200: RunListSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema },
        },
      },
      async (request) => ({ runs: runs.list(request.tenant, request.query.limit ?? DEFAULT_RUN_LIST_LIMIT) }),
    );

    app.get(
      '/runs/:id',
      {
        schema: {
          tags: ['runs'],
          summary: 'One recent run, with its source',
          security: [{ apiKey: [] }],
          params: IdParamsSchema,
          response: { 200: RunDetailSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
        },
      },
      async (request) => {
        const run = runs.get(request.params.id, request.tenant);
        if (run === undefined)
          throw new ApiError(404, 'NOT_FOUND', `there is no run ${JSON.stringify(request.params.id)}`);
        return run;
      },
    );
  };
}
