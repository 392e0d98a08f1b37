/**
 * `GET /v1/info`: what a client (the web console's pickers) needs to know before it sends a run:
 * the caller's tenant, the runtimes, the tools with their descriptions, every limit with its
 * default, ceiling and meaning, the default execution mode and how long approvals wait.
 */
import { type Limits, LimitsSchema } from '@script-harness/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { effectiveMaxLimits } from '../config.ts';
import type { ServerContext } from '../context.ts';
import { ErrorResponseSchema } from '../schemas.ts';

export const ServerInfoSchema = z.object({
  tenant: z.string().describe("The caller's tenant (`local` without API keys)."),
  auth: z.enum(['api-key', 'none']),
  mode: z.string().describe('The execution mode of requests that name none.'),
  runtimes: z.array(z.string()).readonly(),
  defaultRuntime: z.string(),
  tools: z
    .array(
      z.object({
        name: z.string(),
        description: z.string(),
        requiresApproval: z
          .enum(['always', 'never', 'depends'])
          .describe('What the tool itself asks for; policy rules may still ask, allow or deny.'),
      }),
    )
    .readonly(),
  limits: z
    .array(
      z.object({
        name: z.string(),
        value: z.number().describe("The server's value for runs that do not override it."),
        max: z.number().optional().describe('The most a request may ask for.'),
        description: z.string(),
      }),
    )
    .readonly(),
  approvalTimeoutMs: z.number(),
});

/** What `GET /v1/info` answers. */
export type ServerInfo = z.infer<typeof ServerInfoSchema>;

export function infoRoutes(context: ServerContext): FastifyPluginAsyncZod {
  const { harness, config } = context;
  const ceilings = effectiveMaxLimits(config);
  const limits = (Object.keys(LimitsSchema.shape) as (keyof Limits)[]).map((name) => {
    const max = ceilings[name];
    return {
      name,
      value: harness.limits[name],
      ...(max === undefined ? {} : { max }),
      description: LimitsSchema.shape[name].description ?? '',
    };
  });
  const tools = harness.registry.names.map((name) => {
    const tool = harness.registry.get(name);
    const asks = tool?.requiresApproval;
    return {
      name,
      description: tool?.description ?? '',
      requiresApproval: typeof asks === 'function' ? 'depends' : asks === true ? 'always' : 'never',
    } as const;
  });

  return async (app) => {
    app.get(
      '/info',
      {
        schema: {
          tags: ['info'],
          summary: 'Runtimes, tools, limits and mode of this server, and the caller’s tenant',
          security: [{ apiKey: [] }],
          response: { 200: ServerInfoSchema, 401: ErrorResponseSchema },
        },
      },
      async (request) => ({
        tenant: request.tenant,
        auth: config.insecureNoAuth ? ('none' as const) : ('api-key' as const),
        mode: config.mode,
        runtimes: harness.runtimes,
        defaultRuntime: harness.runtime,
        tools,
        limits,
        approvalTimeoutMs: config.approvals.timeoutMs,
      }),
    );
  };
}
