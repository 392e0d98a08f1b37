import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCliConfig } from './config-file.ts';
import { ConfigurationError } from './exit-codes.ts';
import { type TemporaryDirectory, temporaryDirectory } from './test-support.ts';

let directory: TemporaryDirectory;

beforeAll(async () => {
  directory = await temporaryDirectory('config');
});

afterAll(async () => {
  await directory.remove();
});

async function load(content: string): Promise<ReturnType<typeof loadCliConfig>> {
  await writeFile(join(directory.path, 'config.json'), content);
  return loadCliConfig('config.json', directory.path);
}

describe('loadCliConfig', () => {
  it('fills the defaults and keeps what the file says', async () => {
    const config = await load(
      JSON.stringify({
        limits: { timeoutMs: 5000 },
        tools: { exec: true },
        approvals: { mode: 'allow' },
        mcpServers: { files: { command: 'node', args: ['server.js'] }, remote: { url: 'https://mcp.example.com/mcp' } },
        policy: { rules: [{ tool: 'exec', decision: 'deny' }] },
      }),
    );
    expect(config.limits.timeoutMs).toBe(5000);
    expect(config.tools).toEqual({ files: true, spawn: true, search: true, patch: true, exec: true, discovery: false });
    expect(config.approvals.mode).toBe('allow');
    expect(Object.keys(config.mcpServers)).toEqual(['files', 'remote']);
    expect(config.policy.rules).toHaveLength(1);
    expect(config.mode).toBe('enabled');
  });

  it('reports every problem with its field', async () => {
    const error = await load(
      JSON.stringify({
        http: { allowHosts: [] },
        mcpServers: { 'bad name': { command: 'x' } },
        policy: { rules: [{ tool: 'x' }] },
      }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.join('\n');
    expect(problems).toContain('http.allowHosts');
    expect(problems).toContain('mcpServers');
    expect(problems).toContain('policy.rules.0.decision');
  });

  it('refuses a file that is not JSON, or not there', async () => {
    await expect(load('{ not json')).rejects.toThrow(/is not valid JSON/);
    await expect(loadCliConfig('missing.json', directory.path)).rejects.toThrow(/there is no such file/);
  });
});
