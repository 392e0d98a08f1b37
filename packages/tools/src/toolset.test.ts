import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredGroups, createToolset, ToolsetError, type ToolsetOptions } from './toolset.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'harness-toolset-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const WORKSPACE_DEFAULTS = { groups: { files: true, search: true, patch: true } };

async function names(options: Partial<ToolsetOptions> = {}): Promise<readonly string[]> {
  const toolset = await createToolset({ root, ...WORKSPACE_DEFAULTS, ...options });
  await toolset.close();
  return toolset.names;
}

describe('createToolset', () => {
  it('offers the groups the configuration switches on', async () => {
    expect(await names()).toEqual(['applyPatch', 'fileSearch', 'grep', 'listDir', 'readFile', 'writeFile']);
    const execOnly = { groups: { exec: true } };
    expect(configuredGroups(execOnly)).toEqual(['exec']);
    expect(await names(execOnly)).toEqual(['exec']);
  });

  it('takes groups and single tools by name instead', async () => {
    expect(await names({ requested: ['exec', 'readFile'] })).toEqual(['exec', 'readFile']);
    expect(await names({ requested: ['files', 'discovery'] })).toEqual([
      '$describe',
      '$search',
      'listDir',
      'readFile',
      'writeFile',
    ]);
  });

  it('refuses an unknown name, naming the closest known one', async () => {
    const refused = names({ requested: ['grepp'] });
    await expect(refused).rejects.toThrow(ToolsetError);
    await expect(refused).rejects.toMatchObject({
      kind: 'request',
      message: 'unknown tool: grepp (did you mean grep?)',
    });
  });

  it('leaves configured workspace groups out without a workspace, and refuses them asked for by name', async () => {
    expect(await names({ root: undefined, groups: { files: true, discovery: true } })).toEqual([
      '$describe',
      '$search',
    ]);
    await expect(names({ root: undefined, requested: ['readFile'] })).rejects.toMatchObject({
      kind: 'config',
      message: 'the files tools work in a workspace, and none is configured',
    });
  });

  it('needs the hosts of the http tool', async () => {
    await expect(names({ requested: ['http'] })).rejects.toMatchObject({ kind: 'config' });
    expect(await names({ requested: ['http'], http: { allowHosts: ['api.example.com'] } })).toEqual(['http']);
    expect(configuredGroups({ http: { allowHosts: ['api.example.com'] } })).toEqual(['http']);
  });

  it('reports an MCP server that cannot be started as a configuration problem', async () => {
    const mcpServers = { broken: { command: 'no-such-mcp-server-program' } };
    await expect(names({ requested: ['mcp'], mcpServers })).rejects.toMatchObject({
      kind: 'config',
      message: 'cannot connect to the configured MCP servers',
    });
  });
});
