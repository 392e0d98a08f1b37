/**
 * `harness mcp` as a real MCP client starts it: a child process speaking MCP over stdio, offering
 * run_script over the workspace tools and the tools of an MCP server from the config file, with
 * `--approve deny` refusing what the policy asks about. Closing the client ends the process.
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, type TemporaryDirectory, temporaryDirectory } from './test-support.ts';

// The fixture MCP server lives beside the tools package's sources, which the package resolves to.
const FIXTURE_SERVER = join(
  dirname(createRequire(import.meta.url).resolve('@script-harness/tools')),
  'testing',
  'mcp-fixture-server.ts',
);

let workspace: TemporaryDirectory;

beforeAll(async () => {
  workspace = await temporaryDirectory('mcp');
  await writeFile(join(workspace.path, 'notes.txt'), 'from the workspace');
  await writeFile(
    join(workspace.path, 'harness.json'),
    JSON.stringify({ mcpServers: { fixture: { command: process.execPath, args: [FIXTURE_SERVER] } } }),
  );
});

afterAll(async () => {
  await workspace.remove();
});

function textOf(result: { content?: unknown }): string {
  const first = (result.content as { type: string; text?: string }[] | undefined)?.[0];
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

describe('harness mcp', () => {
  it('serves run_script over stdio to an MCP client, with workspace and MCP tools, until the client leaves', async () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith('HARNESS_')) env[name] = value;
    }
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        BIN,
        'mcp',
        '--workspace',
        workspace.path,
        '--config',
        join(workspace.path, 'harness.json'),
        '--tools',
        'files,mcp',
        '--approve',
        'deny',
      ],
      env,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'harness-mcp-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      const pid = transport.pid;
      expect(pid).toBeTypeOf('number');

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['describe_tool', 'run_script', 'search_tools']);
      const description = tools.find((tool) => tool.name === 'run_script')?.description ?? '';
      expect(description).toContain('readFile');
      expect(description).toContain('fixture');

      const result = await client.callTool({
        name: 'run_script',
        arguments: {
          code: `
            const notes = await tools.readFile({ path: 'notes.txt' });
            const sum = await tools.mcp.fixture.add({ a: 20, b: 22 });
            let write;
            try { await tools.writeFile({ path: 'out.txt', content: 'x' }); write = 'written'; }
            catch (error) { write = error.code; }
            return { notes: notes.content, sum: Number(sum.content[0].text), write };
          `,
        },
      });
      expect(result.isError, textOf(result)).toBeFalsy();
      const output = JSON.parse(textOf(result)) as { ok: boolean; value: unknown };
      expect(output).toMatchObject({
        ok: true,
        value: { notes: 'from the workspace', sum: 42, write: 'APPROVAL_DENIED' },
      });
      expect(stderr).toMatch(/harness mcp: serving run_script over \d+ tools on stdio/);

      await client.close();
      await vi.waitFor(() => expect(isRunning(pid as number)).toBe(false), { timeout: 10_000 });
    } finally {
      await client.close();
    }
  }, 60_000);
});
