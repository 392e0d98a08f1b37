/**
 * `POST /v1/messages:execute`: executes the script blocks of an assistant message and answers
 * with the ordered history items (text, reasoning, each block's call and output) and the result
 * of every block that ran. Dry-run and disabled messages run nothing, so they skip the queue.
 */
import { executeMessage } from '@script-harness/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { effectiveMaxLimits } from '../config.ts';
import type { ServerContext } from '../context.ts';
import { prepareRun } from '../run-request.ts';
import { ErrorResponseSchema, MessageRequestSchema, MessageResponseSchema } from '../schemas.ts';
import { submitJob, telemetryParentOf } from './submit.ts';

export function messageRoutes(context: ServerContext): FastifyPluginAsyncZod {
  const { harness, config } = context;
  const ceilings = effectiveMaxLimits(config);

  return async (app) => {
    // `::` is a literal colon in a route path (a single one starts a parameter).
    app.post(
      '/messages::execute',
      {
        schema: {
          tags: ['messages'],
          summary: 'Execute an assistant message',
          description:
            'Detects the script blocks of an assistant message (plain text) and executes them in order: enabled runs ' +
            'them, dry-run validates them, disabled replaces each with a notice. Answers with the history items in ' +
            'message order and the result of every block that ran.',
          security: [{ apiKey: [] }],
          body: MessageRequestSchema,
          response: {
            200: MessageResponseSchema,
            400: ErrorResponseSchema,
            401: ErrorResponseSchema,
            413: ErrorResponseSchema,
            415: ErrorResponseSchema,
            429: ErrorResponseSchema,
            503: ErrorResponseSchema,
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const tenant = request.tenant;
        const run = prepareRun(body, harness, ceilings, config.mode);
        context.metrics.executions.inc({ endpoint: 'messages', mode: run.mode, tenant });
        const runOptions = {
          ...(run.limits === undefined ? {} : { limits: run.limits }),
          ...(run.tools === undefined ? {} : { tools: run.tools }),
          ...(run.context === undefined ? {} : { context: run.context }),
          ...(run.runtime === undefined ? {} : { runtime: run.runtime }),
          telemetryParent: telemetryParentOf(request),
        };
        const options = { mode: run.mode, ...(body.onError === undefined ? {} : { onError: body.onError }) };

        if (run.mode !== 'enabled') {
          const execution = await executeMessage(harness, body.message, { ...options, run: runOptions });
          return {
            mode: run.mode,
            tenant,
            blocks: execution.blocks,
            items: execution.items,
            results: execution.results,
          };
        }

        const caller = new AbortController();
        const handle = submitJob(context, {
          payload: {
            kind: 'message',
            message: body.message,
            options: { ...options, run: runOptions },
            owner: { tenant, requestId: request.id },
          },
          priority: run.priority,
          tenant,
          signal: caller.signal,
        });
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) caller.abort();
        });
        const outcome = await handle.result;
        if (outcome.kind !== 'message') throw new Error('a message job ended with another kind of outcome');
        const { execution } = outcome;
        return { mode: run.mode, tenant, blocks: execution.blocks, items: execution.items, results: execution.results };
      },
    );
  };
}
