import { describe, expect, it } from 'vitest';
import { describeCallingLines, findCallingLines } from './calling-lines.ts';

const SOURCE = [
  'const a = await tools.readFile({ path: "a" });',
  'await tools.writeFile({ path: "b", content: a.content });',
  'const other = tools.writeFileLater; // not a call of writeFile',
  'await tools.mcp.github.search_issues({ q: "x" });',
  'await tools?.writeFile({ path: "c", content: "" });',
  'await tools.$odd({});',
].join('\n');

describe('calling lines', () => {
  it('finds the lines that call a tool, namespaced tools, optional chaining and $ names included', () => {
    expect(findCallingLines(SOURCE, 'readFile')).toEqual([
      { line: 1, text: 'const a = await tools.readFile({ path: "a" });' },
    ]);
    expect(findCallingLines(SOURCE, 'writeFile').map((found) => found.line)).toEqual([2, 5]);
    expect(findCallingLines(SOURCE, 'mcp.github.search_issues').map((found) => found.line)).toEqual([4]);
    expect(findCallingLines(SOURCE, '$odd').map((found) => found.line)).toEqual([6]);
    expect(findCallingLines(SOURCE, 'listDir')).toEqual([]);
  });

  it('describes one line, or the first candidates when a tool is called from several', () => {
    expect(describeCallingLines(SOURCE, 'readFile')).toBe('line 1: const a = await tools.readFile({ path: "a" });');
    expect(describeCallingLines(SOURCE, 'writeFile')).toBe(
      'one of\nline 2: await tools.writeFile({ path: "b", content: a.content });\nline 5: await tools?.writeFile({ path: "c", content: "" });',
    );
    const many = Array.from({ length: 5 }, (_, index) => `await tools.echo({ text: "${index}" });`).join('\n');
    expect(describeCallingLines(many, 'echo')).toBe(
      'one of\nline 1: await tools.echo({ text: "0" });\nline 2: await tools.echo({ text: "1" });\nline 3: await tools.echo({ text: "2" });\n(and 2 more)',
    );
    expect(describeCallingLines(SOURCE, 'exec')).toBeUndefined();
  });
});
