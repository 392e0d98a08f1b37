/**
 * `/mcp`: the harness as an MCP server over streamable HTTP ("code mode" for any MCP client):
 * `run_script`, `search_tools` and `describe_tool`, served by @script-harness/agents.
 */
import { createMcpCodeModeServer } from '@script-harness/agents';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';

export function mcpRoutes(context: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const handler = createMcpCodeModeServer({ harness: context.harness }).createHttpHandler();
    app.addHook('onClose', async () => {
      await handler.close();
    });
    // The MCP transport reads and answers the raw request itself (JSON bodies, SSE answers);
    // fastify has already parsed a JSON body, which is handed over.
    app.all('/mcp', async (request, reply) => {
      reply.hijack();
      await handler.handleNode(request.raw, reply.raw, request.body);
    });
  };
}
