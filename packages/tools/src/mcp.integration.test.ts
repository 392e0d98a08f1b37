/**
 * MCP tools driven by real scripts: a real MCP server (testing/mcp-fixture-server.ts) runs as a
 * child process over stdio, and one runs in this process behind streamable HTTP on 127.0.0.1.
 * Scripts run in QuickJS through the harness.
 */
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { createHarness, generateDeclarations, type Harness, type LimitsInput } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectMcpServers, type McpConnection, type McpConnectOptions, type McpServerConfig } from './mcp.ts';
import { createFixtureServer } from './testing/mcp-fixture-server.ts';

const FIXTURE_SERVER = fileURLToPath(new URL('./testing/mcp-fixture-server.ts', import.meta.url));
const CANARY = 'SCRIPT_HARNESS_MCP_CANARY';

const connections: McpConnection[] = [];
const harnesses: Harness[] = [];
const httpServers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((harness) => harness.close()));
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(
    httpServers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  delete process.env[CANARY];
});

function fixtureConfig(extra: Partial<{ env: Record<string, string> }> = {}): McpServerConfig {
  return { command: process.execPath, args: [FIXTURE_SERVER], ...extra };
}

async function connect(
  config: Record<string, McpServerConfig> = { fixture: fixtureConfig() },
  options?: McpConnectOptions,
): Promise<McpConnection> {
  const connection = await connectMcpServers(config, options);
  connections.push(connection);
  return connection;
}

async function harnessFor(connection: McpConnection, limits?: LimitsInput): Promise<Harness> {
  const harness = createHarness({
    runtime: await createQuickJSRuntime({ mode: 'inline' }),
    tools: connection.tools,
    ...(limits === undefined ? {} : { limits }),
  });
  harnesses.push(harness);
  return harness;
}

interface ServerTally {
  served: Record<string, number>;
  cancelled: number;
}

/** The fixture's own count of the calls it served, asked for by a script. */
async function tally(harness: Harness): Promise<ServerTally> {
  const result = await harness.run('return await tools.mcp.fixture.calls();');
  expect(result.error).toBeUndefined();
  return result.value as ServerTally;
}

describe('MCP tools over stdio', () => {
  it('F15: an MCP server’s tool is callable as tools.mcp.<server>.<tool>', async () => {
    const connection = await connect();
    const harness = await harnessFor(connection);
    const result = await harness.run(`
      const [sum, shout] = await Promise.all([
        tools.mcp.fixture.add({ a: 2, b: 3 }),
        tools.mcp.fixture.upper({ text: 'quiet' }),
      ]);
      return { sum, shout };
    `);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.value).toEqual({
      // No output schema: the content blocks.
      sum: { content: [{ type: 'text', text: '5' }], truncated: false },
      // An output schema: the structured content.
      shout: { text: 'QUIET', length: 5 },
    });
    expect(result.calls.map((call) => `${call.tool}:${call.status}`).sort()).toEqual([
      'mcp.fixture.add:ok',
      'mcp.fixture.upper:ok',
    ]);
    expect(connection.servers).toEqual(['fixture']);
  });

  it('validates arguments host-side: bad ones fail with TOOL_VALIDATION and never reach the server', async () => {
    const harness = await harnessFor(await connect());
    const result = await harness.run(`
      const attempts = [
        () => tools.mcp.fixture.add({ a: 1, b: 'two' }),
        () => tools.mcp.fixture.add({ a: 1 }),
        () => tools.mcp.fixture.add({ a: 1, b: 2, c: 3 }),
        () => tools.mcp.fixture.create_issue({ title: '' }),
      ];
      const failures = [];
      for (const attempt of attempts) {
        try {
          await attempt();
          failures.push('no error');
        } catch (error) {
          failures.push({ code: error.code, path: error.details.path, message: error.message });
        }
      }
      return { failures, tally: await tools.mcp.fixture.calls() };
    `);
    expect(result.error).toBeUndefined();
    const { failures, tally: served } = result.value as {
      failures: { code: string; path: string[]; message: string }[];
      tally: ServerTally;
    };
    expect(failures.map(({ code, path }) => ({ code, path }))).toEqual([
      { code: 'TOOL_VALIDATION', path: ['b'] },
      { code: 'TOOL_VALIDATION', path: ['b'] },
      { code: 'TOOL_VALIDATION', path: [] },
      { code: 'TOOL_VALIDATION', path: ['title'] },
    ]);
    expect(failures[2]?.message).toContain('"c"');
    expect(served.served).toEqual({});
  });

  it('turns an isError result into a ToolError with code TOOL_ERROR that the script can catch', async () => {
    const harness = await harnessFor(await connect());
    const result = await harness.run(`
      try {
        await tools.mcp.fixture.fail({ message: 'disk full while writing /srv/data/cache/blob.bin' });
        return 'no error';
      } catch (error) {
        return { isToolError: error instanceof ToolError, code: error.code, message: error.message, details: error.details };
      }
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      isToolError: true,
      code: 'TOOL_ERROR',
      // Host paths in a server's message do not reach the script.
      message: 'disk full while writing <path>',
      details: { server: 'fixture', tool: 'fail' },
    });
  });

  it('cancels a call the script left running when it ended (DETACHED)', async () => {
    const connection = await connect();
    const harness = await harnessFor(connection);
    // The awaited call is sent after the slow one, so the server has started the slow one when the script ends.
    const result = await harness.run(`
      tools.mcp.fixture.slow({ ms: 20000 });
      await tools.mcp.fixture.add({ a: 1, b: 1 });
      return 'ended';
    `);
    expect(result.ok).toBe(true);
    expect(result.value).toBe('ended');
    expect(result.warnings.map((warning) => warning.code)).toEqual(['DETACHED_PROMISE']);
    expect(result.calls.map((call) => `${call.tool}:${call.status}`)).toEqual([
      'mcp.fixture.slow:aborted',
      'mcp.fixture.add:ok',
    ]);
    await vi.waitFor(async () => expect((await tally(harness)).cancelled).toBe(1), { timeout: 5000 });
    expect((await tally(harness)).served).toEqual({ slow: 1, add: 1 });
  });

  it('cancels a call still running when the script times out', async () => {
    const harness = await harnessFor(await connect(), { timeoutMs: 1500 });
    const result = await harness.run('return await tools.mcp.fixture.slow({ ms: 20000 });');
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('TIMEOUT');
    await vi.waitFor(async () => expect((await tally(harness)).cancelled).toBe(1), { timeout: 5000 });
  });

  it('cancels a call that takes longer than timeoutMs and reports it as TOOL_ERROR', async () => {
    const harness = await harnessFor(await connect(undefined, { timeoutMs: 300 }));
    const result = await harness.run(`
      try {
        await tools.mcp.fixture.slow({ ms: 20000 });
        return 'no error';
      } catch (error) {
        return { code: error.code, message: error.message };
      }
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      code: 'TOOL_ERROR',
      message: 'tools.mcp.fixture.slow did not answer within 300 ms; the call was cancelled',
    });
    await vi.waitFor(async () => expect((await tally(harness)).cancelled).toBe(1), { timeout: 5000 });
  });

  it('maps a tool name that is not an identifier and calls the server by its real name', async () => {
    const connection = await connect();
    const harness = await harnessFor(connection);
    const result = await harness.run("return await tools.mcp.fixture.create_issue({ title: 'Broken build' });");
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      content: [{ type: 'text', text: 'created issue "Broken build"' }],
      truncated: false,
    });
    expect(connection.origins.get('mcp.fixture.create_issue')).toEqual({ server: 'fixture', tool: 'create-issue' });
    expect(connection.origins.get('mcp.fixture.add')).toEqual({ server: 'fixture', tool: 'add' });
    expect(connection.tools.map((tool) => tool.name)).not.toContain('mcp.fixture.create-issue');
    expect((await tally(harness)).served).toEqual({ 'create-issue': 1 });
  });

  it('includes the MCP tools in the generated declarations', async () => {
    const connection = await connect();
    const declarations = generateDeclarations(connection.tools);
    expect(declarations).toMatch(/declare const tools: \{\n {2}mcp: \{\n {4}fixture: \{\n/);
    expect(declarations).toContain('add(args: { a: number; b: number }): Promise<');
    expect(declarations).toContain('upper(args: { text: string }): Promise<{ text: string; length: number }>;');
    expect(declarations).toContain('env(args: { name: string }): Promise<{ value: string | null }>;');
    expect(declarations).toContain('create_issue(args: { title: string }): Promise<');
    expect(declarations).toContain('(MCP name "create-issue")');
    // Tools without arguments may be called without any.
    expect(declarations).toMatch(/\bpid\(args\?: \{\}\): Promise<\{ pid: number \}>;/);
    // Content results are declared too, their block type once.
    expect(declarations).toContain('type McpContent = { type: "text"; text: string } | {');
    expect(declarations).toMatch(/add\(args: \{ a: number; b: number \}\): Promise<\{\n\s+content: McpContent\[\];/);
  });

  it('starts the server with PATH and the configured variables only, not the host environment', async () => {
    process.env[CANARY] = 'host secret';
    const connection = await connect({ fixture: fixtureConfig({ env: { FIXTURE_GREETING: 'hello' } }) });
    const harness = await harnessFor(connection);
    const result = await harness.run(`
      const names = ['${CANARY}', 'FIXTURE_GREETING', 'PATH', 'HOME', 'USER'];
      const values = await Promise.all(names.map((name) => tools.mcp.fixture.env({ name })));
      return Object.fromEntries(names.map((name, index) => [name, values[index].value]));
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      [CANARY]: null,
      FIXTURE_GREETING: 'hello',
      PATH: process.env.PATH,
      HOME: null,
      USER: null,
    });
  });

  it('passes content blocks on as plain data, describing binary payloads without them', async () => {
    const harness = await harnessFor(await connect());
    const result = await harness.run('return await tools.mcp.fixture.media();');
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({
      content: [
        { type: 'text', text: 'a picture and a file' },
        { type: 'image', mimeType: 'image/png', bytes: 16 },
        { type: 'resource', uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'the notes' },
        { type: 'resource', uri: 'file:///logo.bin', mimeType: 'application/octet-stream', bytes: 4 },
        { type: 'resource_link', uri: 'file:///big.csv', name: 'big.csv', mimeType: 'text/csv' },
      ],
      truncated: false,
    });
  });

  it('refuses a structured result larger than maxOutputBytes with OUTPUT_LIMIT', async () => {
    const harness = await harnessFor(await connect(undefined, { maxOutputBytes: 20 }));
    const result = await harness.run(`
      try {
        await tools.mcp.fixture.upper({ text: 'a text that is longer than twenty bytes' });
        return 'no error';
      } catch (error) {
        return { code: error.code, message: error.message };
      }
    `);
    expect(result.value).toEqual({
      code: 'OUTPUT_LIMIT',
      message: 'the result of tools.mcp.fixture.upper is larger than 20 bytes',
    });
  });

  it('close() stops the server process; later calls fail with TOOL_ERROR', async () => {
    const connection = await connect();
    const harness = await harnessFor(connection);
    const started = await harness.run('return await tools.mcp.fixture.pid();');
    const { pid } = started.value as { pid: number };
    expect(isRunning(pid)).toBe(true);

    await connection.close();
    await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 5000 });
    await connection.close();

    const after = await harness.run(`
      try {
        await tools.mcp.fixture.add({ a: 1, b: 1 });
        return 'no error';
      } catch (error) {
        return { code: error.code, message: error.message };
      }
    `);
    expect(after.value).toEqual({ code: 'TOOL_ERROR', message: 'MCP server "fixture" is not connected' });
  });

  it('closes the connection at the end of an `await using` block', async () => {
    let pid: number;
    {
      await using connection = await connectMcpServers({ fixture: fixtureConfig() });
      const harness = await harnessFor(connection);
      pid = ((await harness.run('return await tools.mcp.fixture.pid();')).value as { pid: number }).pid;
      expect(isRunning(pid)).toBe(true);
    }
    await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 5000 });
  });

  it('reports a server that went away as not connected', async () => {
    const harness = await harnessFor(await connect());
    const started = await harness.run('return await tools.mcp.fixture.pid();');
    const { pid } = started.value as { pid: number };
    process.kill(pid, 'SIGKILL');
    await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 5000 });
    const after = await harness.run(`
      try {
        await tools.mcp.fixture.add({ a: 1, b: 1 });
        return 'no error';
      } catch (error) {
        return { code: error.code, message: error.message };
      }
    `);
    expect(after.value).toEqual({ code: 'TOOL_ERROR', message: 'MCP server "fixture" is not connected' });
  });

  it('connects several servers, each under its own namespace', async () => {
    const connection = await connect({ left: fixtureConfig(), right: fixtureConfig() });
    const harness = await harnessFor(connection);
    const result = await harness.run(`
      const [left, right] = await Promise.all([tools.mcp.left.pid(), tools.mcp.right.pid()]);
      return left.pid !== right.pid;
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toBe(true);
    expect(connection.servers).toEqual(['left', 'right']);
  });

  it('closes the servers that started when another one fails to connect', async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'script-harness-mcp-'));
    const pidFile = path.join(directory, 'fixture.pid');
    try {
      const failing = connectMcpServers({
        fixture: fixtureConfig({ env: { FIXTURE_PID_FILE: pidFile } }),
        broken: {
          command: process.execPath,
          args: ['--eval', 'process.stderr.write("no such server\\n"); process.exit(3)'],
        },
      });
      await expect(failing).rejects.toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/^MCP server "broken" did not connect: .*its stderr ended with: no such server/),
      });
      const pid = Number(await fs.readFile(pidFile, 'utf8'));
      await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 5000 });
    } finally {
      await fs.rm(directory, { recursive: true, force: true });
    }
  });
});

describe('MCP tools over streamable HTTP', () => {
  it('calls the tools of a server on 127.0.0.1, sending the configured headers', async () => {
    const seenHeaders: string[] = [];
    const handler = createMcpHandler(() => createFixtureServer());
    const server = http.createServer((request, response) => {
      seenHeaders.push(String(request.headers['x-fixture-token']));
      serveWithFetchHandler(request, response, handler.fetch).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
    httpServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const connection = await connect({
      remote: { url: `http://127.0.0.1:${port}/mcp`, headers: { 'x-fixture-token': 'token-1' } },
    });
    const harness = await harnessFor(connection);
    const result = await harness.run(`
      const [sum, shout] = await Promise.all([
        tools.mcp.remote.add({ a: 40, b: 2 }),
        tools.mcp.remote.upper({ text: 'over http' }),
      ]);
      return { sum: sum.content[0].text, shout: shout.text };
    `);
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual({ sum: '42', shout: 'OVER HTTP' });
    expect(seenHeaders.length).toBeGreaterThan(0);
    expect(new Set(seenHeaders)).toEqual(new Set(['token-1']));
    await handler.close();
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Serves one node:http request with a web-standard fetch handler. */
async function serveWithFetchHandler(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  fetchHandler: (request: Request) => Promise<Response>,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const webRequest = new Request(`http://${request.headers.host ?? '127.0.0.1'}${request.url ?? '/'}`, {
    method: request.method ?? 'GET',
    headers,
    ...(hasBody ? { body: Readable.toWeb(request) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  });
  const webResponse = await fetchHandler(webRequest);
  response.statusCode = webResponse.status;
  webResponse.headers.forEach((value, name) => {
    response.setHeader(name, value);
  });
  if (webResponse.body === null) {
    response.end();
    return;
  }
  for await (const chunk of webResponse.body) response.write(chunk);
  response.end();
}
