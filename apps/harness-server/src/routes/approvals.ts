/**
 * `GET /v1/approvals` lists the tool calls of the caller's scripts that wait for a decision;
 * `POST /v1/approvals/{id}` approves or denies one. A tenant sees and decides only its own
 * approvals: another tenant's approval answers 404, exactly like one that does not exist. With
 * Redis, the approvals of every node are listed and decided on any node.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ServerContext } from '../context.ts';
import { ApiError } from '../http-errors.ts';
import {
  ApprovalDecidedSchema,
  ApprovalDecisionSchema,
  ApprovalListSchema,
  ErrorResponseSchema,
  IdParamsSchema,
} from '../schemas.ts';

export function approvalRoutes(context: ServerContext): FastifyPluginAsyncZod {
  const { broker } = context;

  return async (app) => {
    app.get(
      '/approvals',
      {
        schema: {
          tags: ['approvals'],
          summary: "Pending approvals of the caller's scripts, oldest first",
          security: [{ apiKey: [] }],
          response: { 200: ApprovalListSchema, 401: ErrorResponseSchema },
        },
      },
      async (request) => ({
        approvals: broker.pending().filter((approval) => context.tenantOfApproval(approval.id) === request.tenant),
      }),
    );

    app.post(
      '/approvals/:id',
      {
        schema: {
          tags: ['approvals'],
          summary: 'Approve or deny a pending approval',
          description:
            'The caller is recorded as the decider (its tenant). With argsHash, the decision applies only if the ' +
            'arguments are still the ones that were shown. 409 when the approval is already settled.',
          security: [{ apiKey: [] }],
          params: IdParamsSchema,
          body: ApprovalDecisionSchema,
          response: {
            200: ApprovalDecidedSchema,
            400: ErrorResponseSchema,
            401: ErrorResponseSchema,
            404: ErrorResponseSchema,
            409: ErrorResponseSchema,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        if (context.tenantOfApproval(id) !== request.tenant || broker.get(id) === undefined) {
          throw new ApiError(404, 'NOT_FOUND', `there is no approval ${JSON.stringify(id)}`);
        }
        const { decision, reason, argsHash } = request.body;
        const outcome = await broker.decide(
          id,
          decision,
          request.tenant,
          reason,
          argsHash === undefined ? undefined : { argsHash },
        );
        if (!outcome.ok) throw new ApiError(409, 'CONFLICT', outcome.reason);
        return { id, status: outcome.status };
      },
    );
  };
}
