/**
 * The operators' endpoints: `/health` (the process answers), `/live` (its event loop turns in
 * time), `/ready` (it should get new work) and `/metrics` (Prometheus text). None needs an API key
 * except `/metrics` when `metricsAuth` is on.
 */

import { PROMETHEUS_CONTENT_TYPE } from '@script-harness/telemetry';
import { LIVE_TASK_STATUSES } from '@script-harness/tools';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Authenticator } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { readiness } from '../health.ts';
import { ApiError } from '../http-errors.ts';
import { HealthSchema } from '../schemas.ts';

/** A loop that fires its timer this late cannot serve requests well; restart it. */
export const MAX_EVENT_LOOP_LAG_MS = 1_000;

export function opsRoutes(context: ServerContext, authenticator: Authenticator | undefined): FastifyPluginAsyncZod {
  const { config } = context;
  let liveTasks = 0;
  context.telemetry.observeSpawnTasks(() => (context.tasks === undefined ? undefined : liveTasks));

  return async (app) => {
    app.get(
      '/health',
      {
        schema: { tags: ['operations'], summary: 'The process is up.', response: { 200: HealthSchema } },
      },
      async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
    );

    app.get(
      '/live',
      {
        schema: {
          tags: ['operations'],
          summary: 'The event loop is responsive (503 when it lags).',
          response: { 200: HealthSchema, 503: HealthSchema },
        },
      },
      async (_request, reply) => {
        const lagMs = Math.round(context.eventLoop.lagMs());
        if (lagMs > MAX_EVENT_LOOP_LAG_MS) return reply.code(503).send({ status: 'stalled', eventLoopLagMs: lagMs });
        return { status: 'ok', eventLoopLagMs: lagMs };
      },
    );

    app.get(
      '/ready',
      {
        schema: {
          tags: ['operations'],
          summary: 'The pool is warm, the queue has room and the server is not shutting down (else 503).',
          response: { 200: HealthSchema, 503: HealthSchema },
        },
      },
      async (_request, reply) => {
        const queue = context.queue.stats();
        const pool = context.runtime.stats();
        const state = readiness({
          shuttingDown: context.isShuttingDown(),
          pool,
          queue,
          maxQueued: config.queue.maxQueued,
        });
        const figures = {
          queue: { queued: queue.queued, running: queue.running, maxQueued: config.queue.maxQueued },
          ...(pool === undefined ? {} : { pool: { size: pool.size, busy: pool.busy } }),
        };
        if (!state.ready) return reply.code(503).send({ status: 'not_ready', reasons: state.reasons, ...figures });
        return { status: 'ready', ...figures };
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text format 0.0.4).',
          ...(config.metricsAuth ? { security: [{ apiKey: [] }] } : {}),
        },
      },
      async (request, reply) => {
        if (config.metricsAuth && authenticator !== undefined) {
          const outcome = authenticator.authenticate(request.headers.authorization);
          if (!outcome.ok) {
            context.metrics.rejections.inc({ reason: 'unauthorized' });
            throw unauthorized(outcome.reason);
          }
        }
        if (context.tasks !== undefined) {
          liveTasks = (await context.tasks.listTasks({ statuses: LIVE_TASK_STATUSES })).length;
        }
        const text = (await context.telemetry.metricsText()) + context.metrics.render();
        return reply.type(PROMETHEUS_CONTENT_TYPE).send(text);
      },
    );
  };
}

export function unauthorized(reason: 'missing' | 'malformed' | 'unknown'): ApiError {
  const message =
    reason === 'missing'
      ? 'this route needs an API key: send Authorization: Bearer <key>'
      : reason === 'malformed'
        ? 'the Authorization header must be "Bearer <key>"'
        : 'the API key is not valid';
  return new ApiError(401, 'UNAUTHORIZED', message, {
    headers: {
      'www-authenticate': `Bearer realm="harness-server"${reason === 'unknown' ? ', error="invalid_token"' : ''}`,
    },
  });
}
