/**
 * The approvals as the web console follows them: `GET /v1/approvals/events` streams the caller's
 * pending approvals (a snapshot first, then each new one) and each one that is settled, as
 * server-sent events; `GET /v1/approvals/history` lists the settled ones, newest first. Each
 * approval carries the line of the script that made the call and who asked. Deciding stays
 * `POST /v1/approvals/{id}`.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createApprovalFeed } from '../approval-feed.ts';
import type { ServerContext } from '../context.ts';
import type { RunRecorder } from '../run-recorder.ts';
import { ErrorResponseSchema, PendingApprovalSchema } from '../schemas.ts';
import { createEventStream, type EventStream } from '../sse.ts';

const DEFAULT_HISTORY_LIMIT = 100;

export const ApprovalViewSchema = PendingApprovalSchema.extend({
  scriptExcerpt: z
    .string()
    .optional()
    .describe('The line(s) of the script that call the tool, when they can be found.'),
  requestedBy: z
    .object({ tenant: z.string().optional(), requestId: z.string().optional() })
    .describe('The tenant and request of the script that made the call.'),
});

export const SettledApprovalSchema = z.object({
  approval: ApprovalViewSchema,
  status: z.enum(['approved', 'denied', 'timeout', 'cancelled']),
  by: z.string().optional().describe('The tenant that decided; absent for timeouts and cancellations.'),
  reason: z.string().optional(),
  settledAt: z.number().describe('Epoch milliseconds.'),
});

export const ApprovalHistorySchema = z.object({ approvals: z.array(SettledApprovalSchema).readonly() });

export const ApprovalHistoryQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export function approvalFeedRoutes(context: ServerContext, runs: RunRecorder): FastifyPluginAsyncZod {
  return async (app) => {
    const feed = createApprovalFeed({
      broker: context.broker,
      tenantOfApproval: (id) => context.tenantOfApproval(id),
      runs,
    });
    app.addHook('onClose', async () => feed.close());
    const open = new Set<EventStream>();
    // A stream never ends by itself: end them all when the server closes, or the listener would wait for them.
    app.addHook('preClose', async () => {
      for (const stream of open) stream.end();
      open.clear();
    });

    app.get(
      '/approvals/history',
      {
        schema: {
          tags: ['approvals'],
          summary: "The caller's settled approvals, newest first",
          description: 'Approved, denied, timed out and cancelled approvals seen by this node, a bounded number.',
          security: [{ apiKey: [] }],
          querystring: ApprovalHistoryQuerySchema,
          response: { 200: ApprovalHistorySchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema },
        },
      },
      async (request) => ({ approvals: feed.history(request.tenant, request.query.limit ?? DEFAULT_HISTORY_LIMIT) }),
    );

    app.get(
      '/approvals/events',
      {
        schema: {
          tags: ['approvals'],
          summary: "The caller's approvals as they happen (server-sent events)",
          description:
            'First `snapshot` with `{ serverTime, pending }` (the pending approvals, oldest first), then ' +
            '`approval_requested` with each new approval and `approval_settled` with each settled one ' +
            '(`{ approval, status, by?, reason?, settledAt }`). A comment line every 15 s keeps proxies from ' +
            'closing the stream; it stays open until the client leaves or the server shuts down.',
          security: [{ apiKey: [] }],
          response: { 401: ErrorResponseSchema },
        },
      },
      async (request, reply) => {
        const tenant = request.tenant;
        const stream = createEventStream();
        const stopRequested = feed.on('requested', (approval, owner) => {
          if (owner === tenant) stream.send('approval_requested', { ...approval, serverTime: Date.now() });
        });
        const stopSettled = feed.on('settled', (settled, owner) => {
          if (owner === tenant) stream.send('approval_settled', settled);
        });
        stream.send('snapshot', { serverTime: Date.now(), pending: feed.pending(tenant) });
        open.add(stream);
        const finish = () => {
          stopRequested();
          stopSettled();
          open.delete(stream);
          stream.end();
        };
        reply.raw.on('close', finish);
        reply.hijack();
        stream.attach(reply.raw, { 'x-request-id': request.id });
        return reply;
      },
    );
  };
}
