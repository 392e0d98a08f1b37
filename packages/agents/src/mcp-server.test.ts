import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { Harness } from '@script-harness/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMcpCodeModeServer, type McpCodeModeServerOptions } from './mcp-server.ts';
import { createTestHarness } from './testing/harness.ts';

let harness: Harness;
const clients: Client[] = [];
beforeAll(async () => {
  harness = await createTestHarness();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});
afterAll(() => harness.close());

/** A real MCP client connected in-process to a fresh server instance. */
async function connect(options: Partial<McpCodeModeServerOptions> = {}): Promise<Client> {
  const server = createMcpCodeModeServer({ harness, ...options }).createServer();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as { type: string; text?: string }[])[0];
  return first?.type === 'text' ? (first.text ?? '') : '';
}

describe('MCP code-mode server', () => {
  it('lists run_script with the declarations, search_tools and describe_tool', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['describe_tool', 'run_script', 'search_tools']);
    const runScript = tools.find((tool) => tool.name === 'run_script');
    expect(runScript?.description).toContain('weather(args: {');
    expect(runScript?.inputSchema).toMatchObject({
      type: 'object',
      properties: { code: { type: 'string' }, language: { enum: ['ts', 'js'] } },
      required: ['code'],
    });
    expect(runScript?.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
    expect(client.getInstructions()).toContain('run_script');
  });

  it('runs a script and reports a failing one as a tool error', async () => {
    const client = await connect();
    const ok = await client.callTool({
      name: 'run_script',
      arguments: {
        code: `const r = await tools.weather({ city: 'Lima' }); return tools.units.fahrenheit({ celsius: r.celsius });`,
      },
    });
    expect(ok.isError).toBeFalsy();
    expect(JSON.parse(textOf(ok))).toEqual({ ok: true, value: 64 });

    const js = await client.callTool({
      name: 'run_script',
      arguments: { code: 'return [1, 2].length', language: 'js' },
    });
    expect(JSON.parse(textOf(js))).toEqual({ ok: true, value: 2 });

    const failed = await client.callTool({ name: 'run_script', arguments: { code: 'return 1 +' } });
    expect(failed.isError).toBe(true);
    expect(JSON.parse(textOf(failed)).error.code).toBe('SYNTAX_ERROR');
  });

  it('cancels the running script when the client cancels the call', async () => {
    const ended: string[] = [];
    const client = await connect({
      onEvent: (event) => {
        if (event.type === 'tool_result') ended.push(`${event.tool}:${event.status}`);
      },
    });
    const call = client.callTool(
      { name: 'run_script', arguments: { code: 'return await tools.wait({ ms: 60_000 });' } },
      { signal: AbortSignal.timeout(200) },
    );
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(ended).toEqual(['wait:aborted']));
  });

  it('finds tools by purpose and describes one with its declaration', async () => {
    const client = await connect();
    const found = await client.callTool({ name: 'search_tools', arguments: { query: 'temperature city' } });
    expect(found.structuredContent).toEqual({
      tools: [{ name: 'weather', description: 'Current temperature in °C for a city.' }],
    });
    const described = await client.callTool({ name: 'describe_tool', arguments: { name: 'tools.units.fahrenheit' } });
    expect(described.structuredContent).toMatchObject({
      name: 'units.fahrenheit',
      description: 'Converts °C to °F.',
      declaration: expect.stringContaining('fahrenheit(args: { celsius: number }): Promise<number>;'),
    });
    const missing = await client.callTool({ name: 'describe_tool', arguments: { name: 'wether' } });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toBe('there is no tool wether; did you mean weather?');
  });

  it('keeps to the tool allowlist in the description, the lookups and the runs', async () => {
    const called: string[] = [];
    const client = await connect({
      tools: ['weather'],
      onEvent: (event) => {
        if (event.type === 'tool_result') called.push(`${event.tool}:${event.status}`);
      },
    });
    const { tools } = await client.listTools();
    expect(tools.find((tool) => tool.name === 'run_script')?.description).not.toContain('fahrenheit');
    const found = await client.callTool({ name: 'search_tools', arguments: { query: 'fahrenheit' } });
    expect(found.structuredContent).toEqual({ tools: [] });
    const described = await client.callTool({ name: 'describe_tool', arguments: { name: 'units.fahrenheit' } });
    expect(described.isError).toBe(true);
    const run = await client.callTool({
      name: 'run_script',
      arguments: {
        code: `await tools.weather({ city: 'Oslo' }); return await tools.units.fahrenheit({ celsius: 1 });`,
      },
    });
    expect(run.isError).toBe(true);
    expect(called).toEqual(['weather:ok']);
  });

  it('lists names only, and points to describe_tool, when the declarations do not fit the description', async () => {
    const client = await connect({ maxDescriptionChars: 200 });
    const { tools } = await client.listTools();
    const description = tools.find((tool) => tool.name === 'run_script')?.description ?? '';
    expect(description).not.toContain('declare const tools');
    expect(description).toContain('- weather: Current temperature in °C for a city.');
    expect(description).toContain('Use describe_tool');
  });
});
