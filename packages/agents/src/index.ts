export {
  createMcpCodeModeServer,
  DEFAULT_MAX_DESCRIPTION_CHARS,
  DEFAULT_MCP_SERVER_NAME,
  DEFAULT_SEARCH_LIMIT,
  DESCRIBE_TOOL_TOOL_NAME,
  MAX_SEARCH_LIMIT,
  type McpCodeModeHttpHandler,
  type McpCodeModeServer,
  type McpCodeModeServerOptions,
  type McpHttpHandlerOptions,
  type McpStdioConnection,
  type McpStdioOptions,
  SEARCH_TOOLS_TOOL_NAME,
} from './mcp-server.ts';
export { type FetchHandler, serveNodeRequest } from './node-http.ts';
export {
  type RunScriptDescriptionOptions,
  runScriptDescription,
  type SystemPromptOptions,
  systemPrompt,
  type ToolSource,
  toolsOf,
} from './prompt.ts';
export {
  RUN_SCRIPT_TOOL_NAME,
  type RunScriptCallOptions,
  type RunScriptInput,
  RunScriptInputSchema,
  type RunScriptOutcome,
  type RunScriptToolOptions,
  runScriptCall,
} from './run-script.ts';
