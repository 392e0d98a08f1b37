import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestNames, createToolRegistry, defineTool } from './tool.ts';

const tool = (name: string) => defineTool({ name, description: name, input: z.object({}), execute: () => null });

describe('tools', () => {
  it('refuses unsafe or malformed names', () => {
    for (const name of ['', '1a', 'a..b', '__proto__', 'a.constructor', 'then', 'a-b'])
      expect(() => tool(name), name).toThrow();
    expect(tool('mcp.files.read').name).toBe('mcp.files.read');
  });

  it('refuses duplicates and a name that is also a namespace', () => {
    expect(() => createToolRegistry([tool('a'), tool('a')])).toThrow(/duplicate/);
    expect(() => createToolRegistry([tool('a'), tool('a.b')])).toThrow(/namespace/);
  });

  it('F28: suggests the closest names', () => {
    const names = ['readFile', 'writeFile', 'listDir', 'mcp.github.createIssue'];
    expect(closestNames('readfile', names)[0]).toBe('readFile');
    expect(closestNames('read_file', names)[0]).toBe('readFile');
    expect(closestNames('createIssue', names)).toContain('mcp.github.createIssue');
    expect(closestNames('zzzzzz', names)).toEqual([]);
  });
});
