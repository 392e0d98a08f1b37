import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliConfig, cliConfigSchema } from './config-file.ts';
import { ConfigurationError } from './exit-codes.ts';
import { UsageError } from './options.ts';
import { type TemporaryDirectory, temporaryDirectory } from './test-support.ts';
import { createToolset } from './toolset.ts';

let workspace: TemporaryDirectory;

beforeAll(async () => {
  workspace = await temporaryDirectory('toolset');
});

afterAll(async () => {
  await workspace.remove();
});

async function config(value: unknown): Promise<CliConfig> {
  return (await cliConfigSchema()).parse(value);
}

async function names(requested: readonly string[] | undefined, configured?: CliConfig): Promise<readonly string[]> {
  const toolset = await createToolset({ workspace: workspace.path, config: configured, requested });
  await toolset.close();
  return toolset.names;
}

describe('createToolset', () => {
  it('offers files, search and patch by default, with or without a config file', async () => {
    const defaults = ['applyPatch', 'fileSearch', 'grep', 'listDir', 'readFile', 'writeFile'];
    expect(await names(undefined)).toEqual(defaults);
    expect(await names(undefined, await config({}))).toEqual(defaults);
  });

  it('--tools wins over the config file, whose tools.select wins over its groups', async () => {
    const configured = await config({ tools: { files: false, search: false, patch: false, exec: true } });
    expect(await names(undefined, configured)).toEqual(['exec']);
    const selected = await config({ tools: { select: ['readFile'] } });
    expect(await names(undefined, selected)).toEqual(['readFile']);
    expect(await names(['grep'], selected)).toEqual(['grep']);
  });

  it('an unknown name is a usage error naming where it came from and the closest known name', async () => {
    await expect(names(['grepp'])).rejects.toThrow(UsageError);
    await expect(names(['grepp'])).rejects.toThrow(/^--tools: unknown tool: grepp \(did you mean grep\?\)/);
    await expect(names(undefined, await config({ tools: { select: ['grepp'] } }))).rejects.toThrow(/^tools\.select: /);
  });

  it('what the config file lacks is a configuration error', async () => {
    await expect(names(['http'])).rejects.toThrow(ConfigurationError);
    const configured = await config({ http: { allowHosts: ['api.example.com'] } });
    expect(await names(['http'], configured)).toEqual(['http']);
    const broken = await config({ mcpServers: { broken: { command: 'no-such-mcp-server-program' } } });
    await expect(names(['mcp'], broken)).rejects.toThrow(/cannot connect to the configured MCP servers/);
  });
});
