/**
 * The parts of the MCP tools that need no server: tool names, argument schemas, result shaping
 * and configuration checks.
 */
import { defineTool, generateDeclarations, HarnessError } from '@script-harness/core';
import { describe, expect, it } from 'vitest';
import {
  assignToolIdentifiers,
  connectMcpServers,
  contentResult,
  inputSchemaFromJson,
  type McpServerConfig,
  outputSchemaFromJson,
} from './mcp.ts';

describe('assignToolIdentifiers', () => {
  it('keeps identifiers and maps other names to identifiers', () => {
    const names = ['add', 'create-issue', 'files/read.all', '2fa', 'then', '!!!', '$ref_ok'];
    expect([...assignToolIdentifiers(names)]).toEqual([
      ['add', 'add'],
      ['$ref_ok', '$ref_ok'],
      ['!!!', 'tool'],
      ['2fa', '_2fa'],
      ['create-issue', 'create_issue'],
      ['files/read.all', 'files_read_all'],
      // A reserved name would make tools.mcp.<server> look like a promise.
      ['then', 'then_'],
    ]);
  });

  it('resolves collisions with a suffix, independently of the listing order', () => {
    const names = ['create-issue', 'create_issue', 'create issue', 'create_issue_2'];
    const expected = {
      // Names that are identifiers keep them.
      create_issue: 'create_issue',
      create_issue_2: 'create_issue_2',
      // The others in code-unit order: ' ' sorts before '-'.
      'create issue': 'create_issue_3',
      'create-issue': 'create_issue_4',
    };
    expect(Object.fromEntries(assignToolIdentifiers(names))).toEqual(expected);
    expect(Object.fromEntries(assignToolIdentifiers([...names].reverse()))).toEqual(expected);
  });
});

describe('inputSchemaFromJson', () => {
  const addSchema = {
    type: 'object',
    properties: { a: { type: 'number' }, b: { type: 'number', description: 'Second addend.' } },
    required: ['a', 'b'],
  };

  it('converts a JSON Schema to zod, closing objects that say nothing about other keys', () => {
    const { schema, validation } = inputSchemaFromJson(addSchema);
    expect(validation).toBe('zod');
    expect(schema.safeParse({ a: 1, b: 2 }).success).toBe(true);
    expect(schema.safeParse({ a: 1, b: 'two' }).error?.issues.map((issue) => issue.path)).toEqual([['b']]);
    expect(schema.safeParse({ a: 1, b: 2, c: 3 }).error?.issues[0]?.code).toBe('unrecognized_keys');
    expect(schema.safeParse(undefined).success).toBe(false);
  });

  it('closes nested objects too, but keeps objects open that allow other keys or are composed', () => {
    const { schema } = inputSchemaFromJson({
      type: 'object',
      properties: {
        options: { type: 'object', properties: { verbose: { type: 'boolean' } } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        merged: { allOf: [{ properties: { x: { type: 'number' } } }, { properties: { y: { type: 'number' } } }] },
      },
    });
    expect(schema.safeParse({ options: { verbose: true, colour: 'red' } }).success).toBe(false);
    expect(schema.safeParse({ labels: { any: 'thing' } }).success).toBe(true);
    // Closing either member of the allOf would refuse this.
    expect(schema.safeParse({ merged: { x: 1, y: 2 } }).success).toBe(true);
  });

  it('makes the arguments optional when the schema requires no property', () => {
    const { schema } = inputSchemaFromJson({ type: 'object', properties: { verbose: { type: 'boolean' } } });
    expect(schema.safeParse(undefined).success).toBe(true);
    expect(schema.safeParse({ verbose: true }).success).toBe(true);
    expect(schema.safeParse({ verbose: 'yes' }).success).toBe(false);
  });

  it('falls back to the JSON Schema validator for schemas zod cannot convert', () => {
    const conditional = conditionalSchema({
      type: 'object',
      properties: { kind: { type: 'string' }, size: { type: 'number' } },
      required: ['kind'],
      if: { properties: { kind: { const: 'box' } } },
      thenClause: { required: ['size'] },
    });
    const { schema, validation } = inputSchemaFromJson(conditional);
    expect(validation).toBe('json-schema');
    expect(schema.safeParse({ kind: 'box', size: 3 }).success).toBe(true);
    expect(schema.safeParse({ kind: 'bag' }).success).toBe(true);
    const refused = schema.safeParse({ kind: 'box' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toContain('size');
    expect(schema.safeParse('not an object').success).toBe(false);
  });

  it('leaves validation to the server when neither zod nor the validator can use the schema', () => {
    const { schema, validation } = inputSchemaFromJson({
      type: 'object',
      properties: { item: { $ref: 'https://schemas.example/item.json' } },
      required: ['item'],
    });
    expect(validation).toBe('server');
    expect(schema.safeParse({ item: 'anything' }).success).toBe(true);
    expect(schema.safeParse(42).success).toBe(false);
  });

  it('gives declarations the argument types, or an object type for fallback schemas', () => {
    const tool = (name: string, jsonSchema: unknown) =>
      defineTool({ name, description: name, input: inputSchemaFromJson(jsonSchema).schema, execute: () => null });
    const declarations = generateDeclarations([
      tool('mcp.s.add', addSchema),
      tool(
        'mcp.s.conditional',
        conditionalSchema({ type: 'object', if: { required: ['a'] }, thenClause: { required: ['b'] } }),
      ),
    ]);
    expect(declarations).toContain('add(args: {\n');
    expect(declarations).toContain('a: number;');
    expect(declarations).toContain('/** Second addend. */');
    expect(declarations).toContain('conditional(args?: Record<string, unknown>): Promise<unknown>;');
  });
});

describe('outputSchemaFromJson', () => {
  it('converts an output schema as written, without closing it', () => {
    const schema = outputSchemaFromJson({ type: 'object', properties: { text: { type: 'string' } } });
    expect(schema?.safeParse({ text: 'a', extra: 1 }).success).toBe(true);
    expect(schema?.safeParse({ text: 1 }).success).toBe(false);
  });

  it('gives up on a schema zod cannot convert', () => {
    expect(outputSchemaFromJson({ type: 'object', not: { required: ['a'] } })).toBeUndefined();
  });
});

describe('contentResult', () => {
  it('maps content blocks to plain data without binary payloads', () => {
    const result = contentResult(
      {
        content: [
          { type: 'text', text: 'hello' },
          { type: 'audio', mimeType: 'audio/wav', data: Buffer.from('0123456789').toString('base64') },
          { type: 'resource', resource: { uri: 'mem://a', blob: Buffer.from('xyz').toString('base64') } },
          { type: 'resource_link', uri: 'mem://b', name: 'b', description: 'the b' },
        ],
        structuredContent: { count: 1 },
      },
      10_000,
    );
    expect(result).toEqual({
      content: [
        { type: 'text', text: 'hello' },
        { type: 'audio', mimeType: 'audio/wav', bytes: 10 },
        { type: 'resource', uri: 'mem://a', bytes: 3 },
        { type: 'resource_link', uri: 'mem://b', name: 'b', description: 'the b' },
      ],
      truncated: false,
      structuredContent: { count: 1 },
    });
  });

  it('cuts the text that does not fit and leaves out what follows, within the byte limit', () => {
    const limit = 200;
    const result = contentResult(
      {
        content: [
          { type: 'text', text: 'short' },
          { type: 'text', text: `${'é'.repeat(300)}"\n` },
          { type: 'text', text: 'never shown' },
        ],
        structuredContent: { left: 'out' },
      },
      limit,
    );
    expect(result.truncated).toBe(true);
    expect(result.content).toHaveLength(2);
    expect(result.content[0]).toEqual({ type: 'text', text: 'short' });
    const cut = result.content[1] as { type: 'text'; text: string };
    expect(cut.text.length).toBeGreaterThan(0);
    expect(cut.text).toBe('é'.repeat(cut.text.length));
    expect(result.structuredContent).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(limit);
  });

  it('does not split a surrogate pair when cutting', () => {
    const result = contentResult({ content: [{ type: 'text', text: '😀'.repeat(100) }] }, 150);
    const text = (result.content[0] as { text: string }).text;
    expect(text).toBe('😀'.repeat(text.length / 2));
  });
});

describe('connectMcpServers configuration', () => {
  const refused = async (config: Record<string, unknown>, message: RegExp) => {
    const attempt = connectMcpServers(config as Record<string, McpServerConfig>);
    await expect(attempt).rejects.toBeInstanceOf(HarnessError);
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(message) });
  };

  it('refuses server names that are not identifiers', async () => {
    await refused({ 'my-server': { command: 'node' } }, /invalid MCP server name "my-server".*identifier/);
    await refused({ '1st': { command: 'node' } }, /invalid MCP server name "1st"/);
    await refused({ constructor: { command: 'node' } }, /invalid MCP server name "constructor"/);
  });

  it('refuses configurations that are neither stdio nor HTTP, or both', async () => {
    await refused({ s: {} }, /^MCP server "s": give either command .* or url/);
    await refused({ s: { command: 'node', url: 'http://127.0.0.1:1/mcp' } }, /not both or neither/);
    await refused({ s: 'node' }, /must be an object/);
  });

  it('refuses malformed stdio and HTTP settings', async () => {
    await refused({ s: { command: '' } }, /^MCP server "s": command: /);
    await refused({ s: { command: 'node', args: 'server.js' } }, /^MCP server "s": args: /);
    await refused({ s: { command: 'node', env: { PORT: 8080 } } }, /^MCP server "s": env\.PORT: /);
    await refused({ s: { command: 'node', shell: true } }, /^MCP server "s": .*shell/);
    await refused({ s: { url: 'ftp://127.0.0.1/mcp' } }, /^MCP server "s": url: /);
    await refused({ s: { url: 'not a url' } }, /^MCP server "s": url: /);
  });

  it('refuses bad options', async () => {
    await expect(connectMcpServers({}, { timeoutMs: 0 })).rejects.toMatchObject({ message: /timeoutMs/ });
    await expect(connectMcpServers({}, { connectTimeoutMs: -1 })).rejects.toMatchObject({
      message: /connectTimeoutMs/,
    });
    await expect(connectMcpServers({}, { maxOutputBytes: 1.5 })).rejects.toMatchObject({ message: /maxOutputBytes/ });
    await expect(connectMcpServers({}, { clientName: ' ' })).rejects.toMatchObject({ message: /clientName/ });
  });

  it('reports a command that cannot be started', async () => {
    await expect(connectMcpServers({ missing: { command: 'script-harness-no-such-command' } })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/^MCP server "missing" did not connect: .*ENOENT/),
    });
  });

  it('reports an HTTP server that cannot be reached', async () => {
    // Port 1 on the loopback interface: nothing listens there.
    await expect(
      connectMcpServers({ remote: { url: 'http://127.0.0.1:1/mcp' } }, { connectTimeoutMs: 5000 }),
    ).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/^MCP server "remote" did not connect/),
    });
  });

  it('connects nothing for an empty configuration', async () => {
    const connection = await connectMcpServers({});
    expect(connection.tools).toEqual([]);
    expect(connection.servers).toEqual([]);
    await connection.close();
  });
});

/** A JSON Schema with `then`, written as `thenClause` here: an object literal with `then` looks like a promise. */
function conditionalSchema({ thenClause, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...Object.entries(rest), ['then', thenClause]]);
}
