import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TENANT_KEYS, type TestServer } from './test-support.ts';

describe('/mcp: code mode over streamable HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const connect = async (key: string | undefined) => {
    const client = new Client({ name: 'server-mcp-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    return client;
  };

  it('I13: an MCP client lists the code-mode tools and runs a script that calls the server’s tools', async () => {
    const client = await connect(TENANT_KEYS.alpha);
    try {
      const listed = await client.listTools();
      expect(listed.tools.map((tool) => tool.name).sort()).toEqual(['describe_tool', 'run_script', 'search_tools']);
      const result = await client.callTool({
        name: 'run_script',
        arguments: {
          code: 'const [a, b] = await Promise.all([tools.echo({ text: "x" }), tools.echo({ text: "y" })]); return a.text + b.text;',
        },
      });
      expect(result.isError ?? false).toBe(false);
      expect(JSON.stringify(result.content)).toContain('xy');
    } finally {
      await client.close();
    }
  });

  it('refuses a client without an API key', async () => {
    await expect(connect(undefined)).rejects.toThrow(/UNAUTHORIZED/);
  });
});
