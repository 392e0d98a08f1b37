import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliConfig, cliConfigSchema } from './config-file.ts';
import { ConfigurationError } from './exit-codes.ts';
import { UsageError } from './options.ts';
import { type TemporaryDirectory, temporaryDirectory } from './test-support.ts';
import { configuredGroups, createToolset } from './toolset.ts';

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
  it('offers files, search and patch by default', async () => {
    expect(await names(undefined)).toEqual(['applyPatch', 'fileSearch', 'grep', 'listDir', 'readFile', 'writeFile']);
  });

  it('--tools takes groups and single tools', async () => {
    expect(await names(['exec', 'readFile'])).toEqual(['exec', 'readFile']);
    expect(await names(['files', 'discovery'])).toEqual(['$describe', '$search', 'listDir', 'readFile', 'writeFile']);
  });

  it('the config file enables groups when --tools is not given', async () => {
    const configured = await config({ tools: { files: false, search: false, patch: false, exec: true } });
    expect(configuredGroups(configured)).toEqual(['exec']);
    expect(await names(undefined, configured)).toEqual(['exec']);
  });

  it('an unknown name is a usage error with the closest known name', async () => {
    await expect(names(['grepp'])).rejects.toThrow(UsageError);
    await expect(names(['grepp'])).rejects.toThrow(/grepp \(did you mean grep\?\)/);
  });

  it('http needs its allowed hosts from the config file', async () => {
    await expect(names(['http'])).rejects.toThrow(ConfigurationError);
    const configured = await config({ http: { allowHosts: ['api.example.com'] } });
    expect(await names(['http'], configured)).toEqual(['http']);
  });

  it('an MCP server that cannot be started is a configuration error', async () => {
    const configured = await config({ mcpServers: { broken: { command: 'no-such-mcp-server-program' } } });
    await expect(names(['mcp'], configured)).rejects.toThrow(/cannot connect to the MCP servers of the config file/);
  });
});
