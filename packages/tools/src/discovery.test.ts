import { type AnyTool, createHarness, defineTool, HarnessError, type ToolExecuteContext } from '@script-harness/core';
import { createQuickJSRuntime } from '@script-harness/runtime-quickjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDiscoveryTools, rankTools, tokenize } from './discovery.ts';
import { toolContext } from './testing/tool-test-support.ts';

function fixtureTool(name: string, description: string): AnyTool {
  return defineTool({
    name,
    description,
    input: z.strictObject({ path: z.string().describe('Where.') }),
    output: z.object({ ok: z.boolean() }),
    execute: () => ({ ok: true }),
  });
}

const FIXTURES: AnyTool[] = [
  fixtureTool('readFile', 'Reads a UTF-8 text file in the workspace and returns its content.'),
  fixtureTool('writeFile', 'Writes UTF-8 text to a file in the workspace, replacing it.'),
  fixtureTool('listDir', 'Lists the files and directories under a workspace directory.'),
  fixtureTool('http', 'Makes an HTTP(S) request to an allowed host and returns the status, headers and body.'),
  fixtureTool('spawn.call', 'Starts a tool call as a detached task and returns its id.'),
  fixtureTool('mcp.github.createIssue', 'Opens a new issue in a GitHub repository.'),
  fixtureTool('sendEmail', 'Sends a message to one recipient by mail.'),
];

const context = (overrides: Partial<ToolExecuteContext> = {}) => toolContext('discovery-test', overrides);

function names(query: string): string[] {
  return rankTools(FIXTURES, query).map((tool) => tool.name);
}

describe('discovery tools', () => {
  it('F34b: tools.$search and tools.$describe return names and declarations on demand', async () => {
    let all: AnyTool[] = [];
    all = [...FIXTURES, ...createDiscoveryTools(() => all)];
    const harness = createHarness({ runtime: await createQuickJSRuntime({ mode: 'inline' }), tools: all });
    try {
      const result = await harness.run(`
        const found = await tools.$search({ query: 'read a file', limit: 3 });
        const described = await tools.$describe({ name: found.tools[0].name });
        return { names: found.tools.map((tool) => tool.name), described };
      `);
      expect(result.error).toBeUndefined();
      const value = result.value as { names: string[]; described: { name: string; declaration: string } };
      expect(value.names[0]).toBe('readFile');
      expect(value.names.length).toBeLessThanOrEqual(3);
      expect(value.described.name).toBe('readFile');
      expect(value.described.declaration).toContain('readFile(args: {');
      expect(value.described.declaration).toContain('path: string;');
      expect(value.described.declaration).toContain('Promise<{');
      expect(value.described.declaration).not.toContain('writeFile');
    } finally {
      await harness.close();
    }
  });

  it('ranks by name first, then description, and leaves out tools that match nothing', () => {
    expect(names('http request')[0]).toBe('http');
    expect(names('github issue')[0]).toBe('mcp.github.createIssue');
    expect(names('createIssue')[0]).toBe('mcp.github.createIssue');
    expect(names('email')[0]).toBe('sendEmail');
    expect(names('mail')).toContain('sendEmail');
    expect(names('detached task')[0]).toBe('spawn.call');
    expect(names('directory')[0]).toBe('listDir');
    expect(names('spawn.call')[0]).toBe('spawn.call');
    expect(names('tools.http')[0]).toBe('http');
    expect(names('kubernetes')).toEqual([]);
  });

  it('tolerates typos and prefixes', () => {
    expect(names('raedFile')[0]).toBe('readFile');
    expect(names('wirte file')[0]).toBe('writeFile');
    expect(names('direc')[0]).toBe('listDir');
  });

  it('splits camelCase, dotted and punctuated names into words, without stop words', () => {
    expect(tokenize('mcp.github.createIssue')).toEqual(['mcp', 'github', 'create', 'issue']);
    expect(tokenize('parseHTTPResponse')).toEqual(['parse', 'http', 'response']);
    expect(tokenize('Read the file, then list it')).toEqual(['read', 'file', 'then', 'list']);
  });

  it('$search never lists the discovery tools, honours the limit, and sees tools added later', async () => {
    const current: AnyTool[] = [...FIXTURES];
    const [search] = createDiscoveryTools(() => [...current, ...discovery]);
    const discovery = createDiscoveryTools(() => current);
    const searchTool = search as AnyTool;
    const run = async (args: unknown) => searchTool.execute(searchTool.input.parse(args), context());
    expect(await run({ query: 'search describe tools' })).toEqual({ tools: [] });
    expect((await run({ query: 'file', limit: 2 })).tools).toHaveLength(2);
    current.push(fixtureTool('db.query', 'Runs a read-only SQL query against the reporting database.'));
    expect((await run({ query: 'sql' })).tools).toEqual([
      { name: 'db.query', description: 'Runs a read-only SQL query against the reporting database.' },
    ]);
  });

  it('$search shortens long descriptions and stays within the tool-result limit', async () => {
    const many = Array.from({ length: 40 }, (_, index) =>
      fixtureTool(`report${index}`, `Builds report number ${index}. ${'Lots of detail. '.repeat(40)}`),
    );
    const [search] = createDiscoveryTools(() => many);
    const searchTool = search as AnyTool;
    const result = (await searchTool.execute(
      searchTool.input.parse({ query: 'report', limit: 50 }),
      context({ maxOutputBytes: 2048 }),
    )) as { tools: { description: string }[] };
    expect(result.tools.length).toBeGreaterThan(0);
    expect(result.tools.length).toBeLessThan(40);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(2048);
    for (const tool of result.tools) expect(tool.description.length).toBeLessThanOrEqual(200);
  });

  it('$describe accepts a tools. prefix and suggests names for an unknown tool', async () => {
    const [, describeTool] = createDiscoveryTools(() => FIXTURES) as [AnyTool, AnyTool];
    const run = async (args: unknown) => describeTool.execute(describeTool.input.parse(args), context());
    expect(await run({ name: 'tools.spawn.call' })).toMatchObject({
      name: 'spawn.call',
      description: 'Starts a tool call as a detached task and returns its id.',
      declaration: expect.stringContaining('spawn: {'),
    });
    const error = await run({ name: 'readFiel' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(HarnessError);
    expect(error).toMatchObject({
      code: 'TOOL_ERROR',
      message: 'tools.readFiel does not exist; did you mean tools.readFile?',
      details: { suggestions: ['readFile'] },
    });
  });
});
