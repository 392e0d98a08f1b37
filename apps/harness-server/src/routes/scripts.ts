/**
 * `POST /v1/scripts`: runs one script through the queue and answers with its ScriptResult, or,
 * with `Accept: text/event-stream`, streams the run as it happens. A script fault is a successful
 * API call (`200` with `ok: false`); only requests that cannot be run at all get an error status.
 */
import { randomUUID } from 'node:crypto';
import { toErrorData } from '@script-harness/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { effectiveMaxLimits } from '../config.ts';
import type { ServerContext } from '../context.ts';
import { disabledResponse, dryRunResponse, failedResult, scriptResponse } from '../execution.ts';
import { prepareRun } from '../run-request.ts';
import { ErrorResponseSchema, ScriptRequestSchema, ScriptResponseSchema } from '../schemas.ts';
import { createEventStream, wantsEventStream } from '../sse.ts';
import { submitJob, telemetryParentOf } from './submit.ts';

export function scriptRoutes(context: ServerContext): FastifyPluginAsyncZod {
  const { harness, config } = context;
  const ceilings = effectiveMaxLimits(config);

  return async (app) => {
    app.post(
      '/scripts',
      {
        schema: {
          tags: ['scripts'],
          summary: 'Run a script',
          description:
            'Runs the script and answers with its ScriptResult. With `Accept: text/event-stream` the run is streamed ' +
            'as server-sent events: script_started, console, progress, tool_call, tool_result, approval_requested, ' +
            'then script_completed or script_error carrying the result.',
          security: [{ apiKey: [] }],
          body: ScriptRequestSchema,
          response: {
            200: ScriptResponseSchema,
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
        const startedAt = performance.now();
        const scriptId = randomUUID();
        context.metrics.executions.inc({ endpoint: 'scripts', mode: run.mode, tenant });
        const language = body.language ?? 'ts';

        if (run.mode === 'disabled') {
          return disabledResponse({ scriptId, runtime: harness.runtime, tenant, startedAt });
        }
        if (run.mode === 'dry-run') {
          const report = harness.check(body.code, {
            language,
            ...(run.limits === undefined ? {} : { limits: run.limits }),
            ...(run.tools === undefined ? {} : { tools: run.tools }),
          });
          return dryRunResponse(report, { scriptId, runtime: harness.runtime, tenant, startedAt });
        }

        const stream = wantsEventStream(request.headers.accept) ? createEventStream() : undefined;
        const caller = new AbortController();
        // The job is plain JSON: it may run on another node, whose events come back here.
        const handle = submitJob(context, {
          payload: {
            kind: 'script',
            source: body.code,
            options: {
              scriptId,
              language,
              ...(run.limits === undefined ? {} : { limits: run.limits }),
              ...(run.tools === undefined ? {} : { tools: run.tools }),
              ...(run.context === undefined ? {} : { context: run.context }),
              ...(run.runtime === undefined ? {} : { runtime: run.runtime }),
              telemetryParent: telemetryParentOf(request),
            },
            owner: { tenant, requestId: request.id },
            ...(stream === undefined ? {} : { stream: true }),
          },
          ...(stream === undefined ? {} : { onEvent: (event) => stream.send(event.event, event.data) }),
          priority: run.priority,
          tenant,
          signal: caller.signal,
        });
        // A caller that hangs up does not leave its script running.
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) caller.abort();
        });

        if (stream === undefined) {
          const outcome = await handle.result;
          if (outcome.kind !== 'script') throw new Error('a script job ended with another kind of outcome');
          return scriptResponse(outcome.result, 'enabled', tenant);
        }

        // A refused submission is answered with its status (503), not as a stream.
        if (!(await handle.enqueued)) await handle.result;
        reply.hijack();
        stream.attach(reply.raw, { 'x-request-id': request.id });
        try {
          const outcome = await handle.result;
          if (outcome.kind !== 'script') throw new Error('a script job ended with another kind of outcome');
          const result = scriptResponse(outcome.result, 'enabled', tenant);
          stream.send(result.ok ? 'script_completed' : 'script_error', { scriptId, result });
        } catch (error) {
          // Cancelled at shutdown (SHUTDOWN) or by the caller: the stream still ends with the reason.
          const result = scriptResponse(failedResult(toErrorData(error), scriptId, harness.runtime), 'enabled', tenant);
          stream.send('script_error', { scriptId, result });
        } finally {
          stream.end();
          context.metrics.requests.inc({ method: 'POST', route: '/v1/scripts', status: '200' });
        }
        return reply;
      },
    );
  };
}
