/**
 * Code mode for any MCP client: an MCP server whose `run_script` tool runs a TypeScript program on
 * a harness, so one call can combine every tool behind it (file tools, and the tools of the MCP
 * servers connected with `connectMcpServers`, as `tools.mcp.<server>.<tool>`). `search_tools` and
 * `describe_tool` look tools up when there are too many to declare in `run_script`'s description.
 *
 * Served over stdio (`serveStdio`) or streamable HTTP (`createHttpHandler`, web-standard `fetch`
 * plus a node:http face). The harness stays the caller's: closing the server does not close it.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import {
  type CallToolResult,
  createMcpHandler,
  hostHeaderValidationResponse,
  McpServer,
  originValidationResponse,
} from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { type AnyTool, closestNames, generateDeclarations, type Harness } from '@script-harness/core';
import { rankTools } from '@script-harness/tools';
import { z } from 'zod';
import { serveNodeRequest } from './node-http.ts';
import { toolsOf } from './prompt.ts';
import { describeRunScriptTool, RUN_SCRIPT_TOOL_NAME, type RunScriptToolOptions, runScriptCall } from './run-script.ts';

export const SEARCH_TOOLS_TOOL_NAME = 'search_tools';
export const DESCRIBE_TOOL_TOOL_NAME = 'describe_tool';
export const DEFAULT_MCP_SERVER_NAME = 'script-harness';
/** Longest `run_script` description that declares every tool; past it, names only (see describe_tool). */
export const DEFAULT_MAX_DESCRIPTION_CHARS = 24_000;
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 50;
/** Descriptions in search results are cut here; describe_tool gives the whole text. */
const SEARCH_DESCRIPTION_CHARS = 200;

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface McpCodeModeServerOptions
  extends Pick<RunScriptToolOptions, 'tools' | 'limits' | 'context' | 'runtime' | 'onEvent'> {
  readonly harness: Harness;
  /** The server name MCP clients see; default `script-harness`. */
  readonly name?: string;
  /** The server version MCP clients see; default this package's. */
  readonly version?: string;
  /** See `DEFAULT_MAX_DESCRIPTION_CHARS`. */
  readonly maxDescriptionChars?: number;
  /** Errors outside any one request (a broken pipe, a malformed message), for logging. */
  readonly onError?: (error: Error) => void;
}

export interface McpStdioConnection {
  /** Settles when the client has gone (its end of the pipe closed) or `close()` was called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface McpStdioOptions {
  /** Default: the process's stdin and stdout. Nothing else may write to that stdout. */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
}

export interface McpHttpHandlerOptions {
  /**
   * Host header allowlist (hostnames, no ports), against DNS rebinding when the endpoint listens
   * on a loopback address without authentication. Default: no check.
   */
  readonly allowedHostnames?: readonly string[];
  /** Origin header allowlist (hostnames); a request without Origin passes. Default: no check. */
  readonly allowedOrigins?: readonly string[];
  /** Largest request body read, in bytes; default 4 MiB. Not applied to a `parsedBody`. */
  readonly maxRequestBodyBytes?: number;
}

export interface McpCodeModeHttpHandler {
  /** Web-standard face: one MCP request in, its response (JSON or an SSE stream) out. */
  fetch(request: Request, options?: { readonly parsedBody?: unknown }): Promise<Response>;
  /**
   * node:http face. Behind a framework that has already parsed the JSON body, pass it as
   * `parsedBody` (fastify: `reply.hijack()`, then `handleNode(request.raw, reply.raw, request.body)`).
   * Resolves when the response has been written; never rejects.
   */
  handleNode(request: IncomingMessage, response: ServerResponse, parsedBody?: unknown): Promise<void>;
  /** Ends the exchanges still open. */
  close(): Promise<void>;
}

export interface McpCodeModeServer {
  /** The names and descriptions of the three tools, as clients list them. */
  readonly tools: readonly { readonly name: string; readonly description: string }[];
  /** A new MCP server with the three tools: one per stdio connection, one per HTTP request. */
  createServer(): McpServer;
  serveStdio(options?: McpStdioOptions): McpStdioConnection;
  createHttpHandler(options?: McpHttpHandlerOptions): McpCodeModeHttpHandler;
}

const RunScriptArgs = z.object({
  code: z
    .string()
    .min(1)
    .describe('The TypeScript program: the body of an async function that awaits tool calls and returns the result.'),
  language: z.enum(['ts', 'js']).optional().describe('`ts` (default) or `js`.'),
});

const SearchArgs = z.object({
  query: z.string().min(1).max(500).describe('What the tool should do or be called, in a few words.'),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_SEARCH_LIMIT)
    .optional()
    .describe(`Most tools returned (default ${DEFAULT_SEARCH_LIMIT}).`),
});

const SearchResult = z.object({
  tools: z
    .array(
      z.object({ name: z.string().describe('Called as tools.<name>(args) in run_script.'), description: z.string() }),
    )
    .describe('Matching tools, best match first.'),
});

const DescribeArgs = z.object({
  name: z.string().min(1).max(200).describe('Tool name as after "tools.", e.g. "mcp.github.create_issue".'),
});

const DescribeResult = z.object({
  name: z.string(),
  description: z.string(),
  declaration: z.string().describe('TypeScript declaration of the tool: its arguments and its result.'),
});

export function createMcpCodeModeServer(options: McpCodeModeServerOptions): McpCodeModeServer {
  const { harness } = options;
  const name = options.name ?? DEFAULT_MCP_SERVER_NAME;
  const version = options.version ?? PACKAGE_VERSION;
  const runOptions: RunScriptToolOptions = {
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  };
  const allowed = options.tools === undefined ? undefined : new Set(options.tools);
  // The harness's tools never change, so everything derived from them is computed once.
  const visible: readonly AnyTool[] = toolsOf(harness).filter(
    (tool) => allowed === undefined || allowed.has(tool.name),
  );
  const searchable = visible.filter((tool) => !tool.name.startsWith('$'));
  const runScriptDescription = chooseDescription(harness, runOptions, options.maxDescriptionChars);
  const tools = [
    { name: RUN_SCRIPT_TOOL_NAME, description: runScriptDescription },
    {
      name: SEARCH_TOOLS_TOOL_NAME,
      description:
        'Finds the tools a run_script program can call, by name and purpose: the names and short descriptions of ' +
        `the best matches. Use ${DESCRIBE_TOOL_TOOL_NAME} for the arguments and result of one of them.`,
    },
    {
      name: DESCRIBE_TOOL_TOOL_NAME,
      description:
        'The TypeScript declaration of one tool a run_script program can call (its arguments, result and ' +
        'documentation), to call it correctly.',
    },
  ] as const;

  const search = (args: z.output<typeof SearchArgs>): CallToolResult => {
    const found = rankTools(searchable, args.query)
      .slice(0, args.limit ?? DEFAULT_SEARCH_LIMIT)
      .map((tool) => ({ name: tool.name, description: shorten(tool.description, SEARCH_DESCRIPTION_CHARS) }));
    return structured({ tools: found });
  };

  const describe = (args: z.output<typeof DescribeArgs>): CallToolResult => {
    const wanted = args.name.startsWith('tools.') ? args.name.slice('tools.'.length) : args.name;
    const tool = visible.find((candidate) => candidate.name === wanted);
    if (tool === undefined) {
      const suggestions = closestNames(
        wanted,
        visible.map((candidate) => candidate.name),
      );
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
      return { content: [{ type: 'text', text: `there is no tool ${wanted}${hint}` }], isError: true };
    }
    return structured({ name: tool.name, description: tool.description, declaration: generateDeclarations([tool]) });
  };

  const createServer = (): McpServer => {
    const server = new McpServer(
      { name, version },
      {
        instructions:
          `Code mode: instead of one tool call per step, write a TypeScript program for ${RUN_SCRIPT_TOOL_NAME} ` +
          'that calls the tools it needs (in parallel, in loops) and returns only the result you need.',
      },
    );
    server.registerTool(
      RUN_SCRIPT_TOOL_NAME,
      {
        title: 'Run a TypeScript program',
        description: runScriptDescription,
        inputSchema: RunScriptArgs,
        annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
      },
      async (args, context) => {
        const outcome = await runScriptCall(harness, { code: args.code }, runOptions, {
          signal: context.mcpReq.signal,
          ...(args.language === undefined ? {} : { language: args.language }),
        });
        return { content: [{ type: 'text', text: outcome.text }], ...(outcome.ok ? {} : { isError: true }) };
      },
    );
    server.registerTool(
      SEARCH_TOOLS_TOOL_NAME,
      {
        title: 'Search tools',
        description: tools[1].description,
        inputSchema: SearchArgs,
        outputSchema: SearchResult,
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args) => search(args),
    );
    server.registerTool(
      DESCRIBE_TOOL_TOOL_NAME,
      {
        title: 'Describe a tool',
        description: tools[2].description,
        inputSchema: DescribeArgs,
        outputSchema: DescribeResult,
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args) => describe(args),
    );
    return server;
  };

  const onError = (error: Error) => options.onError?.(error);

  return {
    tools,
    createServer,
    serveStdio(stdio = {}) {
      const transport = new StdioServerTransport(stdio.stdin, stdio.stdout);
      const handle = serveStdio(createServer, { transport, onerror: onError });
      // serveStdio installs its own close handler on the transport as it starts; ours runs after it.
      let markClosed: () => void = () => {};
      const closed = new Promise<void>((resolve) => (markClosed = resolve));
      const entryOnClose = transport.onclose;
      transport.onclose = () => {
        entryOnClose?.();
        markClosed();
      };
      return {
        closed,
        close: async () => {
          await handle.close();
          markClosed();
        },
      };
    },
    createHttpHandler(http = {}) {
      const handler = createMcpHandler(createServer, {
        onerror: onError,
        ...(http.maxRequestBodyBytes === undefined ? {} : { maxRequestBodySize: http.maxRequestBodyBytes }),
      });
      const fetch = async (request: Request, fetchOptions: { readonly parsedBody?: unknown } = {}) => {
        const rejected =
          (http.allowedHostnames === undefined
            ? undefined
            : hostHeaderValidationResponse(request, [...http.allowedHostnames])) ??
          (http.allowedOrigins === undefined ? undefined : originValidationResponse(request, [...http.allowedOrigins]));
        if (rejected !== undefined) return rejected;
        return handler.fetch(
          request,
          fetchOptions.parsedBody === undefined ? {} : { parsedBody: fetchOptions.parsedBody },
        );
      };
      return {
        fetch,
        handleNode: (request, response, parsedBody) => serveNodeRequest(request, response, fetch, parsedBody),
        close: () => handler.close(),
      };
    },
  };
}

/** Every declaration when they fit the budget; otherwise names only, and where to look the rest up. */
function chooseDescription(harness: Harness, options: RunScriptToolOptions, maxChars: number | undefined): string {
  const full = describeRunScriptTool(harness, options);
  if (full.length <= (maxChars ?? DEFAULT_MAX_DESCRIPTION_CHARS)) return full;
  return describeRunScriptTool(harness, {
    ...options,
    declarations: 'names',
    lookupHint:
      `Use ${DESCRIBE_TOOL_TOOL_NAME} for a tool's arguments and result, and ${SEARCH_TOOLS_TOOL_NAME} to find tools ` +
      'by purpose, before calling them.',
  });
}

function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

function shorten(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > limit / 2 ? cut.slice(0, space) : cut}…`;
}
