/**
 * A real MCP server for the MCP tool tests. Run as a program (`node mcp-fixture-server.ts`) it
 * serves stdio, and nothing may go to stdout except protocol messages; imported, it offers
 * `createFixtureServer` for other transports. It keeps its own tally of the calls it served, so a
 * test can prove that a call refused by the host never reached it, and that a cancelled call was
 * seen as cancelled here.
 */
import { writeFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const served: Record<string, number> = {};
let cancelled = 0;

function count(tool: string): void {
  served[tool] = (served[tool] ?? 0) + 1;
}

function text(value: string): { content: { type: 'text'; text: string }[] } {
  return { content: [{ type: 'text', text: value }] };
}

/** A server with the fixture tools; all servers of one process share the tally. */
export function createFixtureServer(): McpServer {
  const server = new McpServer({ name: 'script-harness-fixture', version: '1.0.0' });
  registerTools(server);
  return server;
}

function registerTools(server: McpServer): void {
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
    },
    ({ a, b }) => {
      count('add');
      return text(String(a + b));
    },
  );

  const UpperOutput = z.object({ text: z.string(), length: z.number().int() });
  server.registerTool(
    'upper',
    {
      description: 'Upper-cases a text.',
      inputSchema: z.object({ text: z.string() }),
      outputSchema: UpperOutput,
    },
    ({ text: input }) => {
      count('upper');
      const structured = { text: input.toUpperCase(), length: input.length };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );

  server.registerTool(
    'slow',
    {
      description: 'Waits for the given milliseconds, or until the call is cancelled.',
      inputSchema: z.object({ ms: z.number().int().nonnegative() }),
    },
    async ({ ms }, ctx) => {
      count('slow');
      const signal = ctx.mcpReq.signal;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener(
          'abort',
          () => {
            cancelled++;
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      return text(signal.aborted ? 'cancelled' : `waited ${ms} ms`);
    },
  );

  server.registerTool(
    'fail',
    {
      description: 'Reports a tool error with the given message.',
      inputSchema: z.object({ message: z.string() }),
    },
    ({ message }) => {
      count('fail');
      return { content: [{ type: 'text', text: message }], isError: true };
    },
  );

  server.registerTool(
    'create-issue',
    {
      description: 'Pretends to create an issue; its name is not a JavaScript identifier.',
      inputSchema: z.object({ title: z.string().min(1) }),
    },
    ({ title }) => {
      count('create-issue');
      return text(`created issue "${title}"`);
    },
  );

  server.registerTool(
    'env',
    {
      description: 'Returns the value of an environment variable of this server process, or null.',
      inputSchema: z.object({ name: z.string() }),
      outputSchema: z.object({ value: z.string().nullable() }),
    },
    ({ name }) => {
      count('env');
      const structured = { value: process.env[name] ?? null };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );

  server.registerTool(
    'media',
    {
      description: 'Returns one content block of each kind: text, image, embedded resource and resource link.',
      inputSchema: z.object({}),
    },
    () => {
      count('media');
      return {
        content: [
          { type: 'text', text: 'a picture and a file' },
          { type: 'image', mimeType: 'image/png', data: Buffer.from('not really a png').toString('base64') },
          { type: 'resource', resource: { uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'the notes' } },
          {
            type: 'resource',
            resource: { uri: 'file:///logo.bin', mimeType: 'application/octet-stream', blob: 'AAECAw==' },
          },
          { type: 'resource_link', uri: 'file:///big.csv', name: 'big.csv', mimeType: 'text/csv' },
        ],
      };
    },
  );

  server.registerTool(
    'calls',
    {
      description: 'How many calls of each tool this server served, and how many calls were cancelled.',
      inputSchema: z.object({}),
      outputSchema: z.object({ served: z.record(z.string(), z.number()), cancelled: z.number() }),
    },
    () => {
      const structured = { served: { ...served }, cancelled };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );

  server.registerTool(
    'pid',
    {
      description: 'The process id of this server.',
      inputSchema: z.object({}),
      outputSchema: z.object({ pid: z.number().int() }),
    },
    () => {
      const structured = { pid: process.pid };
      return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
    },
  );
}

if (import.meta.main) {
  // Lets a test find this process even when the connection to it never completes.
  const pidFile = process.env.FIXTURE_PID_FILE;
  if (pidFile !== undefined) writeFileSync(pidFile, String(process.pid));
  await createFixtureServer().connect(new StdioServerTransport());
}
