/**
 * The code-mode MCP server driven by a real MCP client: over stdio as its own process, with two
 * real MCP servers (the tools package's fixture server, started twice) behind it, and over
 * streamable HTTP mounted on a node:http server on 127.0.0.1.
 */
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { Harness } from '@script-harness/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMcpCodeModeServer, type McpHttpHandlerOptions } from './mcp-server.ts';
import { createTestHarness } from './testing/harness.ts';

const ENTRY = fileURLToPath(new URL('./testing/code-mode-server-entry.ts', import.meta.url));
// The fixture lives beside the tools package's sources, which the package resolves to.
const FIXTURE_SERVER = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@script-harness/tools')),
  'testing',
  'mcp-fixture-server.ts',
);

const clients: Client[] = [];
const harnesses: Harness[] = [];
const httpServers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(
    httpServers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as { type: string; text?: string }[])[0];
  return first?.type === 'text' ? (first.text ?? '') : '';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('MCP code mode over stdio', () => {
  it('I12: MCP code mode: a real MCP client lists tools and runs a script combining two backend MCP servers', async () => {
    const backend = { command: process.execPath, args: [FIXTURE_SERVER] };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [ENTRY, JSON.stringify({ a: backend, b: backend })],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'code-mode-test-client', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe('code-mode-test');

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['describe_tool', 'run_script', 'search_tools']);
    const description = tools.find((tool) => tool.name === 'run_script')?.description ?? '';
    expect(description).toMatch(/mcp: \{\n\s+a: \{/);
    expect(description).toContain('/** Adds two numbers. */');

    const result = await client.callTool({
      name: 'run_script',
      arguments: {
        code: `
          const [sum, shout] = await Promise.all([
            tools.mcp.a.add({ a: 20, b: 22 }),
            tools.mcp.b.upper({ text: 'code mode' }),
          ]);
          const [a, b] = await Promise.all([tools.mcp.a.pid({}), tools.mcp.b.pid({})]);
          return { sum: Number(sum.content[0].text), shout: shout.text, pids: [a.pid, b.pid] };
        `,
      },
    });
    expect(result.isError).toBeFalsy();
    const output = JSON.parse(textOf(result)) as {
      ok: boolean;
      value: { sum: number; shout: string; pids: [number, number] };
    };
    expect(output.ok).toBe(true);
    expect(output.value.sum).toBe(42);
    expect(output.value.shout).toBe('CODE MODE');
    // Two backends: two server processes.
    const [pidA, pidB] = output.value.pids;
    expect(pidA).not.toBe(pidB);

    const found = await client.callTool({ name: 'search_tools', arguments: { query: 'upper case text' } });
    expect((found.structuredContent as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['mcp.a.upper', 'mcp.b.upper']),
    );
    const described = await client.callTool({ name: 'describe_tool', arguments: { name: 'mcp.b.upper' } });
    expect((described.structuredContent as { declaration: string }).declaration).toContain(
      'upper(args: { text: string }): Promise<{ text: string; length: number }>;',
    );

    // The client leaving ends the server, and the server stops its backends.
    await client.close();
    clients.length = 0;
    await vi.waitFor(() => expect([isRunning(pidA), isRunning(pidB)]).toEqual([false, false]), { timeout: 10_000 });
  });
});

describe('MCP code mode over streamable HTTP', () => {
  /** Mounts the handler at /mcp on 127.0.0.1; `parsed` reads the body first, as a framework would. */
  async function listen(harness: Harness, parsed: boolean, options?: McpHttpHandlerOptions): Promise<URL> {
    const handler = createMcpCodeModeServer({ harness }).createHttpHandler(options);
    const server = http.createServer(async (request, response) => {
      if (request.url !== '/mcp') {
        response.writeHead(404).end();
        return;
      }
      if (!parsed || request.method !== 'POST') return handler.handleNode(request, response);
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      return handler.handleNode(request, response, JSON.parse(Buffer.concat(chunks).toString('utf8')));
    });
    server.on('close', () => {
      void handler.close();
    });
    httpServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  }

  for (const parsed of [false, true]) {
    it(`serves a real MCP client (${parsed ? 'body parsed by the host' : 'body streamed'})`, async () => {
      const harness = await createTestHarness();
      harnesses.push(harness);
      const url = await listen(harness, parsed);
      const client = new Client({ name: 'code-mode-http-client', version: '1.0.0' });
      clients.push(client);
      await client.connect(new StreamableHTTPClientTransport(url));

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['describe_tool', 'run_script', 'search_tools']);
      const result = await client.callTool({
        name: 'run_script',
        arguments: {
          code: `
            const cities = ['Oslo', 'Rome', 'Lima'];
            const readings = await Promise.all(cities.map((city) => tools.weather({ city })));
            return readings.sort((x, y) => y.celsius - x.celsius).map((reading) => reading.city);
          `,
        },
      });
      expect(result.isError).toBeFalsy();
      expect(JSON.parse(textOf(result))).toEqual({ ok: true, value: ['Rome', 'Lima', 'Oslo'] });
    });
  }

  it('refuses requests for a host not on the allowlist, against DNS rebinding', async () => {
    const harness = await createTestHarness();
    harnesses.push(harness);
    const refusing = await listen(harness, false, { allowedHostnames: ['harness.example'] });
    const response = await fetch(refusing, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/host/i);

    const accepting = await listen(harness, false, { allowedHostnames: ['127.0.0.1'] });
    const client = new Client({ name: 'code-mode-http-client', version: '1.0.0' });
    clients.push(client);
    await client.connect(new StreamableHTTPClientTransport(accepting));
    expect((await client.listTools()).tools).toHaveLength(3);
  });
});
