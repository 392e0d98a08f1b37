/**
 * The code-mode MCP server as a program, for the tests that drive it with a real MCP client over
 * stdio: `node code-mode-server-entry.ts '<backends JSON>'`. The backends (name → MCP server
 * configuration) are connected with `connectMcpServers`; their tools are `tools.mcp.<name>.*`.
 * Nothing but protocol messages may go to stdout.
 */
import { createHarness } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { connectMcpServers, type McpServerConfig } from '@script-harness/tools';
import { createMcpCodeModeServer } from '../mcp-server.ts';

const backends = JSON.parse(process.argv[2] ?? '{}') as Record<string, McpServerConfig>;
const connection = await connectMcpServers(backends);
const harness = createHarness({ runtime: await createQuickJSRuntime({ mode: 'inline' }), tools: connection.tools });
const stdio = createMcpCodeModeServer({ harness, name: 'code-mode-test' }).serveStdio();
await stdio.closed;
// The client has gone: stop the backends, so no server process outlives this one.
await harness.close();
await connection.close();
